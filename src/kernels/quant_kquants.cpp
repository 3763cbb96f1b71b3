// The 256-element K-quant formats, transcribed from ggml-quants.c (quantize_row_*_ref
// with make_qx_quants / make_qkx2_quants, no importance matrix, and dequantize_row_*).
//
// The *_avx2 quantizers give the same bytes faster: the scale searches, which are nearly
// all the time, run for 8 sub-blocks at once, one per AVX2 lane. Each lane performs the
// scalar code's float operations in the scalar order (separate multiply and add, no FMA:
// the functions are compiled for "avx2" only, so none can be contracted; IEEE division
// and square root are exact in both), and data-dependent branches become per-lane
// selects, so every lane computes exactly what the scalar loop computes for its sub-block.
#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QWEN3_KQUANTS_AVX2 1
#endif

#include "kernels/fp16.h"
#include "kernels/quant_internal.h"

namespace qwen3::ref {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Symmetric scale search of ggml's make_qx_quants (qw == nullptr).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  if (rmse_type == 0) {
    for (int i = 0; i < n; ++i) {
      const int l = nearest_int(iscale * x[i]);
      L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
    }
    return 1 / iscale;
  }
  bool return_early = false;
  if (rmse_type < 0) {
    rmse_type = -rmse_type;
    return_early = true;
  }
  auto weight = [&](float v) -> float {
    return rmse_type == 1   ? v * v
           : rmse_type == 2 ? 1
           : rmse_type == 3 ? std::fabs(v)
                            : std::sqrt(std::fabs(v));
  };
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = weight(x[i]);
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = weight(x[i]);
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Asymmetric (scale, min) search of ggml's make_qkx2_quants.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

#ifdef QWEN3_KQUANTS_AVX2
#define KQ_AVX2 __attribute__((target("avx2")))

// nearest_int() of 8 floats (the same bit trick).
KQ_AVX2 inline __m256i nearest_int8(__m256 v) {
  const __m256i i = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
  return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)),
                          _mm256_set1_epi32(0x00400000));
}

KQ_AVX2 inline __m256i clamp8(__m256i v, int lo, int hi) {
  return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

KQ_AVX2 inline __m256 gt8(__m256 a, __m256 b) {
  return _mm256_cmp_ps(a, b, _CMP_GT_OQ);
}

KQ_AVX2 inline __m256 sel8(__m256 a, __m256 b, __m256 take_b) {
  return _mm256_blendv_ps(a, b, take_b);
}

KQ_AVX2 inline __m256i sel8i(__m256i a, __m256i b, __m256 take_b) {
  return _mm256_blendv_epi8(a, b, _mm256_castps_si256(take_b));
}

// make_qkx2_quants(32, nmax, x, w, L, &the_min, Laux, rmin, rdelta, nstep, false) for 8
// sub-blocks: lane j reads xt[8 * i + j], wt[8 * i + j] (i < 32) and writes
// Lt[8 * i + j], scale[j], the_min[j].
KQ_AVX2 void make_qkx2_quants_x8(int nmax, const float* xt, const float* wt, int32_t* Lt,
                                 float* scale_out, float* the_min_out, float rmin, float rdelta,
                                 int nstep) {
  constexpr int n = 32;
  const __m256 zero = _mm256_setzero_ps();
  __m256 mn = _mm256_loadu_ps(xt), mx = mn;
  __m256 sum_w = _mm256_loadu_ps(wt);
  __m256 sum_x = _mm256_mul_ps(sum_w, mn);
  for (int i = 1; i < n; ++i) {
    const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
    mn = sel8(mn, x, _mm256_cmp_ps(x, mn, _CMP_LT_OQ));
    mx = sel8(mx, x, gt8(x, mx));
    sum_w = _mm256_add_ps(sum_w, w);
    sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(w, x));
  }
  mn = sel8(mn, zero, gt8(mn, zero));
  const __m256 flat = _mm256_cmp_ps(mx, mn, _CMP_EQ_OQ);  // max == min: all zero
  const __m256 flat_min = mn;
  const __m256 fmax = _mm256_set1_ps(static_cast<float>(nmax));
  __m256 iscale = _mm256_div_ps(fmax, _mm256_sub_ps(mx, mn));
  __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
  __m256 best_error = zero;
  __m256i L[n], Laux[n];
  for (int i = 0; i < n; ++i) {
    const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
    L[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, mn))), 0, nmax);
    __m256 diff =
        _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(L[i])), mn), x);
    diff = _mm256_mul_ps(diff, diff);
    best_error = _mm256_add_ps(best_error, _mm256_mul_ps(w, diff));
  }
  for (int is = 0; is <= nstep; ++is) {
    const float num = rmin + rdelta * is + nmax;  // the scalar expression, in scalar
    iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(mx, mn));
    __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
      Laux[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, mn))), 0, nmax);
      const __m256 l = _mm256_cvtepi32_ps(Laux[i]);
      const __m256 wl = _mm256_mul_ps(w, l);
      sum_l = _mm256_add_ps(sum_l, wl);
      sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
      sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, x));
    }
    const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
    const __m256 d_pos = gt8(D, zero);
    if (_mm256_movemask_ps(d_pos) == 0) continue;
    __m256 this_scale =
        _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
    __m256 this_min =
        _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
    const __m256 min_pos = gt8(this_min, zero);
    this_min = sel8(this_min, zero, min_pos);
    this_scale = sel8(this_scale, _mm256_div_ps(sum_xl, sum_l2), min_pos);
    __m256 cur_error = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
      __m256 diff = _mm256_sub_ps(
          _mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(Laux[i])), this_min), x);
      diff = _mm256_mul_ps(diff, diff);
      cur_error = _mm256_add_ps(cur_error, _mm256_mul_ps(w, diff));
    }
    const __m256 better = _mm256_and_ps(d_pos, _mm256_cmp_ps(cur_error, best_error, _CMP_LT_OQ));
    if (_mm256_movemask_ps(better) == 0) continue;
    for (int i = 0; i < n; ++i) L[i] = sel8i(L[i], Laux[i], better);
    best_error = sel8(best_error, cur_error, better);
    scale = sel8(scale, this_scale, better);
    mn = sel8(mn, this_min, better);
  }
  const __m256 sign = _mm256_set1_ps(-0.0f);
  _mm256_storeu_ps(scale_out, sel8(scale, zero, flat));
  _mm256_storeu_ps(the_min_out, _mm256_xor_ps(sel8(mn, flat_min, flat), sign));
  for (int i = 0; i < n; ++i)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(Lt + 8 * i),
                        sel8i(L[i], _mm256_setzero_si256(), flat));
}

