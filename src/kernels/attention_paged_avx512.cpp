// attention_paged_rows with AVX-512 (see attention_paged.h): the 16-lane traits of
// attention_paged_simd.h (the scores of 16 rows of a block per register, up to 4 heads
// per pass over the keys; the values mixed 128 columns of 2 heads at a time, all in
// registers). The same arithmetic as the AVX2 level lane for lane (and its softmax), so
// the same bits.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include <cstdint>

#include "kernels/attention_paged_internal.h"
#include "kernels/simd_avx512.h"

namespace qwen3::avx512 {
namespace {

// 16 floats; a block size or dim of 8 (mod 16) leaves a last vector of 8 lanes, masked.
struct V16 {
  using F = __m512;
  using M = __mmask16;
  static constexpr int N = 16;
  static constexpr int kScoreNQ = 4;     // 16 accumulators of 32 registers
  static constexpr bool kScore2 = true;  // 3 pairs x 2 chunks x 4 chains
  static constexpr int kScore2Chains = 4;
  static constexpr int kMixNV = 8;  // 2 heads x 8 + 8 values
  static constexpr int kTileNQ = 4;
  static constexpr int kTileNV = 4;
  static M full() { return 0xFFFF; }
  static M first(int n) { return static_cast<M>((1u << n) - 1u); }
  static F zero() { return _mm512_setzero_ps(); }
  static F bcast(const float* p) { return _mm512_set1_ps(*p); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F load(const std::uint16_t* p) {
    // (the all-ones mask only avoids GCC 12's false uninitialized warning of _mm512_cvtph_ps)
    return _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F load(const std::int8_t* p) {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static F load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static F load(const std::int8_t* p, M m) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
  }
  static F bcast_h(const std::uint16_t* p) {
    return _mm512_maskz_cvtph_ps(0xFFFF, _mm256_set1_epi16(static_cast<short>(*p)));
  }
  static F load(const std::uint16_t* p, M m) {
    return _mm512_maskz_cvtph_ps(m, _mm256_maskz_loadu_epi16(m, p));
  }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, F v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static float softmax(float* s, int n, float scale);
};

// avx2::paged_softmax 16 lanes at a time, the same bits: the same exp polynomial lane for
// lane (simd_avx2.h exp_ps), and the sum taken 8 lanes at a time in the same order
// (each 16-lane vector's low half, then its high half; the tail's missing lanes are 0).
float V16::softmax(float* s, int n, float scale) {
  __m512 vmax = _mm512_set1_ps(-__builtin_inff());
  int i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(s + i));
  if (i < n)
    vmax = _mm512_mask_max_ps(vmax, first(n - i), vmax, _mm512_maskz_loadu_ps(first(n - i), s + i));
  const __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(vmax)), vs = _mm512_set1_ps(scale);
  __m256 sum = _mm256_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(s + i), vm), vs));
    _mm512_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
    sum = _mm256_add_ps(sum, _mm512_extractf32x8_ps(e, 1));
  }
  if (i < n) {
    const M m = first(n - i);
    const __m512 e = _mm512_maskz_mov_ps(
        m, exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + i), vm), vs)));
    _mm512_mask_storeu_ps(s + i, m, e);
    sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
    if (n - i > 8) sum = _mm256_add_ps(sum, _mm512_extractf32x8_ps(e, 1));
  }
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return 1.0f / _mm_cvtss_f32(h);
}

}  // namespace
}  // namespace qwen3::avx512

#include "kernels/attention_paged_simd.h"

namespace qwen3::avx512 {

void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch) {
  paged_simd::attend<V16>(kv, qs, dim, scale, scratch);
}

}  // namespace qwen3::avx512
