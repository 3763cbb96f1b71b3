// NEON matmul tiles with the 8-bit matrix multiply extension (SMMLA, vmmlaq_s32; built
// with -march=armv8.2-a+dotprod+i8mm, used by the neon level only where the CPU has
// i8mm): Q4_0, Q8_0, Q4_K, Q5_K and Q6_K weights over several tokens (prompts). One SMMLA
// multiplies a 2x8 block of two weight rows by an 8x2 block of two tokens' activations,
// so each 32 weights of a 2-row x 2-token tile take 4 instructions instead of the 8 SDOT
// and 4 reductions of the dot-product tiles, and the per-row scales apply to all 4
// results of a sub-block at once. The integer sums per block and the float steps
// that scale and accumulate them are the scalar reference's, in its order: the results
// are bit-identical to it. Odd rows and an odd last token go to the dot-product tile.
#include <arm_neon.h>

#include "kernels/fp16.h"
#include "kernels/kernels_neon.h"
#include "kernels/neon_blocks.h"

namespace qwen3::neon {
namespace {

using detail::ActQ8;

// The 32 weights of block i of a row as signed bytes: v0 = weights 0..15, v1 = 16..31.
struct WQ4_0 {
  using Block = BlockQ4_0;
  static void load(const Block& b, int8x16_t* v0, int8x16_t* v1) {
    const uint8x16_t q = vld1q_u8(b.qs);
    *v0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
    *v1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
  }
};
struct WQ8_0 {
  using Block = BlockQ8_0;
  static void load(const Block& b, int8x16_t* v0, int8x16_t* v1) {
    *v0 = vld1q_s8(b.qs);
    *v1 = vld1q_s8(b.qs + 16);
  }
};

inline int8x16_t zip_lo(int8x16_t a, int8x16_t b) {  // bytes 0..7 of a, then of b
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
inline int8x16_t zip_hi(int8x16_t a, int8x16_t b) {  // bytes 8..15 of a, then of b
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

// Rows r, r+1 times tokens t, t+1: {y(r,t), y(r,t+1), y(r+1,t), y(r+1,t+1)}.
template <class W>
float32x4_t dot_2x2(int64_t n, const uint8_t* w0p, const uint8_t* w1p, const uint8_t* x0p,
                    const uint8_t* x1p) {
  const auto* w0 = reinterpret_cast<const typename W::Block*>(w0p);
  const auto* w1 = reinterpret_cast<const typename W::Block*>(w1p);
  const auto* x0 = reinterpret_cast<const ActQ8*>(x0p);
  const auto* x1 = reinterpret_cast<const ActQ8*>(x1p);
  float32x4_t sum = vdupq_n_f32(0.f);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int8x16_t a0, a1, b0, b1;
    W::load(w0[i], &a0, &a1);
    W::load(w1[i], &b0, &b1);
    const int8x16_t c0 = vld1q_s8(x0[i].qs), c1 = vld1q_s8(x0[i].qs + 16);
    const int8x16_t d0 = vld1q_s8(x1[i].qs), d1 = vld1q_s8(x1[i].qs + 16);
    int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), zip_lo(a0, b0), zip_lo(c0, d0));
    acc = vmmlaq_s32(acc, zip_hi(a0, b0), zip_hi(c0, d0));
    acc = vmmlaq_s32(acc, zip_lo(a1, b1), zip_lo(c1, d1));
    acc = vmmlaq_s32(acc, zip_hi(a1, b1), zip_hi(c1, d1));
    const float dw0 = fp16_to_fp32(w0[i].d), dw1 = fp16_to_fp32(w1[i].d);
    const float scale[4] = {dw0 * x0[i].d, dw0 * x1[i].d, dw1 * x0[i].d, dw1 * x1[i].d};
    sum = vaddq_f32(sum, vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(scale)));
  }
  return sum;
}

// K-quants (Q8_K activations): per sub-block (Q4_K, Q5_K: 32 weights) or group (Q6_K: 16)
// the 2x2 integer dots times each row's scale, summed as integers like the reference.
template <class Block, bool kFive>
struct KQ45 {
  static float32x4_t dot_2x2(int64_t n, const uint8_t* w0p, const uint8_t* w1p, const uint8_t* x0p,
                             const uint8_t* x1p) {
    const auto* w0 = reinterpret_cast<const Block*>(w0p);
    const auto* w1 = reinterpret_cast<const Block*>(w1p);
    const auto* x0 = reinterpret_cast<const BlockQ8_K*>(x0p);
    const auto* x1 = reinterpret_cast<const BlockQ8_K*>(x1p);
    float32x4_t sum = vdupq_n_f32(0.f);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      int8x16_t qa[16], qb[16];
      uint8_t sa[8], ma[8], sb[8], mb[8];
      unpack_qk<kFive>(w0[i], qa, sa, ma);
      unpack_qk<kFive>(w1[i], qb, sb, mb);
      const BlockQ8_K& a0 = x0[i];
      const BlockQ8_K& a1 = x1[i];
      int32x4_t sumi = vdupq_n_s32(0);
      int32_t summ[4] = {0, 0, 0, 0};
      for (int j = 0; j < 8; ++j) {
        const int8x16_t c0 = vld1q_s8(a0.qs + 32 * j), c1 = vld1q_s8(a0.qs + 32 * j + 16);
        const int8x16_t d0 = vld1q_s8(a1.qs + 32 * j), d1 = vld1q_s8(a1.qs + 32 * j + 16);
        int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), zip_lo(qa[2 * j], qb[2 * j]), zip_lo(c0, d0));
        acc = vmmlaq_s32(acc, zip_hi(qa[2 * j], qb[2 * j]), zip_hi(c0, d0));
        acc = vmmlaq_s32(acc, zip_lo(qa[2 * j + 1], qb[2 * j + 1]), zip_lo(c1, d1));
        acc = vmmlaq_s32(acc, zip_hi(qa[2 * j + 1], qb[2 * j + 1]), zip_hi(c1, d1));
        const int32_t s[4] = {sa[j], sa[j], sb[j], sb[j]};
        sumi = vmlaq_s32(sumi, acc, vld1q_s32(s));
        const int32_t bs0 = a0.bsums[2 * j] + a0.bsums[2 * j + 1];
        const int32_t bs1 = a1.bsums[2 * j] + a1.bsums[2 * j + 1];
        summ[0] += ma[j] * bs0;
        summ[1] += ma[j] * bs1;
        summ[2] += mb[j] * bs0;
        summ[3] += mb[j] * bs1;
      }
      const float da = fp16_to_fp32(w0[i].d), db = fp16_to_fp32(w1[i].d);
      const float ma_ = fp16_to_fp32(w0[i].dmin), mb_ = fp16_to_fp32(w1[i].dmin);
      const float dd[4] = {da * a0.d, da * a1.d, db * a0.d, db * a1.d};
      const float dm[4] = {ma_ * a0.d, ma_ * a1.d, mb_ * a0.d, mb_ * a1.d};
      const float32x4_t pos = vmulq_f32(vld1q_f32(dd), vcvtq_f32_s32(sumi));
      const float32x4_t neg = vmulq_f32(vld1q_f32(dm), vcvtq_f32_s32(vld1q_s32(summ)));
      sum = vaddq_f32(sum, vsubq_f32(pos, neg));
    }
    return sum;
  }
};

