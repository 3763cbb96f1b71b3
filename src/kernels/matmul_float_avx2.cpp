// AVX2 tiles for float weights (F32, F16 via F16C, BF16 via a shift) against float
// activations; a scalar tail covers rows whose length is not a multiple of 8.
#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"
#include "kernels/tile_driver_avx2.h"
#include "kernels/type_table.h"

namespace qwen3::avx2 {
namespace {

struct LoadF32 {
  static __m256 load8(const uint8_t* row, int64_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  }
  static float load1(const uint8_t* row, int64_t i) {
    return reinterpret_cast<const float*>(row)[i];
  }
};
struct LoadF16 {
  static __m256 load8(const uint8_t* row, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
  }
  static float load1(const uint8_t* row, int64_t i) {
    return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[i]);
  }
};
struct LoadBF16 {
  static __m256 load8(const uint8_t* row, int64_t i) {
    const __m256i v =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float load1(const uint8_t* row, int64_t i) {
    const uint32_t u = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
  }
};

template <class L>
struct FloatKernel {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy) {
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = L::load8(w + r * ws, i);
      for (int t = 0; t < T; ++t) {
        const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(x + t * xs) + i);
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) {
        float s = hsum(acc[r][t]);
        const float* xr = reinterpret_cast<const float*>(x + t * xs);
        for (int64_t k = i; k < n; ++k) s += L::load1(w + r * ws, k) * xr[k];
        y[t * ldy + r] = s;
      }
  }
};

}  // namespace

detail::TileFn tile_float(GgmlType t) {
  static constexpr detail::TypedFn<detail::TileFn> kTiles[] = {
      {GgmlType::F32, drive<FloatKernel<LoadF32>>},
      {GgmlType::F16, drive<FloatKernel<LoadF16>>},
      {GgmlType::BF16, drive<FloatKernel<LoadBF16>>},
  };
  return detail::find_fn(kTiles, t);
}

}  // namespace qwen3::avx2

namespace qwen3::detail {

TileFn tile_avx2(GgmlType t) {
  if (const TileFn f = avx2::tile_float(t)) return f;
  if (const TileFn f = avx2::tile_legacy(t)) return f;
  return avx2::tile_kquants(t);
}

}  // namespace qwen3::detail
