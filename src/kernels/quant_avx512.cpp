// AVX-512 activation quantizers: the same bytes as the scalar references (and the AVX2
// versions): same scale arithmetic, round half to even, the same clamps. Q8_K finds the
// first element of largest magnitude with a compare mask instead of a scalar scan, and
// its 16-element sums with one reduction per vector.
// Built with the AVX-512 flags; called only through the avx512 kernel table.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include "kernels/kernels_avx512.h"

namespace qwen3::avx512 {
namespace {

inline __m512 abs_ps(__m512 v) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}

// r[i] = the lanes of v[i] reduced by op, for 16 vectors at once: four levels of
// pairwise shuffles (128-bit lanes, then elements within them) leave lane l's element e
// holding v[l + 4e]; one permute puts them in order. Max and integer sums are exact in
// any order, so the results equal one reduction per vector.
template <class Op>
__m512i hreduce16(const __m512i* v, Op op) {
  __m512i w[8], x4[4], y2[2];
  for (int k = 0; k < 8; ++k)  // 128-bit lanes: [v 0+2, v 1+3] of v[2k] and of v[2k+1]
    w[k] = op(_mm512_shuffle_i32x4(v[2 * k], v[2 * k + 1], 0x44),
              _mm512_shuffle_i32x4(v[2 * k], v[2 * k + 1], 0xEE));
  for (int k = 0; k < 4; ++k)  // lane j: v[4k + j] folded to 4 elements
    x4[k] = op(_mm512_shuffle_i32x4(w[2 * k], w[2 * k + 1], 0x88),
               _mm512_shuffle_i32x4(w[2 * k], w[2 * k + 1], 0xDD));
  for (int k = 0; k < 2; ++k)  // lane j: [v[j] 2 elements, v[j + 4] 2 elements] (k = 0)
    y2[k] = op(_mm512_unpacklo_epi64(x4[2 * k], x4[2 * k + 1]),
               _mm512_unpackhi_epi64(x4[2 * k], x4[2 * k + 1]));
  const __m512i z = op(_mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(y2[0]),
                                                             _mm512_castsi512_ps(y2[1]), 0x88)),
                       _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(y2[0]),
                                                             _mm512_castsi512_ps(y2[1]), 0xDD)));
  // z[4l + e] = r[l + 4e]
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_epi32(idx, z);
}
inline __m512 hmax16(const __m512* m) {
  __m512i v[16];
  for (int b = 0; b < 16; ++b) v[b] = _mm512_castps_si512(m[b]);
  return _mm512_castsi512_ps(hreduce16(v, [](__m512i a, __m512i b) {
    return _mm512_castps_si512(_mm512_max_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b)));
  }));
}
inline __m512i hsum16(const __m512i* s) {
  return hreduce16(s, [](__m512i a, __m512i b) { return _mm512_add_epi32(a, b); });
}

}  // namespace

void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n) {
  const int64_t nb = n / 32;
  int64_t i = 0;
  // 16 blocks at a time: their largest magnitudes and byte sums reduced side by side
  // (hmax16 / hsum16), and the 16 scales and inverse scales with one division each.
  for (; i + 16 <= nb; i += 16) {
    __m512 v[16][2], m[16];
    for (int b = 0; b < 16; ++b) {
      v[b][0] = _mm512_loadu_ps(x + (i + b) * 32);
      v[b][1] = _mm512_loadu_ps(x + (i + b) * 32 + 16);
      m[b] = _mm512_max_ps(abs_ps(v[b][0]), abs_ps(v[b][1]));
    }
    const __m512 amax = hmax16(m);
    const __m512 d = _mm512_div_ps(amax, _mm512_set1_ps(127.f));
    const __m512 id = _mm512_maskz_div_ps(
        _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_NEQ_OQ), _mm512_set1_ps(127.f), amax);
    alignas(64) float ds[16], ids[16];
    _mm512_store_ps(ds, d);
    _mm512_store_ps(ids, id);
    __m512i sums[16];
    const __m512i lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
    for (int b = 0; b < 16; ++b) {
      detail::ActQ8& o = y[i + b];
      o.d = ds[b];
      const __m512 vid = _mm512_set1_ps(ids[b]);
      // cvtps rounds to nearest even (the default MXCSR mode), as the reference does.
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v[b][0], vid));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v[b][1], vid));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o.qs), _mm512_cvtsepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o.qs + 16), _mm512_cvtsepi32_epi8(q1));
      // The sum of the stored (saturated) bytes.
      sums[b] = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q0, lo), hi),
                                 _mm512_min_epi32(_mm512_max_epi32(q1, lo), hi));
    }
    alignas(64) int32_t ss[16];
    _mm512_store_si512(ss, hsum16(sums));
    for (int b = 0; b < 16; ++b) y[i + b].sum = ss[b];
  }
  for (x += i * 32; i < nb; ++i, x += 32) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(abs_ps(v0), abs_ps(v1)));
    y[i].d = amax / 127.f;
    const __m512 id = _mm512_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
    // cvtps rounds to nearest even (the default MXCSR mode), as the reference does.
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + 16), _mm512_cvtsepi32_epi8(q1));
    // The sum of the stored (saturated) bytes.
    const __m512i s0 =
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].qs)));
    const __m512i s1 =
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].qs + 16)));
    y[i].sum = _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
  }
}

void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    __m512 m = _mm512_setzero_ps();
    for (int j = 0; j < kQK_K; j += 16) m = _mm512_max_ps(m, abs_ps(_mm512_loadu_ps(x + j)));
    const float amax = _mm512_reduce_max_ps(m);
    if (amax == 0.f) {
      __builtin_memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The first element of largest magnitude fixes the sign, as in the reference.
    float max = 0;
    const __m512 va = _mm512_set1_ps(amax);
    for (int j = 0; j < kQK_K; j += 16) {
      const __mmask16 hit = _mm512_cmp_ps_mask(abs_ps(_mm512_loadu_ps(x + j)), va, _CMP_EQ_OQ);
      if (hit != 0) {
        max = x[j + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m512 vs = _mm512_set1_ps(iscale);
    const __m512i c127 = _mm512_set1_epi32(127);
    for (int j = 0; j < kQK_K; j += 16) {
      // +128 can only come from the opposite sign of max; clamp as the reference does.
      const __m512i q =
          _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + j), vs)), c127);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + j), _mm512_cvtsepi32_epi8(q));
      const __m512i back =
          _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].qs + j)));
      y[i].bsums[j / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(back));
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace qwen3::avx512
