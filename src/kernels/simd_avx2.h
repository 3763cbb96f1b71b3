// Small AVX2 helpers shared by the *_avx2.cpp files (include only from those).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/exp_poly.h"

namespace qwen3::avx2 {

// The 8 lanes of v folded with Op (AddOp or MaxOp): the two halves, then their two
// pairs, then the last two.
struct AddOp {
  static __attribute__((always_inline)) __m128 ps(__m128 a, __m128 b) { return _mm_add_ps(a, b); }
  static __attribute__((always_inline)) __m128 ss(__m128 a, __m128 b) { return _mm_add_ss(a, b); }
};
struct MaxOp {
  static __attribute__((always_inline)) __m128 ps(__m128 a, __m128 b) { return _mm_max_ps(a, b); }
  static __attribute__((always_inline)) __m128 ss(__m128 a, __m128 b) { return _mm_max_ss(a, b); }
};
template <class Op>
inline float hreduce(__m256 v) {
  __m128 s = Op::ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = Op::ps(s, _mm_movehl_ps(s, s));
  s = Op::ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hsum(__m256 v) {
  return hreduce<AddOp>(v);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline float hmax(__m256 v) {
  return hreduce<MaxOp>(v);
}

inline float h2f(uint16_t h) {
  return _cvtsh_ss(h);
}

// exp(x) for 8 floats: Cephes-style range reduction and a degree-5 polynomial
// (relative error ~2e-7); clamps to [-88.4, 88.4] so it never yields inf/NaN for finite x.
inline __m256 exp_ps(__m256 x) {
  x = _mm256_min_ps(x, _mm256_set1_ps(exp_poly::kClamp));
  x = _mm256_max_ps(x, _mm256_set1_ps(-exp_poly::kClamp));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(exp_poly::kLog2e), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(exp_poly::kLn2Hi), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(exp_poly::kLn2Lo), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = _mm256_set1_ps(exp_poly::kP0);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(exp_poly::kP1));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(exp_poly::kP2));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(exp_poly::kP3));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(exp_poly::kP4));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(exp_poly::kP5));
  y = _mm256_fmadd_ps(y, z, x);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  __m256i e = _mm256_cvttps_epi32(fx);
  e = _mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(0x7f)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// Loads/stores the first n (< 8) floats, zero-filling the rest.
inline __m256 load_partial(const float* p, int n) {
  alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(t, p, n * sizeof(float));
  return _mm256_load_ps(t);
}
inline void store_partial(float* p, __m256 v, int n) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  std::memcpy(p, t, n * sizeof(float));
}

}  // namespace qwen3::avx2
