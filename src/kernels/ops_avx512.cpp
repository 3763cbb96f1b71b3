// AVX-512 row operations of the forward pass (rmsnorm, silu_mul, add, scale, rope_neox):
// the bits of the AVX2 versions (ops_avx2.cpp), 16 lanes a step, used at the avx512 and
// amx levels (kernels/ops.cpp). Each element goes through the same operations in the same
// order as in AVX2: rmsnorm's 16-lane accumulator holds the AVX2 version's two 8-lane
// ones side by side (lanes 0-7 = acc0, 8-15 = acc1) and is reduced the same way; exp
// takes the same range reduction and polynomial; the tails are masked (zero-filled as
// AVX2's partial loads are) or the same scalar code. Why: at the amx level the per-token
// work between the matmuls (norms, SwiGLU, RoPE, residual adds) ran the 8-lane versions.
// Built with the AVX-512 flags; called only when isa_level() is in the avx512 family.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include <cmath>

#include "kernels/kernels_avx512.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_avx512.h"

namespace qwen3::avx512 {
namespace {

inline __mmask16 tail_mask(int64_t r) {  // the first r (< 16) lanes
  return static_cast<__mmask16>((1u << r) - 1u);
}

inline __m512 silu_mul16(__m512 g, __m512 u) {
  const __m512 d =
      _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_sub_ps(_mm512_setzero_ps(), g)));
  return _mm512_mul_ps(_mm512_div_ps(g, d), u);
}

// y[i] = op(a[i], b[i]) over n floats, 16 lanes a step; the tail's lanes past n are 0
// in the operands (AVX2's zero-filled partial loads) and are not stored.
template <class Op>
void binary16(const float* a, const float* b, float* y, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, op(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m,
                          op(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
  }
}

}  // namespace

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_loadu_ps(x + i);
    acc = _mm512_fmadd_ps(a, a, acc);
  }
  double ss =
      avx2::hsum(_mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1)));
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float s = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  const __m512 vs = _mm512_set1_ps(s);
  i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(
        y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs),
                                        _mm512_maskz_loadu_ps(m, w + i)));
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  binary16(gate, up, out, n, [](__m512 g, __m512 u) { return silu_mul16(g, u); });
}

void add(const float* a, const float* b, float* y, int64_t n) {
  binary16(a, b, y, n, [](__m512 x, __m512 z) { return _mm512_add_ps(x, z); });
}

void scale(float* x, float s, int64_t n) {
  const __m512 vs = _mm512_set1_ps(s);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
  }
}

void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    int i = 0;
    for (; i + 16 <= half; i += 16) {
      const __m512 a = _mm512_loadu_ps(v + i), b = _mm512_loadu_ps(v + i + half);
      const __m512 c = _mm512_loadu_ps(cos + i), s = _mm512_loadu_ps(sin + i);
      _mm512_storeu_ps(v + i, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
      _mm512_storeu_ps(v + i + half, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)));
    }
    for (; i + 8 <= half; i += 8) {  // AVX2's steps, then its scalar tail
      const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + i + half);
      const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
      _mm256_storeu_ps(v + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
      _mm256_storeu_ps(v + i + half, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
    }
    for (; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = a * sin[i] + b * cos[i];
    }
  }
}

}  // namespace qwen3::avx512
