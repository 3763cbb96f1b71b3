#include "kernels/fp16.h"

#include <cstring>

#include "kernels/cpu_features.h"
#include "kernels/kernels_avx2.h"

namespace qwen3 {
namespace {

inline float from_bits(uint32_t w) {
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}
inline uint32_t to_bits(float f) {
  uint32_t w;
  std::memcpy(&w, &f, 4);
  return w;
}

// The branch-free conversions ggml takes from the FP16 library (Maratyszcza).
float fp16_to_fp32_compute(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const uint32_t exp_offset = 0xE0u << 23;
  const float normalized = from_bits((two_w >> 4) + exp_offset) * 0x1.0p-112f;
  const uint32_t magic_mask = 126u << 23;
  const float denormalized = from_bits((two_w >> 17) | magic_mask) - 0.5f;
  const uint32_t cutoff = 1u << 27;
  return from_bits(sign | (two_w < cutoff ? to_bits(denormalized) : to_bits(normalized)));
}

struct Fp16Table {
  float v[65536];
  Fp16Table() {
    for (uint32_t i = 0; i < 65536; ++i) v[i] = fp16_to_fp32_compute(static_cast<uint16_t>(i));
  }
};
const Fp16Table& table() {
  static const Fp16Table t;
  return t;
}

}  // namespace

float fp16_to_fp32(uint16_t h) {
  return table().v[h];
}

uint16_t fp32_to_fp16(float f) {
  float base = (__builtin_fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = from_bits((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = to_bits(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float bf16_to_fp32(uint16_t h) {
  return from_bits(static_cast<uint32_t>(h) << 16);
}

uint16_t fp32_to_bf16(float f) {
  const uint32_t u = to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::fp16_to_fp32_row(src, dst, n);
#endif
  const Fp16Table& t = table();
  for (int64_t i = 0; i < n; ++i) dst[i] = t.v[src[i]];
}

void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::fp32_to_fp16_row(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::bf16_to_fp32_row(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(src[i]);
}

void fp32_to_bf16_row(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_bf16(src[i]);
}

}  // namespace qwen3
