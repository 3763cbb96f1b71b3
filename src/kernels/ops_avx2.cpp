#include <algorithm>
#include <cmath>

#include "kernels/kernels_avx2.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
    acc1 = _mm256_fmadd_ps(b, b, acc1);
  }
  double ss = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float s = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  const __m256 vs = _mm256_set1_ps(s);
  i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
  for (; i < n; ++i) y[i] = x[i] * s * w[i];
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float mx = hmax(vmax);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 vm = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  double sum = hsum(vsum);
  if (i < n) {
    const int r = static_cast<int>(n - i);
    const __m256 e = exp_ps(_mm256_sub_ps(load_partial(x + i, r), vm));
    alignas(32) float t[8];
    _mm256_store_ps(t, e);
    for (int k = 0; k < r; ++k) {
      x[i + k] = t[k];
      sum += t[k];
    }
  }
  scale(x, static_cast<float>(1.0 / sum), n);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  auto silu = [&](__m256 g) {
    return _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
  };
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_mul_ps(silu(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    store_partial(out + i, _mm256_mul_ps(silu(load_partial(gate + i, r)), load_partial(up + i, r)),
                  r);
  }
}

void add(const float* a, const float* b, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  for (; i < n; ++i) y[i] = a[i] + b[i];
}

void scale(float* x, float s, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
  for (; i < n; ++i) x[i] *= s;
}

float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    int i = 0;
    for (; i + 8 <= half; i += 8) {
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

namespace {
inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}

// Four rows at a time so four independent FMA chains hide the latency.
template <class E>
void scores(const E* k, int64_t n, int dim, const float* q, float scale, float* out) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const E* r = k + j * dim;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int d = 0; d < dim; d += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d);
      a0 = _mm256_fmadd_ps(load8(r + d), qv, a0);
      a1 = _mm256_fmadd_ps(load8(r + dim + d), qv, a1);
      a2 = _mm256_fmadd_ps(load8(r + 2 * dim + d), qv, a2);
      a3 = _mm256_fmadd_ps(load8(r + 3 * dim + d), qv, a3);
    }
    out[j] = hsum(a0) * scale;
    out[j + 1] = hsum(a1) * scale;
    out[j + 2] = hsum(a2) * scale;
    out[j + 3] = hsum(a3) * scale;
  }
  for (; j < n; ++j) {
    __m256 a = _mm256_setzero_ps();
    for (int d = 0; d < dim; d += 8)
      a = _mm256_fmadd_ps(load8(k + j * dim + d), _mm256_loadu_ps(q + d), a);
    out[j] = hsum(a) * scale;
  }
}

// out += sum_j p[j] * row j, 64 output columns per pass kept in registers.
template <class E>
void mix(const E* v, int64_t n, int dim, const float* p, float* out) {
  for (int d0 = 0; d0 < dim; d0 += 64) {
    const int w = std::min(64, dim - d0) / 8;
    __m256 acc[8];
    for (int i = 0; i < w; ++i) acc[i] = _mm256_loadu_ps(out + d0 + 8 * i);
    for (int64_t j = 0; j < n; ++j) {
      const __m256 pj = _mm256_set1_ps(p[j]);
      const E* r = v + j * dim + d0;
      if (w == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(pj, load8(r + 8 * i), acc[i]);
      } else {
        for (int i = 0; i < w; ++i) acc[i] = _mm256_fmadd_ps(pj, load8(r + 8 * i), acc[i]);
      }
    }
    for (int i = 0; i < w; ++i) _mm256_storeu_ps(out + d0 + 8 * i, acc[i]);
  }
}

}  // namespace

void attn_scores_f32(const float* k, int64_t n, int dim, const float* q, float scale, float* s) {
  scores(k, n, dim, q, scale, s);
}
void attn_mix_f32(const float* v, int64_t n, int dim, const float* p, float* out) {
  mix(v, n, dim, p, out);
}

}  // namespace qwen3::avx2