// The per-sub-block part of quantize_scales_mins_k for all 8 sub-blocks: the weights
// av_x + |x| and the (scale, min) search, as the scalar loop computes them.
KQ_AVX2 void scales_mins_x8(const float* x, int nmax, float rmin, int nstep, uint8_t* L,
                            float* scales, float* mins) {
  alignas(32) float xt[256], wt[256];
  alignas(32) int32_t Lt[256];
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 32; ++i) xt[8 * i + j] = x[32 * j + i];
  __m256 sum_x2 = _mm256_setzero_ps();
  for (int i = 0; i < 32; ++i) {
    const __m256 v = _mm256_load_ps(xt + 8 * i);
    sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(v, v));
  }
  const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int i = 0; i < 32; ++i)
    _mm256_store_ps(wt + 8 * i,
                    _mm256_add_ps(av_x, _mm256_and_ps(_mm256_load_ps(xt + 8 * i), abs_mask)));
  make_qkx2_quants_x8(nmax, xt, wt, Lt, scales, mins, rmin, 0.1f, nstep);
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 32; ++i) L[32 * j + i] = static_cast<uint8_t>(Lt[8 * i + j]);
}

// make_qx_quants(16, 32, x, L, 1) (Q6_K's search, weights x^2) for 8 groups of 16: lane g
// reads xt[8 * i + g] and writes Lt[8 * i + g] and scale[g].
KQ_AVX2 void make_qx_quants_q6_x8(const float* xt, int32_t* Lt, float* scale_out) {
  constexpr int n = 16, nmax = 32;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 max = zero, amax = zero;
  for (int i = 0; i < n; ++i) {
    const __m256 x = _mm256_loadu_ps(xt + 8 * i);
    const __m256 ax = _mm256_and_ps(x, abs_mask);
    const __m256 g = gt8(ax, amax);
    amax = sel8(amax, ax, g);
    max = sel8(max, x, g);
  }
  const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
  __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), max);
  __m256 sumlx = zero, suml2 = zero;
  __m256i L[n], Lnew[n];
  for (int i = 0; i < n; ++i) {
    const __m256 x = _mm256_loadu_ps(xt + 8 * i);
    const __m256i li = clamp8(nearest_int8(_mm256_mul_ps(iscale, x)), -nmax, nmax - 1);
    L[i] = _mm256_add_epi32(li, _mm256_set1_epi32(nmax));
    const __m256 l = _mm256_cvtepi32_ps(li);
    const __m256 w = _mm256_mul_ps(x, x);
    sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, x), l));
    suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, l), l));
  }
  __m256 scale = sel8(_mm256_div_ps(sumlx, suml2), zero, _mm256_cmp_ps(suml2, zero, _CMP_EQ_OQ));
  __m256 best = _mm256_mul_ps(scale, sumlx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float num = -(nmax + 0.1f * is);  // the scalar expression, in scalar
    iscale = _mm256_div_ps(_mm256_set1_ps(num), max);
    sumlx = suml2 = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 x = _mm256_loadu_ps(xt + 8 * i);
      const __m256i li = clamp8(nearest_int8(_mm256_mul_ps(iscale, x)), -nmax, nmax - 1);
      Lnew[i] = li;
      const __m256 l = _mm256_cvtepi32_ps(li);
      const __m256 w = _mm256_mul_ps(x, x);
      sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, x), l));
      suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, l), l));
    }
    const __m256 better = _mm256_and_ps(
        gt8(suml2, zero), gt8(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2)));
    if (_mm256_movemask_ps(better) == 0) continue;
    for (int i = 0; i < n; ++i)
      L[i] = sel8i(L[i], _mm256_add_epi32(Lnew[i], _mm256_set1_epi32(nmax)), better);
    const __m256 s = _mm256_div_ps(sumlx, suml2);
    scale = sel8(scale, s, better);
    best = sel8(best, _mm256_mul_ps(s, sumlx), better);
  }
  _mm256_storeu_ps(scale_out, sel8(scale, zero, tiny));
  for (int i = 0; i < n; ++i)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(Lt + 8 * i),
                        sel8i(L[i], _mm256_setzero_si256(), tiny));
}

