// Prompt-sized Q8_0 products with the interleaved 8-row layout of
// matmul_q4_0_rows8_avx2.cpp. Weights are signed, so each step uses llama.cpp's sign
// trick (|w| times x with w's sign); int16 pair sums of 127*127*2 leave no headroom, so
// every step is widened to int32 at once.
#include <cstring>
#include <vector>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

using detail::ActQ8;

struct alignas(32) Rows8Block {
  float d[8];
  int8_t q[8][32];  // q[k][4r + e] = weight 4k+e of row r
};

void repack(const uint8_t* w, size_t ws, int64_t nb, Rows8Block* out) {
  for (int64_t b = 0; b < nb; ++b)
    for (int r = 0; r < 8; ++r) {
      const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(w + r * ws)[b];
      out[b].d[r] = h2f(blk.d);
      for (int k = 0; k < 8; ++k) std::memcpy(&out[b].q[k][4 * r], blk.qs + 4 * k, 4);
    }
}

template <int T>
void sweep(const Rows8Block* wb, int64_t nb, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const ActQ8* a[T];
    __m256i s[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      a[t] = reinterpret_cast<const ActQ8*>(x + t * xs) + b;
      s[t] = _mm256_setzero_si256();
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb[b].q[k]));
      const __m256i wabs = _mm256_sign_epi8(wv, wv);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t x4;
        std::memcpy(&x4, a[t]->qs + 4 * k, 4);
        const __m256i xs4 = _mm256_sign_epi8(_mm256_set1_epi32(x4), wv);
        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, xs4), ones));
      }
    }
    const __m256 dw = _mm256_load_ps(wb[b].d);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dw, _mm256_set1_ps(a[t]->d)),
                               acc[t]);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

void q8_0_rows8(int64_t n, const void* w, size_t ws, const void* xv, size_t xs, int nt, float* y,
                int64_t ldy) {
  const int64_t nb = n / 32;
  thread_local std::vector<Rows8Block> buf;
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
