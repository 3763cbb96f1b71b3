// Prompt-sized Q4_0 products: 8 weight rows are re-laid out once (interleaved so each
// 32-bit lane of a vector holds 4 consecutive weights of one row), then every token
// is swept over them: one broadcast of 4 activations feeds 8 rows per maddubs, the
// int16 partial sums need no horizontal reduction, and each lane ends as one output.
// About 3x fewer instructions per weight than the row-by-row kernel.
#include <cstring>
#include <vector>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

using detail::ActQ8;

// One block column of 8 rows: their scales and 8 vectors of 8 rows x 4 nibble values.
struct alignas(32) Rows8Block {
  float d[8];
  uint8_t q[8][32];  // q[k][4r + e] = weight 4k+e of row r, 0..15
};

void repack(const uint8_t* w, size_t ws, int64_t nb, Rows8Block* out) {
  for (int64_t b = 0; b < nb; ++b) {
    for (int r = 0; r < 8; ++r) {
      const BlockQ4_0& blk = reinterpret_cast<const BlockQ4_0*>(w + r * ws)[b];
      out[b].d[r] = h2f(blk.d);
      alignas(32) uint8_t v[32];
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs));
      _mm256_store_si256(
          reinterpret_cast<__m256i*>(v),
          _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F)));
      for (int k = 0; k < 8; ++k) std::memcpy(&out[b].q[k][4 * r], v + 4 * k, 4);
    }
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
// 8 maddubs of values <= 15*127*2 each stay within int16.
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb[b].q[k]));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t x4;
        std::memcpy(&x4, a[t]->qs + 4 * k, 4);
        s[t] = _mm256_add_epi16(s[t], _mm256_maddubs_epi16(wv, _mm256_set1_epi32(x4)));
      }
    }
    const __m256 dw = _mm256_load_ps(wb[b].d);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      __m256i p = _mm256_madd_epi16(s[t], ones);
      p = _mm256_sub_epi32(p, _mm256_set1_epi32(8 * a[t]->sum));  // nibble offset 8
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, _mm256_set1_ps(a[t]->d)),
                               acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

void q4_0_rows8(int64_t n, const void* w, size_t ws, const void* xv, size_t xs, int nt, float* y,
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
