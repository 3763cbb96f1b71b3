// AVX2 kernel of the vision encoder's products (vision_gemm.h), for CPUs without
// AVX-512: the same 32-output panels and 12-token packed blocks, walked as 4 quarters of
// 6 tokens x 16 outputs (12 ymm accumulators, two weight vectors and a broadcast: 15 of
// the 16 registers).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "vision/vision_gemm.h"

namespace qwen3::vision::avx2 {
namespace {

constexpr int kMR = gemm::kMR;
constexpr int kNR = gemm::kNR;

struct LoadF32 {
  using T = float;
  static __m256 load8(const float* w) { return _mm256_load_ps(w); }
};
struct LoadF16 {
  using T = uint16_t;
  static __m256 load8(const uint16_t* w) {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(w)));
  }
};

__m256i lane_mask(int n) {  // the first n (0..8) lanes set
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

// Tokens t0..t0+6 of the block, outputs c0..c0+16 of the panel.
template <class L>
void quarter(const typename L::T* w, const float* x, int t0, int c0, int64_t k, float* y,
             int64_t ldy, int nt, int nj, const float* bias) {
  __m256 a0[6], a1[6];
  for (int t = 0; t < 6; ++t) a0[t] = a1[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    const __m256 w0 = L::load8(w + i * kNR + c0), w1 = L::load8(w + i * kNR + c0 + 8);
    const float* xi = x + i * kMR + t0;
    for (int t = 0; t < 6; ++t) {
      const __m256 b = _mm256_broadcast_ss(xi + t);
      a0[t] = _mm256_fmadd_ps(w0, b, a0[t]);
      a1[t] = _mm256_fmadd_ps(w1, b, a1[t]);
    }
  }
  const int n0 = std::min(8, nj), n1 = std::max(0, nj - 8);
  const __m256i m0 = lane_mask(n0), m1 = lane_mask(n1);
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (bias) {
    b0 = _mm256_maskload_ps(bias + c0, m0);
    b1 = _mm256_maskload_ps(bias + c0 + 8, m1);
  }
  for (int t = 0; t < nt; ++t) {
    float* yt = y + (t0 + t) * ldy + c0;
    _mm256_maskstore_ps(yt, m0, _mm256_add_ps(a0[t], b0));
    _mm256_maskstore_ps(yt + 8, m1, _mm256_add_ps(a1[t], b1));
  }
}

template <class L>
void panel(const typename L::T* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
           const float* bias) {
  for (int t0 = 0; t0 < nt; t0 += 6)
    for (int c0 = 0; c0 < nj; c0 += 16)
      quarter<L>(w, x, t0, c0, k, y, ldy, std::min(6, nt - t0), std::min(16, nj - c0), bias);
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

}  // namespace qwen3::vision::avx2
