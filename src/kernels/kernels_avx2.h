// AVX2+FMA+F16C versions of the kernels (defined in *_avx2.cpp, built with those flags).
// Call only when use_avx2() is true.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/matmul_internal.h"
#include "kernels/quant.h"

namespace qwen3::avx2 {

void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);

void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);
void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n);

// Matmul tiles (TileFn, matmul_internal.h) of each family of weight types; nullptr for
// a type of another family. detail::tile_avx2 asks them in turn.
detail::TileFn tile_float(GgmlType t);    // F32, F16, BF16 (matmul_float_avx2.cpp)
detail::TileFn tile_legacy(GgmlType t);   // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (matmul_legacy_avx2.cpp)
detail::TileFn tile_kquants(GgmlType t);  // Q4_K, Q5_K, Q6_K (matmul_kquants_avx2.cpp)

// Kernels of the rows8 layout (rows8.h), for Q4_0, Q8_0, Q4_K, Q5_K and Q6_K (nullptr
// otherwise); see detail::Rows8Fn.
detail::Rows8Fn rows8_kernel(GgmlType t);
// The same for 8 plain rows, packed on the fly (pays off from about 4 tokens on).
void rows8_from_plain(GgmlType t, int64_t n, const void* w, size_t ws, const void* x, size_t xs,
                      int nt, float* y, int64_t ldy);

// ops.h kernels
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);
void softmax(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);
void scale(float* x, float s, int64_t n);
float dot_f32(const float* a, const float* b, int64_t n);
void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin);
void attn_scores_f32(const float* k, int64_t n, int dim, const float* q, float scale,
                     float* scores);
void attn_mix_f32(const float* v, int64_t n, int dim, const float* p, float* out);

}  // namespace qwen3::avx2
