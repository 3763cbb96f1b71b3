// AVX2 tiles for the 32-element formats against ActQ8 activations. Nibble formats use
// unsigned weights in maddubs and subtract the offset via the activation block sum
// (8*sum for Q4_0, 16*sum for Q5_0), which saves the sign/abs steps of llama.cpp's path.
#include <cstring>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"
#include "kernels/tile_driver_avx2.h"
#include "kernels/type_table.h"

namespace qwen3::avx2 {
namespace {

using detail::ActQ8;

inline __m256i nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

// 0x10 in byte j where bit j of the 32-bit qh is set (ggml's bytes_from_bits_32).
inline __m256i high_bits(const uint8_t* qh) {
  uint32_t x32;
  std::memcpy(&x32, qh, 4);
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101,
                                         0x0000000000000000);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(x32)), shuf);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_and_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}

inline const ActQ8* act(const uint8_t* x, size_t xs, int t) {
  return reinterpret_cast<const ActQ8*>(x + t * xs);
}

template <int R, int T>
inline void store(__m256 (&acc)[R][T], float* y, int64_t ldy) {
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = hsum(acc[r][t]);
}

// Q4_0 / Q5_0 / Q8_0: one scale per block, no min.
template <class Block, int kOffsetTimes8>
struct SymKernel {
  static inline __m256i unpack(const Block& b);
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy) {
    __m256 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < n / 32; ++b) {
      __m256i wq[R], wabs[R];
      float dw[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const Block& blk = reinterpret_cast<const Block*>(w + r * ws)[b];
        wq[r] = unpack(blk);
        if constexpr (kOffsetTimes8 < 0) wabs[r] = _mm256_sign_epi8(wq[r], wq[r]);
        dw[r] = h2f(blk.d);
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const ActQ8& a = act(x, xs, t)[b];
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          __m256i p;
          if constexpr (kOffsetTimes8 < 0) {  // signed weights: llama.cpp's sign trick
            p = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs[r], _mm256_sign_epi8(xv, wq[r])), ones);
          } else {
            p = _mm256_madd_epi16(_mm256_maddubs_epi16(wq[r], xv), ones);
            p = _mm256_sub_epi32(p, _mm256_set1_epi32(a.sum * kOffsetTimes8));
          }
          acc[r][t] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw[r] * a.d), acc[r][t]);
        }
      }
    }
    store(acc, y, ldy);
  }
};

template <>
inline __m256i SymKernel<BlockQ4_0, 1>::unpack(const BlockQ4_0& b) {
  return nibbles(b.qs);
}
template <>
inline __m256i SymKernel<BlockQ5_0, 2>::unpack(const BlockQ5_0& b) {
  return _mm256_or_si256(nibbles(b.qs), high_bits(b.qh));
}
template <>
inline __m256i SymKernel<BlockQ8_0, -1>::unpack(const BlockQ8_0& b) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
}

// Q4_1 / Q5_1: unsigned weights with a per-block min m: d*dx*sum(q*x) + m*dx*sum(x).
template <class Block>
struct MinKernel {
  static inline __m256i unpack(const Block& b);
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy) {
    __m256 acc[R][T];
    float accm[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) {
        acc[r][t] = _mm256_setzero_ps();
        accm[r][t] = 0.f;
      }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < n / 32; ++b) {
      __m256i wq[R];
      float dw[R], mw[R];
      for (int r = 0; r < R; ++r) {
        const Block& blk = reinterpret_cast<const Block*>(w + r * ws)[b];
        wq[r] = unpack(blk);
        dw[r] = h2f(blk.d);
        mw[r] = h2f(blk.m);
      }
      for (int t = 0; t < T; ++t) {
        const ActQ8& a = act(x, xs, t)[b];
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs));
        const float xsum = a.d * static_cast<float>(a.sum);
        for (int r = 0; r < R; ++r) {
          const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wq[r], xv), ones);
          acc[r][t] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw[r] * a.d), acc[r][t]);
          accm[r][t] += mw[r] * xsum;
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[t * ldy + r] = hsum(acc[r][t]) + accm[r][t];
  }
};

template <>
inline __m256i MinKernel<BlockQ4_1>::unpack(const BlockQ4_1& b) {
  return nibbles(b.qs);
}
template <>
inline __m256i MinKernel<BlockQ5_1>::unpack(const BlockQ5_1& b) {
  return _mm256_or_si256(nibbles(b.qs), high_bits(b.qh));
}

}  // namespace

detail::TileFn tile_legacy(GgmlType t) {
  static constexpr detail::TypedFn<detail::TileFn> kTiles[] = {
      {GgmlType::Q4_0, drive_rows8<SymKernel<BlockQ4_0, 1>, GgmlType::Q4_0>},
      // Q5_0 values are 0..31 with offset 16: subtract 16*sum = 8 lanes x 2*sum.
      {GgmlType::Q5_0, drive<SymKernel<BlockQ5_0, 2>>},
      {GgmlType::Q8_0, drive_rows8<SymKernel<BlockQ8_0, -1>, GgmlType::Q8_0>},
      {GgmlType::Q4_1, drive<MinKernel<BlockQ4_1>>},
      {GgmlType::Q5_1, drive<MinKernel<BlockQ5_1>>},
  };
  return detail::find_fn(kTiles, t);
}

}  // namespace qwen3::avx2
