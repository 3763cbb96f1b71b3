// AVX-512 kernel of the vision encoder's products (vision_gemm.h): one panel of 32
// outputs (two zmm of weights per k) times a block of 12 packed tokens (each broadcast),
// 24 accumulators kept in registers over the whole k range.
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on its own _mm512_undefined_*
// pass-through operands; the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "vision/vision_gemm.h"

namespace qwen3::vision::avx512 {
namespace {

constexpr int kMR = gemm::kMR;
static_assert(gemm::kNR == 32, "two zmm per panel row");

struct LoadF32 {
  using T = float;
  static __m512 lo(const float* w) { return _mm512_load_ps(w); }
  static __m512 hi(const float* w) { return _mm512_load_ps(w + 16); }
};
struct LoadF16 {
  using T = uint16_t;
  static __m512 lo(const uint16_t* w) {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w)));
  }
  static __m512 hi(const uint16_t* w) {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w + 16)));
  }
};

template <class L>
void panel(const typename L::T* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
           const float* bias) {
  __m512 c0[kMR], c1[kMR];
  for (int t = 0; t < kMR; ++t) c0[t] = c1[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    const __m512 w0 = L::lo(w + i * 32), w1 = L::hi(w + i * 32);
    const float* xi = x + i * kMR;
    for (int t = 0; t < kMR; ++t) {
      const __m512 b = _mm512_set1_ps(xi[t]);
      c0[t] = _mm512_fmadd_ps(w0, b, c0[t]);
      c1[t] = _mm512_fmadd_ps(w1, b, c1[t]);
    }
  }
  const __mmask16 m0 = nj >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nj) - 1);
  const __mmask16 m1 = nj >= 32   ? 0xFFFF
                       : nj <= 16 ? 0
                                  : static_cast<__mmask16>((1u << (nj - 16)) - 1);
  __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  if (bias) {
    b0 = _mm512_maskz_loadu_ps(m0, bias);
    b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
  for (int t = 0; t < nt; ++t) {
    _mm512_mask_storeu_ps(y + t * ldy, m0, _mm512_add_ps(c0[t], b0));
    _mm512_mask_storeu_ps(y + t * ldy + 16, m1, _mm512_add_ps(c1[t], b1));
  }
}

}  // namespace

void panel_f32(const float* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias) {
  panel<LoadF32>(w, x, k, y, ldy, nt, nj, bias);
}
void panel_f16(const uint16_t* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias) {
  panel<LoadF16>(w, x, k, y, ldy, nt, nj, bias);
}

}  // namespace qwen3::vision::avx512
