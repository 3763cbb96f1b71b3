// IEEE half (fp16) and bfloat16 conversions, bit-exact with ggml: fp32 -> fp16 and
// fp32 -> bf16 round to nearest even; bf16 NaNs stay quiet NaNs.
#pragma once

#include <cstdint>

namespace qwen3 {

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

// Row versions (F16C on CPUs that have it).
void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

}  // namespace qwen3
