// Prompt-sized Q4_K products, same scheme as matmul_q4_0_rows8_avx2.cpp: 8 rows are
// re-laid out with one row per 32-bit lane, so a broadcast of 4 activations feeds 8 rows
// per maddubs; sub-block scales and mins become per-lane int16 pairs for madd.
#include <cstring>
#include <vector>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

struct alignas(32) Rows8SuperBlock {
  float d[8], dmin[8];
  int16_t sc[8][16];    // sub-block j: lanes 2r, 2r+1 = scale of row r
  int16_t mn[4][16];    // sub-blocks 2p, 2p+1: lanes 2r, 2r+1 = their mins in row r
  uint8_t q[8][8][32];  // q[j][k][4r + e] = weight 32j + 4k + e of row r, 0..15
};

void repack(const uint8_t* w, size_t ws, int64_t nb, Rows8SuperBlock* out) {
  for (int64_t b = 0; b < nb; ++b) {
    Rows8SuperBlock& o = out[b];
    for (int r = 0; r < 8; ++r) {
      const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(w + r * ws)[b];
      o.d[r] = h2f(blk.d);
      o.dmin[r] = h2f(blk.dmin);
      for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, blk.scales, &s, &m);
        o.sc[j][2 * r] = o.sc[j][2 * r + 1] = s;
        o.mn[j / 2][2 * r + (j & 1)] = m;
      }
      for (int c = 0; c < 4; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
        alignas(32) uint8_t lo[32], hi[32];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lo),
                           _mm256_and_si256(q, _mm256_set1_epi8(0x0F)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(hi),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0F)));
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          std::memcpy(&o.q[2 * c][k][4 * r], lo + 4 * k, 4);
          std::memcpy(&o.q[2 * c + 1][k][4 * r], hi + 4 * k, 4);
        }
      }
    }
  }
}

template <int T>
void sweep(const Rows8SuperBlock* wb, int64_t nb, const uint8_t* x, size_t xs, float* y,
           int64_t ldy) {
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Rows8SuperBlock& o = wb[b];
    const BlockQ8_K* a[T];
    __m256i sumi[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      a[t] = reinterpret_cast<const BlockQ8_K*>(x + t * xs) + b;
      sumi[t] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; ++j) {
      __m256i s[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {  // 8 maddubs of <= 15*127*2 fit int16
        const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(o.q[j][k]));
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          int32_t x4;
          std::memcpy(&x4, a[t]->qs + 32 * j + 4 * k, 4);
          s[t] = _mm256_add_epi16(s[t], _mm256_maddubs_epi16(wv, _mm256_set1_epi32(x4)));
        }
      }
      const __m256i sc = _mm256_load_si256(reinterpret_cast<const __m256i*>(o.sc[j]));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(s[t], sc));
    }
    const __m256 d = _mm256_load_ps(o.d), dmin = _mm256_load_ps(o.dmin);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      // Sums of the activations per 32-element sub-block, as int16 pairs per min pair.
      int16_t pair[8];
      for (int j = 0; j < 8; ++j)
        pair[j] = static_cast<int16_t>(a[t]->bsums[2 * j] + a[t]->bsums[2 * j + 1]);
      __m256i summ = _mm256_setzero_si256();
      for (int p = 0; p < 4; ++p) {
        int32_t b2;
        std::memcpy(&b2, pair + 2 * p, 4);
        summ = _mm256_add_epi32(
            summ, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(o.mn[p])),
                                    _mm256_set1_epi32(b2)));
      }
      const __m256 xd = _mm256_set1_ps(a[t]->d);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), _mm256_mul_ps(d, xd), acc[t]);
      acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_mul_ps(dmin, xd), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

void q4_K_rows8(int64_t n, const void* w, size_t ws, const void* xv, size_t xs, int nt, float* y,
                int64_t ldy) {
  const int64_t nb = n / kQK_K;
  thread_local std::vector<Rows8SuperBlock> buf;
  if (static_cast<int64_t>(buf.size()) < nb) buf.resize(static_cast<size_t>(nb));
  repack(static_cast<const uint8_t*>(w), ws, nb, buf.data());
  const auto* x = static_cast<const uint8_t*>(xv);
  int t = 0;
  for (; t + 4 <= nt; t += 4) sweep<4>(buf.data(), nb, x + t * xs, xs, y + t * ldy, ldy);
  switch (nt - t) {
    case 3:
      sweep<3>(buf.data(), nb, x + t * xs, xs, y + t * ldy, ldy);
      break;
    case 2:
      sweep<2>(buf.data(), nb, x + t * xs, xs, y + t * ldy, ldy);
      break;
    case 1:
      sweep<1>(buf.data(), nb, x + t * xs, xs, y + t * ldy, ldy);
      break;
    default:
      break;
  }
}

}  // namespace qwen3::avx2
