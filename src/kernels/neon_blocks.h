// Unpacking of K-quant weight blocks to signed 8-bit NEON vectors, shared by the
// dot-product tiles (matmul_neon.cpp) and the i8mm tiles (matmul_i8mm.cpp). Included
// only by *_neon.cpp / *_i8mm.cpp (AArch64); the functions sit in an unnamed namespace
// so each file keeps its own copy, compiled with its own target flags.
#pragma once

#include <arm_neon.h>

#include <type_traits>

#include "kernels/quant.h"

namespace qwen3::neon {
namespace {

// Q4_K / Q5_K block: q[2j], q[2j + 1] = the 32 weights of sub-block j (0..15 / 0..31,
// the fifth bit included for Q5_K: bit j of qh[l]), sc / mn = its 6-bit scale and min.
template <bool kFive, class Block>
inline void unpack_qk(const Block& b, int8x16_t q[16], uint8_t sc[8], uint8_t mn[8]) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  for (int j = 0; j < 8; ++j) get_scale_min_k4(j, b.scales, &sc[j], &mn[j]);
  for (int p = 0; p < 4; ++p) {
    const uint8x16_t lo = vld1q_u8(b.qs + 32 * p), hi = vld1q_u8(b.qs + 32 * p + 16);
    q[4 * p + 0] = vreinterpretq_s8_u8(vandq_u8(lo, m4));
    q[4 * p + 1] = vreinterpretq_s8_u8(vandq_u8(hi, m4));
    q[4 * p + 2] = vreinterpretq_s8_u8(vshrq_n_u8(lo, 4));
    q[4 * p + 3] = vreinterpretq_s8_u8(vshrq_n_u8(hi, 4));
  }
  if constexpr (kFive) {
    const uint8x16_t h0 = vld1q_u8(b.qh), h1 = vld1q_u8(b.qh + 16);
    const uint8x16_t b4 = vdupq_n_u8(0x10);
    for (int j = 0; j < 8; ++j) {
      const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << j));
      q[2 * j] = vorrq_s8(q[2 * j], vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, bit), b4)));
      q[2 * j + 1] = vorrq_s8(q[2 * j + 1], vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, bit), b4)));
    }
  }
}

// Q6_K block: q[g] = weights 16g .. 16g + 15, each (4 low bits | 2 high bits << 4) - 32.
inline void unpack_q6_K(const BlockQ6_K& b, int8x16_t q[16]) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
  const int8x16_t s32 = vdupq_n_s8(32);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    for (int k = 0; k < 2; ++k) {
      const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
      const uint8x16_t hb = vld1q_u8(qh + 16 * k);
      const uint8x16_t v0 = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
      const uint8x16_t v1 =
          vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
      const uint8x16_t v2 =
          vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
      const uint8x16_t v3 = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
      q[8 * h + 0 + k] = vsubq_s8(vreinterpretq_s8_u8(v0), s32);
      q[8 * h + 2 + k] = vsubq_s8(vreinterpretq_s8_u8(v1), s32);
      q[8 * h + 4 + k] = vsubq_s8(vreinterpretq_s8_u8(v2), s32);
      q[8 * h + 6 + k] = vsubq_s8(vreinterpretq_s8_u8(v3), s32);
    }
  }
}

}  // namespace
}  // namespace qwen3::neon
