// AVX2 activation quantizers (same results as the scalar references: same scale
// arithmetic, round half to even) and the dequantizers of the common formats.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

// Packs 32 rounded floats (4 vectors) into 32 int8 in order.
inline __m256i pack_i8(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256i ia = _mm256_cvtps_epi32(a), ib = _mm256_cvtps_epi32(b);
  const __m256i ic = _mm256_cvtps_epi32(c), id = _mm256_cvtps_epi32(d);
  const __m256i ab = _mm256_packs_epi32(ia, ib), cd = _mm256_packs_epi32(ic, id);
  const __m256i v = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline __m256 round_ne(__m256 v) {
  return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

}  // namespace

void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / 32; ++i, x += 32) {
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1));
    m = _mm256_max_ps(m, _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    const float amax = hmax(m);
    y[i].d = amax / 127.f;
    const __m256 id = _mm256_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
    v0 = round_ne(_mm256_mul_ps(v0, id));
    v1 = round_ne(_mm256_mul_ps(v1, id));
    v2 = round_ne(_mm256_mul_ps(v2, id));
    v3 = round_ne(_mm256_mul_ps(v3, id));
    const __m256i q = pack_i8(v0, v1, v2, v3);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), q);
    // Sum of the int8 values: sign-extend to 16 bits and pairwise-add.
    const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
    const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
    y[i].sum = hsum_i32(_mm256_madd_epi16(_mm256_add_epi16(lo, hi), _mm256_set1_epi16(1)));
  }
}

void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < kQK_K; j += 8)
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    const float amax = hmax(m);
    if (amax == 0.f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The first element of largest magnitude fixes the sign, as in the reference.
    float max = 0;
    for (int j = 0; j < kQK_K; ++j)
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int j = 0; j < kQK_K; j += 32) {
      const __m256 a = round_ne(_mm256_mul_ps(_mm256_loadu_ps(x + j), vs));
      const __m256 b = round_ne(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vs));
      const __m256 c = round_ne(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vs));
      const __m256 d = round_ne(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vs));
      // +128 can only come from the opposite sign of max; clamp as the reference does.
      __m256i q = pack_i8(a, b, c, d);
      q = _mm256_min_epi8(q, _mm256_set1_epi8(127));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), q);
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      const __m256i v =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].qs + g * 16)));
      y[i].bsums[g] = static_cast<int16_t>(hsum_i32(_mm256_madd_epi16(v, _mm256_set1_epi16(1))));
    }
    y[i].d = 1 / iscale;
  }
}

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, y += 32) {
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].qs));
    const __m128i lo = _mm_and_si128(qs, _mm_set1_epi8(0x0F));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), _mm_set1_epi8(0x0F));
    const __m256 d = _mm256_set1_ps(h2f(x[i].d));
    const __m256i off = _mm256_set1_epi32(8);
    auto emit = [&](__m128i v, float* out) {
      const __m256i a = _mm256_sub_epi32(_mm256_cvtepu8_epi32(v), off);
      const __m256i b = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)), off);
      _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(a), d));
      _mm256_storeu_ps(out + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(b), d));
    };
    emit(lo, y);
    emit(hi, y + 16);
  }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, y += 32) {
    const __m256 d = _mm256_set1_ps(h2f(x[i].d));
    for (int j = 0; j < 32; j += 8) {
      const __m256i v =
          _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].qs + j)));
      _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d));
    }
  }
}

}  // namespace qwen3::avx2
