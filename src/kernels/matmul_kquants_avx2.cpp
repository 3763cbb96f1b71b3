// AVX2 tiles for the K-quants against Q8_K activations. Integer sums match the scalar
// reference exactly; only the float accumulation order differs.
#include <cstring>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"
#include "kernels/tile_driver_avx2.h"
#include "kernels/type_table.h"

namespace qwen3::avx2 {
namespace {

inline const BlockQ8_K* act(const uint8_t* x, size_t xs, int t) {
  return reinterpret_cast<const BlockQ8_K*>(x + t * xs);
}

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Q4_K and Q5_K: 8 sub-blocks of 32, 6-bit scale sc[j] and min m[j];
// dot = d*dx*sum_j sc[j]*dot_j - dmin*dx*sum_j m[j]*(bsum[2j]+bsum[2j+1]).
template <class Block, bool kFive>
struct AsymKernel {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy) {
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      for (int r = 0; r < R; ++r) {
        const Block& blk = reinterpret_cast<const Block*>(w + r * ws)[b];
        alignas(16) uint8_t sc[8], mins2[16];
        for (int j = 0; j < 8; ++j) {
          uint8_t s, m;
          get_scale_min_k4(j, blk.scales, &s, &m);
          sc[j] = s;
          mins2[2 * j] = mins2[2 * j + 1] = m;
        }
        const __m256i vmins =
            _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(mins2)));
        __m256i sumi[T];
        for (int t = 0; t < T; ++t) sumi[t] = _mm256_setzero_si256();
        const __m256i hbits =
            kFive ? load256(reinterpret_cast<const uint8_t*>(&blk) + 16) : _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
          const __m256i q = load256(blk.qs + 32 * j);
          __m256i ql = _mm256_and_si256(q, m4);
          __m256i qh = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
          if constexpr (kFive) {
            const __m256i one = _mm256_set1_epi8(1);
            ql = _mm256_or_si256(
                ql, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4));
            qh = _mm256_or_si256(
                qh,
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4));
          }
          const __m256i sl = _mm256_set1_epi16(sc[2 * j]);
          const __m256i sh = _mm256_set1_epi16(sc[2 * j + 1]);
          for (int t = 0; t < T; ++t) {
            const int8_t* q8 = act(x, xs, t)[b].qs + 64 * j;
            const __m256i pl = _mm256_madd_epi16(sl, _mm256_maddubs_epi16(ql, load256(q8)));
            const __m256i ph = _mm256_madd_epi16(sh, _mm256_maddubs_epi16(qh, load256(q8 + 32)));
            sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(pl, ph));
          }
        }
        const float d = h2f(blk.d), dmin = h2f(blk.dmin);
        for (int t = 0; t < T; ++t) {
          const BlockQ8_K& a = act(x, xs, t)[b];
          const __m256i summ = _mm256_madd_epi16(vmins, load256(a.bsums));
          acc[r][t] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), _mm256_set1_ps(d * a.d), acc[r][t]);
          acc[r][t] =
              _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_set1_ps(dmin * a.d), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[t * ldy + r] = hsum(acc[r][t]);
  }
};

// Q6_K: 16 sub-blocks of 16 with int8 scales, values q-32. The -32 is applied once per
// super-block through the activation block sums: 32*sum_g sc[g]*bsum[g].
struct Q6Kernel {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy) {
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[b];
        const __m256i vsc =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
        __m256i sumi[T];
        for (int t = 0; t < T; ++t) sumi[t] = _mm256_setzero_si256();
        for (int c = 0; c < 2; ++c) {
          const __m256i qa = load256(blk.ql + 64 * c), qb = load256(blk.ql + 64 * c + 32);
          const __m256i hh = load256(blk.qh + 32 * c);
          __m256i q[4];
          q[0] = _mm256_or_si256(_mm256_and_si256(qa, m4),
                                 _mm256_and_si256(_mm256_slli_epi16(hh, 4), m30));
          q[1] = _mm256_or_si256(_mm256_and_si256(qb, m4),
                                 _mm256_and_si256(_mm256_slli_epi16(hh, 2), m30));
          q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), m4),
                                 _mm256_and_si256(hh, m30));
          q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), m4),
                                 _mm256_and_si256(_mm256_srli_epi16(hh, 2), m30));
          for (int k = 0; k < 4; ++k) {
            const int g = 8 * c + 2 * k;  // the two 16-element groups of q[k]
            const __m256i s =
                _mm256_set_m128i(_mm_set1_epi16(blk.scales[g + 1]), _mm_set1_epi16(blk.scales[g]));
            for (int t = 0; t < T; ++t) {
              const int8_t* q8 = act(x, xs, t)[b].qs + 128 * c + 32 * k;
              sumi[t] = _mm256_add_epi32(
                  sumi[t], _mm256_madd_epi16(s, _mm256_maddubs_epi16(q[k], load256(q8))));
            }
          }
        }
        const float d = h2f(blk.d);
        for (int t = 0; t < T; ++t) {
          const BlockQ8_K& a = act(x, xs, t)[b];
          const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(vsc, load256(a.bsums)), 5);
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[t], corr)),
                                      _mm256_set1_ps(d * a.d), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[t * ldy + r] = hsum(acc[r][t]);
  }
};

}  // namespace

detail::TileFn tile_kquants(GgmlType t) {
  static constexpr detail::TypedFn<detail::TileFn> kTiles[] = {
      {GgmlType::Q4_K, drive_rows8<AsymKernel<BlockQ4_K, false>, GgmlType::Q4_K>},
      {GgmlType::Q5_K, drive_rows8<AsymKernel<BlockQ5_K, true>, GgmlType::Q5_K>},
      {GgmlType::Q6_K, drive_rows8<Q6Kernel, GgmlType::Q6_K>},
  };
  return detail::find_fn(kTiles, t);
}

}  // namespace qwen3::avx2
