// NEON activation quantizers: the 32-element ActQ8 blocks (Q4_0 / Q8_0 weights) and
// ggml's Q8_K (K-quants). Byte-identical to the scalar references (quantize_act_q8_ref,
// ref::quantize_q8_K): the same float products, FCVTNS rounds to nearest with ties to
// even like nearbyint / nearest_int, and Q8_K's sign comes from the first element of
// largest magnitude as in the reference.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "kernels/kernels_neon.h"

namespace qwen3::neon {

void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float32x4_t v[8];
    float32x4_t amaxv = vdupq_n_f32(0.f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(x + 4 * k);
      amaxv = vmaxq_f32(amaxv, vabsq_f32(v[k]));
    }
    const float amax = vmaxvq_f32(amaxv);
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    y[i].d = d;
    int32x4_t sum = vdupq_n_s32(0);
    for (int k = 0; k < 8; k += 2) {
      const int32x4_t a = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
      const int32x4_t b = vcvtnq_s32_f32(vmulq_n_f32(v[k + 1], id));
      sum = vaddq_s32(sum, vaddq_s32(a, b));
      vst1_s8(y[i].qs + 4 * k, vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b))));
    }
    y[i].sum = vaddvq_s32(sum);
  }
}

void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float32x4_t amaxv = vdupq_n_f32(0.f);
    for (int k = 0; k < kQK_K; k += 4) amaxv = vmaxq_f32(amaxv, vabsq_f32(vld1q_f32(x + k)));
    const float amax = vmaxvq_f32(amaxv);
    if (!amax) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    float max = 0.f;  // the first element of largest magnitude fixes the sign
    for (int j = 0; j < kQK_K; ++j)
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    const float iscale = -127.f / max;
    const int32x4_t top = vdupq_n_s32(127);
    for (int k = 0; k < kQK_K; k += 16) {
      int32x4_t q[4];
      for (int e = 0; e < 4; ++e)
        q[e] = vminq_s32(top, vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 4 * e), iscale)));
      const int16x8_t lo = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
      const int16x8_t hi = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
      const int8x16_t q8 = vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
      vst1q_s8(y[i].qs + k, q8);
      y[i].bsums[k / 16] = static_cast<int16_t>(vaddlvq_s8(q8));
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace qwen3::neon
