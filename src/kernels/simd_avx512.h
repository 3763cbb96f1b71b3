// Small AVX-512 helpers shared by the *_avx512.cpp files (include only from those).
#pragma once

#include <immintrin.h>

#include "kernels/exp_poly.h"

namespace qwen3::avx512 {

// exp_ps of simd_avx2.h on 16 lanes: the same range reduction, polynomial and constants,
// lane by lane, so the 16-lane ops and the attention softmax give the AVX2 bits.
inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(x, _mm512_set1_ps(exp_poly::kClamp));
  x = _mm512_max_ps(x, _mm512_set1_ps(-exp_poly::kClamp));
  __m512 fx = _mm512_fmadd_ps(x, _mm512_set1_ps(exp_poly::kLog2e), _mm512_set1_ps(0.5f));
  fx = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(exp_poly::kLn2Hi), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(exp_poly::kLn2Lo), x);
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 y = _mm512_set1_ps(exp_poly::kP0);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(exp_poly::kP1));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(exp_poly::kP2));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(exp_poly::kP3));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(exp_poly::kP4));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(exp_poly::kP5));
  y = _mm512_fmadd_ps(y, z, x);
  y = _mm512_add_ps(y, _mm512_set1_ps(1.0f));
  __m512i e = _mm512_cvttps_epi32(fx);
  e = _mm512_slli_epi32(_mm512_add_epi32(e, _mm512_set1_epi32(0x7f)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
}

}  // namespace qwen3::avx512
