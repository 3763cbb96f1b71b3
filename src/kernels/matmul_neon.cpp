// NEON matmul tiles over plain rows (AArch64 Advanced SIMD + the dot product extension,
// SDOT; built with -march=armv8.2-a+dotprod, run only at the neon level).
//
// Q4_0, Q8_0, Q4_K, Q5_K and Q6_K: each weight block is unpacked to signed 8-bit lanes once
// and dotted with the 8-bit activations of up to 8 tokens (vdotq_s32). The integer sums
// per block and the float steps that scale and accumulate them are the scalar
// reference's (vec_dot_ref.cpp), in its order, so the results are bit-identical to it.
// F32, F16 and BF16 weights take float multiply-adds with four accumulators: a different
// summation order than the reference, so those match it within rounding only.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/kernels_neon.h"
#include "kernels/neon_blocks.h"

namespace qwen3::neon {
namespace {

using detail::ActQ8;

// Tokens whose dot products share one unpacking of a weight block.
constexpr int kTokBlock = 8;

// Drives a row kernel over nr rows and nt tokens: Kernel::row(n, row, x rows, tn, sums).
template <class Kernel>
void tile_rows(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nt,
               float* y, int64_t ldy) {
  for (int t0 = 0; t0 < nt; t0 += kTokBlock) {
    const int tn = std::min(kTokBlock, nt - t0);
    const uint8_t* xr[kTokBlock];
    for (int t = 0; t < tn; ++t) xr[t] = static_cast<const uint8_t*>(x) + (t0 + t) * xs;
    for (int r = 0; r < nr; ++r) {
      float sum[kTokBlock];
      Kernel::row(n, static_cast<const uint8_t*>(w) + r * ws, xr, tn, sum);
      for (int t = 0; t < tn; ++t) y[(t0 + t) * ldy + r] = sum[t];
    }
  }
}

inline int32_t dot32(int8x16_t w0, int8x16_t w1, const int8_t* a) {
  int32x4_t acc = vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(a));
  acc = vdotq_s32(acc, w1, vld1q_s8(a + 16));
  return vaddvq_s32(acc);
}

struct RowQ4_0 {
  static void row(int64_t n, const uint8_t* wp, const uint8_t* const* xr, int tn, float* sum) {
    const auto* w = reinterpret_cast<const BlockQ4_0*>(wp);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int t = 0; t < tn; ++t) sum[t] = 0.f;
    for (int64_t i = 0; i < n / kQK; ++i) {
      const uint8x16_t q = vld1q_u8(w[i].qs);
      const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8);
      const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8);
      const float dw = fp16_to_fp32(w[i].d);
      for (int t = 0; t < tn; ++t) {
        const ActQ8& a = reinterpret_cast<const ActQ8*>(xr[t])[i];
        sum[t] += static_cast<float>(dot32(lo, hi, a.qs)) * (dw * a.d);
      }
    }
  }
};

struct RowQ8_0 {
  static void row(int64_t n, const uint8_t* wp, const uint8_t* const* xr, int tn, float* sum) {
    const auto* w = reinterpret_cast<const BlockQ8_0*>(wp);
    for (int t = 0; t < tn; ++t) sum[t] = 0.f;
    for (int64_t i = 0; i < n / kQK; ++i) {
      const int8x16_t q0 = vld1q_s8(w[i].qs), q1 = vld1q_s8(w[i].qs + 16);
      const float dw = fp16_to_fp32(w[i].d);
      for (int t = 0; t < tn; ++t) {
        const ActQ8& a = reinterpret_cast<const ActQ8*>(xr[t])[i];
        sum[t] += static_cast<float>(dot32(q0, q1, a.qs)) * (dw * a.d);
      }
    }
  }
};

