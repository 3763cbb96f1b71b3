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

}  // namespace

void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, x += 32) {
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
