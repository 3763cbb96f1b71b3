// attention_paged_rows with AVX-512 (see attention_paged.h): the 16-lane traits of
// attention_paged_simd.h (the scores of 16 rows of a block per register, up to 4 heads
// per pass over the keys; the values mixed 128 columns of 2 heads at a time, all in
// registers). The same arithmetic as the AVX2 level lane for lane (and its softmax), so
// the same bits.
#include <immintrin.h>

#include <cstdint>

#include "kernels/attention_paged_internal.h"

namespace qwen3::avx512 {
namespace {

// 16 floats; a block size or dim of 8 (mod 16) leaves a last vector of 8 lanes, masked.
struct V16 {
  using F = __m512;
  using M = __mmask16;
  static constexpr int N = 16;
  static constexpr int kScoreNQ = 4;  // 16 accumulators of 32 registers
  static constexpr int kMixNV = 8;    // 2 heads x 8 + 8 values
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
  static F load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static F load(const std::uint16_t* p, M m) {
    return _mm512_maskz_cvtph_ps(m, _mm256_maskz_loadu_epi16(m, p));
  }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, F v, M m) { _mm512_mask_storeu_ps(p, m, v); }
};

}  // namespace
}  // namespace qwen3::avx512

#include "kernels/attention_paged_simd.h"

namespace qwen3::avx512 {

void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch) {
  paged_simd::attend<V16>(kv, qs, dim, scale, scratch);
}

}  // namespace qwen3::avx512