// Q4_K / Q5_K: sum over the 8 sub-blocks of scale * dot(q, q8) minus min * sum(q8), the
// sums of q8 taken from Q8_K's bsums. Q5_K's fifth bit of weight l of sub-block j is bit
// j of qh[l].
template <class Block, bool kFive>
struct RowQK {
  static void row(int64_t n, const uint8_t* wp, const uint8_t* const* xr, int tn, float* sum) {
    const auto* w = reinterpret_cast<const Block*>(wp);
    for (int t = 0; t < tn; ++t) sum[t] = 0.f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      uint8_t sc[8], mn[8];
      int8x16_t q[16];  // sub-block j: q[2j], q[2j + 1]
      unpack_qk<kFive>(w[i], q, sc, mn);
      const float dw = fp16_to_fp32(w[i].d), dmin = fp16_to_fp32(w[i].dmin);
      for (int t = 0; t < tn; ++t) {
        const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(xr[t])[i];
        int32x4_t acc = vdupq_n_s32(0);
        int32_t summ = 0;
        for (int j = 0; j < 8; ++j) {
          int32x4_t d = vdotq_s32(vdupq_n_s32(0), q[2 * j], vld1q_s8(a.qs + 32 * j));
          d = vdotq_s32(d, q[2 * j + 1], vld1q_s8(a.qs + 32 * j + 16));
          acc = vmlaq_n_s32(acc, d, sc[j]);
          summ += mn[j] * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum[t] += dw * a.d * static_cast<float>(sumi) - dmin * a.d * static_cast<float>(summ);
      }
    }
  }
};

// Q6_K: 16 groups of 16 weights, each (4 low bits | 2 high bits << 4) - 32, one int8
// scale per group.
struct RowQ6_K {
  static void row(int64_t n, const uint8_t* wp, const uint8_t* const* xr, int tn, float* sum) {
    const auto* w = reinterpret_cast<const BlockQ6_K*>(wp);
    for (int t = 0; t < tn; ++t) sum[t] = 0.f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      int8x16_t q[16];  // group g: weights 16g .. 16g + 15
      unpack_q6_K(w[i], q);
      const float dw = fp16_to_fp32(w[i].d);
      for (int t = 0; t < tn; ++t) {
        const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(xr[t])[i];
        int32x4_t acc = vdupq_n_s32(0);
        for (int g = 0; g < 16; ++g)
          acc = vmlaq_n_s32(acc, vdotq_s32(vdupq_n_s32(0), q[g], vld1q_s8(a.qs + 16 * g)),
                            w[i].scales[g]);
        sum[t] += dw * a.d * static_cast<float>(vaddvq_s32(acc));
      }
    }
  }
};

// Float weights: 16 per step into four accumulators, the tail (n % 16) in scalar code.
struct LoadF32 {
  using T = float;
  static float32x4_t load(const float* p) { return vld1q_f32(p); }
  static float one(float v) { return v; }
};
struct LoadF16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  }
  static float one(uint16_t v) { return fp16_to_fp32(v); }
};
struct LoadBF16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
  }
  static float one(uint16_t v) { return bf16_to_fp32(v); }
};

template <class L>
struct RowFloat {
  static void row(int64_t n, const uint8_t* wp, const uint8_t* const* xr, int tn, float* sum) {
    const auto* w = reinterpret_cast<const typename L::T*>(wp);
    for (int t = 0; t < tn; ++t) {
      const auto* x = reinterpret_cast<const float*>(xr[t]);
      float32x4_t acc[4] = {vdupq_n_f32(0.f), vdupq_n_f32(0.f), vdupq_n_f32(0.f), vdupq_n_f32(0.f)};
      int64_t i = 0;
      for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 4; ++k)
          acc[k] = vfmaq_f32(acc[k], L::load(w + i + 4 * k), vld1q_f32(x + i + 4 * k));
      float s = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
      for (; i < n; ++i) s += L::one(w[i]) * x[i];
      sum[t] = s;
    }
  }
};

}  // namespace

detail::TileFn tile(GgmlType t) {
  if (cpu_features().i8mm)
    if (const detail::TileFn f = tile_i8mm(t)) return f;
  return tile_dotprod(t);
}

detail::TileFn tile_dotprod(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
      return tile_rows<RowFloat<LoadF32>>;
    case GgmlType::F16:
      return tile_rows<RowFloat<LoadF16>>;
    case GgmlType::BF16:
      return tile_rows<RowFloat<LoadBF16>>;
    case GgmlType::Q4_0:
      return tile_rows<RowQ4_0>;
    case GgmlType::Q8_0:
      return tile_rows<RowQ8_0>;
    case GgmlType::Q4_K:
      return tile_rows<RowQK<BlockQ4_K, false>>;
    case GgmlType::Q5_K:
      return tile_rows<RowQK<BlockQ5_K, true>>;
    case GgmlType::Q6_K:
      return tile_rows<RowQ6_K>;
    default:
      return detail::tile_ref(t);
  }
}

}  // namespace qwen3::neon
