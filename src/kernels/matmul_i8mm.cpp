// NEON matmul tiles with the 8-bit matrix multiply extension (SMMLA, vmmlaq_s32; built
// with -march=armv8.2-a+dotprod+i8mm, used by the neon level only where the CPU has
// i8mm): Q4_0 and Q8_0 weights over several tokens (prompts). One SMMLA multiplies a 2x8
// block of two weight rows by an 8x2 block of two tokens' activations, so each 32-weight
// block of a 2-row x 2-token tile takes 4 instructions instead of the 8 SDOT and 4
// reductions of the dot-product tiles. The integer sums per block and the float steps
// that scale and accumulate them are the scalar reference's, in its order: the results
// are bit-identical to it. Odd rows and an odd last token go to the dot-product tile.
#include <arm_neon.h>

#include <type_traits>

#include "kernels/fp16.h"
#include "kernels/kernels_neon.h"

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

template <class W>
void tile_mm(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nt,
             float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* xb = static_cast<const uint8_t*>(x);
  const int nr2 = nr & ~1, nt2 = nt & ~1;
  for (int t = 0; t < nt2; t += 2)
    for (int r = 0; r < nr2; r += 2) {
      const float32x4_t s =
          dot_2x2<W>(n, wb + r * ws, wb + (r + 1) * ws, xb + t * xs, xb + (t + 1) * xs);
      y[t * ldy + r] = vgetq_lane_f32(s, 0);
      y[(t + 1) * ldy + r] = vgetq_lane_f32(s, 1);
      y[t * ldy + r + 1] = vgetq_lane_f32(s, 2);
      y[(t + 1) * ldy + r + 1] = vgetq_lane_f32(s, 3);
    }
  const detail::TileFn dot =
      tile_dotprod(std::is_same_v<W, WQ4_0> ? GgmlType::Q4_0 : GgmlType::Q8_0);
  if (nr2 < nr) dot(n, wb + nr2 * ws, ws, 1, x, xs, nt, y + nr2, ldy);
  if (nt2 < nt && nr2 > 0) dot(n, w, ws, nr2, xb + nt2 * xs, xs, 1, y + nt2 * ldy, ldy);
}

}  // namespace

detail::TileFn tile_i8mm(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return tile_mm<WQ4_0>;
    case GgmlType::Q8_0:
      return tile_mm<WQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace qwen3::neon
