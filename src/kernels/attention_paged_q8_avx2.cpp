// quantize_kv_q8_0 with AVX2 (see attention_paged.h): ggml's quantize_row_q8_0_ref byte
// for byte, 32 elements as four 8-lane vectors. The scale arithmetic is the reference's
// scalar arithmetic (amax / 127, 1 / d, fp16 of d); x * id is the same float product; and
// roundf (half away from zero) is trunc(v) plus one step away from zero where |v -
// trunc(v)| >= 0.5 (the difference is exact), not the vector unit's ties-to-even.
#include <immintrin.h>

#include <cstdint>

#include "kernels/attention_paged_internal.h"
#include "kernels/fp16.h"

namespace qwen3::avx2 {
namespace {

inline __m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(t, _mm256_and_ps(up, step));
}

}  // namespace

void quantize_kv_q8_0(const float* x, int n, std::int8_t* q, std::uint16_t* d) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int g = 0; g < n / 32; ++g, x += 32, q += 32) {
    __m256 v[4];
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    const float amax = _mm_cvtss_f32(h);
    const float dg = amax / 127;
    const float id = dg ? 1.0f / dg : 0.0f;
    d[g] = fp32_to_fp16(dg);
    const __m256 vid = _mm256_set1_ps(id);
    __m256i r[4];
    for (int i = 0; i < 4; ++i)
      r[i] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[i], vid)));
    const __m256i ab = _mm256_packs_epi32(r[0], r[1]), cd = _mm256_packs_epi32(r[2], r[3]);
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd),
                                                  _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), p);
  }
}

}  // namespace qwen3::avx2