struct KQ6 {
  static float32x4_t dot_2x2(int64_t n, const uint8_t* w0p, const uint8_t* w1p, const uint8_t* x0p,
                             const uint8_t* x1p) {
    const auto* w0 = reinterpret_cast<const BlockQ6_K*>(w0p);
    const auto* w1 = reinterpret_cast<const BlockQ6_K*>(w1p);
    const auto* x0 = reinterpret_cast<const BlockQ8_K*>(x0p);
    const auto* x1 = reinterpret_cast<const BlockQ8_K*>(x1p);
    float32x4_t sum = vdupq_n_f32(0.f);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      int8x16_t qa[16], qb[16];
      unpack_q6_K(w0[i], qa);
      unpack_q6_K(w1[i], qb);
      int32x4_t sumi = vdupq_n_s32(0);
      for (int g = 0; g < 16; ++g) {
        const int8x16_t c = vld1q_s8(x0[i].qs + 16 * g), d = vld1q_s8(x1[i].qs + 16 * g);
        int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), zip_lo(qa[g], qb[g]), zip_lo(c, d));
        acc = vmmlaq_s32(acc, zip_hi(qa[g], qb[g]), zip_hi(c, d));
        const int32_t s[4] = {w0[i].scales[g], w0[i].scales[g], w1[i].scales[g], w1[i].scales[g]};
        sumi = vmlaq_s32(sumi, acc, vld1q_s32(s));
      }
      const float da = fp16_to_fp32(w0[i].d), db = fp16_to_fp32(w1[i].d);
      const float dd[4] = {da * x0[i].d, da * x1[i].d, db * x0[i].d, db * x1[i].d};
      sum = vaddq_f32(sum, vmulq_f32(vld1q_f32(dd), vcvtq_f32_s32(sumi)));
    }
    return sum;
  }
};

template <class W>
struct Legacy {
  static float32x4_t dot_2x2(int64_t n, const uint8_t* w0p, const uint8_t* w1p, const uint8_t* x0p,
                             const uint8_t* x1p) {
    return qwen3::neon::dot_2x2<W>(n, w0p, w1p, x0p, x1p);
  }
};

template <class K, GgmlType kType>
void tile_mm(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nt,
             float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* xb = static_cast<const uint8_t*>(x);
  const int nr2 = nr & ~1, nt2 = nt & ~1;
  for (int t = 0; t < nt2; t += 2)
    for (int r = 0; r < nr2; r += 2) {
      const float32x4_t s =
          K::dot_2x2(n, wb + r * ws, wb + (r + 1) * ws, xb + t * xs, xb + (t + 1) * xs);
      y[t * ldy + r] = vgetq_lane_f32(s, 0);
      y[(t + 1) * ldy + r] = vgetq_lane_f32(s, 1);
      y[t * ldy + r + 1] = vgetq_lane_f32(s, 2);
      y[(t + 1) * ldy + r + 1] = vgetq_lane_f32(s, 3);
    }
  const detail::TileFn dot = tile_dotprod(kType);
  if (nr2 < nr) dot(n, wb + nr2 * ws, ws, 1, x, xs, nt, y + nr2, ldy);
  if (nt2 < nt && nr2 > 0) dot(n, w, ws, nr2, xb + nt2 * xs, xs, 1, y + nt2 * ldy, ldy);
}

}  // namespace

detail::TileFn tile_i8mm(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return tile_mm<Legacy<WQ4_0>, GgmlType::Q4_0>;
    case GgmlType::Q8_0:
      return tile_mm<Legacy<WQ8_0>, GgmlType::Q8_0>;
    case GgmlType::Q4_K:
      return tile_mm<KQ45<BlockQ4_K, false>, GgmlType::Q4_K>;
    case GgmlType::Q5_K:
      return tile_mm<KQ45<BlockQ5_K, true>, GgmlType::Q5_K>;
    case GgmlType::Q6_K:
      return tile_mm<KQ6, GgmlType::Q6_K>;
    default:
      return nullptr;
  }
}

}  // namespace qwen3::neon
