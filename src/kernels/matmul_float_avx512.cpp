// AVX-512 tiles for float weights (F32, F16 via vcvtph2ps, BF16 via a shift) against
// float activations: 16 weights per vector, 4 rows x 1 token for decode (the activation
// row loaded once for 4 weight rows), 2 rows x 4 tokens for prompts, a masked tail for
// rows whose length is not a multiple of 16. Plain float math: results differ from the
// reference only by the summation order.
// Built with the AVX-512 flags; called only through the avx512 kernel table.
// GCC 12 avx512fintrin.h trips -W(maybe-)uninitialized on its own _mm512_undefined_*
// placeholders (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "kernels/kernels_avx512.h"

namespace qwen3::avx512 {
namespace {

struct LoadF32 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
  }
};
struct LoadF16 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + i));
  }
};
struct LoadBF16 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    const __m512i v = _mm512_cvtepu16_epi32(
        _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
};

template <class L, int R, int T>
void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
         int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m =
        n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = L::load(w + r * ws, i, m);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(x + t * xs) + i);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <class L, int R>
void run_tokens(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, int nt,
                float* y, int64_t ldy) {
  int t = 0;
  for (; t + 4 <= nt; t += 4) run<L, R, 4>(n, w, ws, x + t * xs, xs, y + t * ldy, ldy);
  for (; t < nt; ++t) run<L, R, 1>(n, w, ws, x + t * xs, xs, y + t * ldy, ldy);
}

template <class L>
void tile(int64_t n, const void* wv, size_t ws, int nr, const void* xv, size_t xs, int nt, float* y,
          int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  int r = 0;
  if (nt == 1) {
    for (; r + 4 <= nr; r += 4) run<L, 4, 1>(n, w + r * ws, ws, x, xs, y + r, ldy);
    for (; r < nr; ++r) run<L, 1, 1>(n, w + r * ws, ws, x, xs, y + r, ldy);
    return;
  }
  for (; r + 2 <= nr; r += 2) run_tokens<L, 2>(n, w + r * ws, ws, x, xs, nt, y + r, ldy);
  if (r < nr) run_tokens<L, 1>(n, w + r * ws, ws, x, xs, nt, y + r, ldy);
}

}  // namespace

detail::TileFn float_tile(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
      return tile<LoadF32>;
    case GgmlType::F16:
      return tile<LoadF16>;
    case GgmlType::BF16:
      return tile<LoadBF16>;
    default:
      return nullptr;
  }
}

}  // namespace qwen3::avx512
