// Per-type row functions behind quant.h's dispatch (scalar reference versions).
#pragma once

#include <cstdint>

#include "kernels/quant.h"

namespace qwen3::ref {

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_q8_1(const float* x, BlockQ8_1* y, int64_t n);
void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n);
void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t n);
void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);

// The same bytes as quantize_q4_K / q5_K / q6_K, with the scale searches of 8 sub-blocks
// in AVX2 lanes (quant_kquants.cpp explains why the output is identical). Only when
// use_avx2(); on other targets these are the scalar functions.
void quantize_q4_K_avx2(const float* x, BlockQ4_K* y, int64_t n);
void quantize_q5_K_avx2(const float* x, BlockQ5_K* y, int64_t n);
void quantize_q6_K_avx2(const float* x, BlockQ6_K* y, int64_t n);

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_q8_1(const BlockQ8_1* x, float* y, int64_t n);
void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n);

// Round to nearest, ties to even, as ggml's nearest_int (|v| < 2^22).
inline int nearest_int(float v) {
  float f = v + 12582912.f;
  int32_t i;
  __builtin_memcpy(&i, &f, 4);
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace qwen3::ref