KQ_AVX2 void q6_scales_x16(const float* x, int8_t* L, float* scales) {
  alignas(32) float xt[128];
  alignas(32) int32_t Lt[128];
  for (int half = 0; half < 2; ++half) {
    const float* xb = x + 128 * half;
    for (int g = 0; g < 8; ++g)
      for (int i = 0; i < 16; ++i) xt[8 * i + g] = xb[16 * g + i];
    make_qx_quants_q6_x8(xt, Lt, scales + 8 * half);
    for (int g = 0; g < 8; ++g)
      for (int i = 0; i < 16; ++i) L[128 * half + 16 * g + i] = static_cast<int8_t>(Lt[8 * i + g]);
  }
}
#endif  // QWEN3_KQUANTS_AVX2

// Shared by Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
void quantize_scales_mins_k(const float* x, int nmax, float rmin, int nstep, uint8_t* L,
                            uint8_t* packed, uint16_t* d_out, uint16_t* dmin_out, bool simd) {
  uint8_t Laux[32];
  float weights[32], mins[kQK_K / 32], scales[kQK_K / 32];
  float max_scale = 0, max_min = 0;
#ifdef QWEN3_KQUANTS_AVX2
  if (simd) scales_mins_x8(x, nmax, rmin, nstep, L, scales, mins);
#else
  simd = false;
#endif
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (!simd) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
      scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                   0.1f, nstep, false);
    }
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed, 0, kKScaleSize);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {
      packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, packed, &sc, &m);
    const float d = fp16_to_fp32(*d_out) * sc;
    if (!d) continue;
    const float dm = fp16_to_fp32(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

void q4_K_impl(const float* x, BlockQ4_K* y, int64_t n, bool simd) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_scales_mins_k(x, 15, -1.f, 20, L, y[i].scales, &y[i].d, &y[i].dmin, simd);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void q5_K_impl(const float* x, BlockQ5_K* y, int64_t n, bool simd) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_scales_mins_k(x, 31, -0.5f, 15, L, y[i].scales, &y[i].d, &y[i].dmin, simd);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n0 = 0; n0 < kQK_K; n0 += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n0 + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        int l2 = L[n0 + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void q6_K_impl(const float* x, BlockQ6_K* y, int64_t n, bool simd) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
#ifndef QWEN3_KQUANTS_AVX2
  simd = false;
#endif
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
#ifdef QWEN3_KQUANTS_AVX2
    if (simd) q6_scales_x16(x, L, scales);
#endif
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = simd ? scales[ib] : make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      y[i].d = fp32_to_fp16(0.f);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * y[i].scales[j];
      if (!d) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearest_int(x[16 * j + ii] / d);
        l = std::max(-32, std::min(31, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                     ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n) {
  q4_K_impl(x, y, n, false);
}
void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t n) {
  q5_K_impl(x, y, n, false);
}
void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n) {
  q6_K_impl(x, y, n, false);
}

#ifdef QWEN3_KQUANTS_AVX2
void quantize_q4_K_avx2(const float* x, BlockQ4_K* y, int64_t n) {
  q4_K_impl(x, y, n, true);
}
void quantize_q5_K_avx2(const float* x, BlockQ5_K* y, int64_t n) {
  q5_K_impl(x, y, n, true);
}
void quantize_q6_K_avx2(const float* x, BlockQ6_K* y, int64_t n) {
  q6_K_impl(x, y, n, true);
}
#else
void quantize_q4_K_avx2(const float* x, BlockQ4_K* y, int64_t n) {
  quantize_q4_K(x, y, n);
}
void quantize_q5_K_avx2(const float* x, BlockQ5_K* y, int64_t n) {
  quantize_q5_K(x, y, n);
}
void quantize_q6_K_avx2(const float* x, BlockQ6_K* y, int64_t n) {
  quantize_q6_K(x, y, n);
}
#endif

void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (!amax) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j)
      y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q = x[i].qs;
    const float d = fp16_to_fp32(x[i].d), min = fp16_to_fp32(x[i].dmin);
    for (int j = 0, is = 0; j < kQK_K; j += 64, q += 32, is += 2) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = fp16_to_fp32(x[i].d), min = fp16_to_fp32(x[i].dmin);
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < kQK_K; j += 64, ql += 32, is += 2) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n0 = 0; n0 < kQK_K; n0 += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K)
    for (int j = 0; j < kQK_K; ++j) y[j] = x[i].d * x[i].qs[j];
}

}  // namespace qwen3::ref
