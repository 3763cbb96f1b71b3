// attention_paged_rows with AVX2+FMA+F16C (see attention_paged.h): the 8-lane traits of
// attention_paged_simd.h (the scores of 8 rows of a block per register; where blocks hold
// whole 8-row chunks, two chunks per pass over the keys, as at AVX-512, with each pair's
// four fma chains in two passes of two to fit 16 registers; the values mixed 32 columns
// at a time), and the softmax both SIMD levels share so they give the same bits.
#include <algorithm>
#include <cmath>

#include "kernels/attention_paged_internal.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

// 8 floats. Dims and block sizes are multiples of 8 at this level, so a vector is never
// partial: the masked forms ignore the mask.
struct V8 {
  using F = __m256;
  using M = unsigned;
  static constexpr int N = 8;
  static constexpr int kScoreNQ = 2;       // 8 accumulators of 16 registers
  static constexpr bool kScore2 = true;    // two chunks per pass over the keys,
  static constexpr int kScore2Chains = 2;  // their chains in two passes: 3 x 2 x 2 accumulators
  static constexpr int kMixNV = 4;         // 2 heads x 4 + 4 values
  static constexpr int kTileNQ = 2;
  static constexpr int kTileNV = 4;
  static M full() { return 0xFFu; }
  static M first(int) { return 0xFFu; }
  static F zero() { return _mm256_setzero_ps(); }
  static F bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F load(const std::int8_t* p) {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static F load(const float* p, M) { return load(p); }
  static F load(const std::uint16_t* p, M) { return load(p); }
  static F load(const std::int8_t* p, M) { return load(p); }
  static F bcast_h(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(*p)));
  }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, F v, M) { _mm256_storeu_ps(p, v); }
  static float softmax(float* s, int n, float scale) { return paged_softmax(s, n, scale); }
};

}  // namespace
}  // namespace qwen3::avx2

#include "kernels/attention_paged_simd.h"

namespace qwen3::avx2 {

float paged_softmax(float* s, int n, float scale) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(s + i));
  float m = hmax(vmax);
  for (int k = i; k < n; ++k) m = std::max(m, s[k]);
  const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(scale);
  __m256 sum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(s + i), vm), vs));
    _mm256_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const int r = n - i;
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(r), idx));
    __m256 e = exp_ps(_mm256_mul_ps(_mm256_sub_ps(load_partial(s + i, r), vm), vs));
    e = _mm256_and_ps(e, keep);
    store_partial(s + i, e, r);
    sum = _mm256_add_ps(sum, e);
  }
  return 1.0f / hsum(sum);
}

void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch) {
  paged_simd::attend<V8>(kv, qs, dim, scale, scratch);
}

}  // namespace qwen3::avx2
