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
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
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

// The 8 horizontal sums of v[0..8) in one vector, lane k = hsum(v[k]) bit for bit: the
// same additions in the same association as hsum() (lane i + lane i+4, then the pairs
// two apart, then the last two), done on all eight vectors at once by transposing.
inline __m256 hsum8(const __m256 (&v)[8]) {
  __m256 s[4];  // s[m] = halves added for the vector pair (v[m], v[m + 4])
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m)
    s[m] = _mm256_add_ps(_mm256_permute2f128_ps(v[m], v[m + 4], 0x20),
                         _mm256_permute2f128_ps(v[m], v[m + 4], 0x31));
  // t0 = [v0 02, v0 13, v1 02, v1 13 | v4 .., v5 ..], t1 the same for v2, v3 / v6, v7.
  const __m256 t0 =
      _mm256_add_ps(_mm256_shuffle_ps(s[0], s[1], 0x44), _mm256_shuffle_ps(s[0], s[1], 0xEE));
  const __m256 t1 =
      _mm256_add_ps(_mm256_shuffle_ps(s[2], s[3], 0x44), _mm256_shuffle_ps(s[2], s[3], 0xEE));
  return _mm256_add_ps(_mm256_shuffle_ps(t0, t1, 0x88), _mm256_shuffle_ps(t0, t1, 0xDD));
}

// Decode reads the KV cache from DRAM in short blocks (16 positions of one head, a few
// KiB, each block elsewhere): prefetch a block's rows as a whole on entry, and the rows
// kAheadRows ahead as the loops go, so the misses overlap instead of each pass of
// mix_heads waiting on its own column of cache lines.
constexpr int64_t kAheadRows = 16;
template <class E>
inline void prefetch_rows(const E* p, int64_t rows, int dim) {
  const char* c = reinterpret_cast<const char*>(p);
  const int64_t bytes = rows * dim * static_cast<int64_t>(sizeof(E));
  for (int64_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

// scores() for NQ query heads at once: RB rows per pass (NQ x RB = 8 accumulators, all
// in registers), each row converted once; every (head, row) gets exactly scores()'s
// fmadd chain and hsum (hsum8 is the same additions).
template <class E, int NQ>
void scores_heads(const E* k, int64_t n, int dim, const float* q, int64_t qs, float scale,
                  float* out, int64_t os) {
  constexpr int RB = NQ == 1 ? 8 : NQ == 2 ? 4 : 2;
  const __m256 vs = _mm256_set1_ps(scale);
  prefetch_rows(k, std::min(n, kAheadRows), dim);
  int64_t j = 0;
  for (; j + RB <= n; j += RB) {
    const E* r = k + j * dim;
    if (j + kAheadRows < n)
      prefetch_rows(r + kAheadRows * dim, std::min<int64_t>(RB, n - j - kAheadRows), dim);
    __m256 a[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) a[c] = _mm256_setzero_ps();
    for (int d = 0; d < dim; d += 8) {
      __m256 rv[RB];
#pragma GCC unroll 8
      for (int rr = 0; rr < RB; ++rr) rv[rr] = load8(r + rr * dim + d);
#pragma GCC unroll 4
      for (int i = 0; i < NQ; ++i) {
        const __m256 qv = _mm256_loadu_ps(q + i * qs + d);
#pragma GCC unroll 8
        for (int rr = 0; rr < RB; ++rr)
          a[i * RB + rr] = _mm256_fmadd_ps(rv[rr], qv, a[i * RB + rr]);
      }
    }
    alignas(32) float t[8];  // t[c] = accumulator c's sum times scale
    _mm256_store_ps(t, _mm256_mul_ps(hsum8(a), vs));
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i)
#pragma GCC unroll 8
      for (int rr = 0; rr < RB; ++rr) out[i * os + j + rr] = t[i * RB + rr];
  }
  for (; j < n; ++j) {
    __m256 a[NQ];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i) a[i] = _mm256_setzero_ps();
    for (int d = 0; d < dim; d += 8) {
      const __m256 r0 = load8(k + j * dim + d);
#pragma GCC unroll 4
      for (int i = 0; i < NQ; ++i)
        a[i] = _mm256_fmadd_ps(r0, _mm256_loadu_ps(q + i * qs + d), a[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i) out[i * os + j] = hsum(a[i]) * scale;
  }
}

// mix() for NQ heads at once, 64 / NQ output columns per pass (NQ x 64/NQ/8 <= 8
// accumulators in registers): each row's values are converted once, and every output
// element gets mix()'s fmadd chain over the rows.
template <class E, int NQ>
void mix_heads(const E* v, int64_t n, int dim, const float* p, int64_t ps, float* out, int64_t os) {
  constexpr int W = NQ == 1 ? 8 : NQ == 2 ? 4 : 2;  // 8-column vectors per pass
  prefetch_rows(v, std::min(n, kAheadRows), dim);
  int d0 = 0;
  for (; d0 + 8 * W <= dim; d0 += 8 * W) {
    __m256 acc[NQ][W];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i)
#pragma GCC unroll 8
      for (int c = 0; c < W; ++c) acc[i][c] = _mm256_loadu_ps(out + i * os + d0 + 8 * c);
    for (int64_t j = 0; j < n; ++j) {
      const E* r = v + j * dim + d0;
      if (d0 == 0 && j + kAheadRows < n) prefetch_rows(v + (j + kAheadRows) * dim, 1, dim);
      __m256 vv[W];
#pragma GCC unroll 8
      for (int c = 0; c < W; ++c) vv[c] = load8(r + 8 * c);
#pragma GCC unroll 4
      for (int i = 0; i < NQ; ++i) {
        const __m256 pj = _mm256_set1_ps(p[i * ps + j]);
#pragma GCC unroll 8
        for (int c = 0; c < W; ++c) acc[i][c] = _mm256_fmadd_ps(pj, vv[c], acc[i][c]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i)
#pragma GCC unroll 8
      for (int c = 0; c < W; ++c) _mm256_storeu_ps(out + i * os + d0 + 8 * c, acc[i][c]);
  }
  for (; d0 < dim; d0 += 8) {  // columns left over: 8 at a time
    __m256 acc[NQ];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i) acc[i] = _mm256_loadu_ps(out + i * os + d0);
    for (int64_t j = 0; j < n; ++j) {
      const __m256 v0 = load8(v + j * dim + d0);
#pragma GCC unroll 4
      for (int i = 0; i < NQ; ++i)
        acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(p[i * ps + j]), v0, acc[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < NQ; ++i) _mm256_storeu_ps(out + i * os + d0, acc[i]);
  }
}

constexpr int kHeads = 4;

template <class E>
void scores_group(const E* k, int64_t n, int dim, const float* q, int64_t qs, int nq, float scale,
                  float* out, int64_t os) {
  for (int i = 0; i < nq; i += kHeads) {
    const float* qi = q + i * qs;
    float* oi = out + i * os;
    switch (std::min(kHeads, nq - i)) {
      case 1:
        scores_heads<E, 1>(k, n, dim, qi, qs, scale, oi, os);
        break;
      case 2:
        scores_heads<E, 2>(k, n, dim, qi, qs, scale, oi, os);
        break;
      case 3:
        scores_heads<E, 3>(k, n, dim, qi, qs, scale, oi, os);
        break;
      default:
        scores_heads<E, 4>(k, n, dim, qi, qs, scale, oi, os);
    }
  }
}
template <class E>
void mix_group(const E* v, int64_t n, int dim, const float* p, int64_t ps, int nq, float* out,
               int64_t os) {
  for (int i = 0; i < nq; i += kHeads) {
    const float* pi = p + i * ps;
    float* oi = out + i * os;
    switch (std::min(kHeads, nq - i)) {
      case 1:
        mix_heads<E, 1>(v, n, dim, pi, ps, oi, os);
        break;
      case 2:
        mix_heads<E, 2>(v, n, dim, pi, ps, oi, os);
        break;
      case 3:
        mix_heads<E, 3>(v, n, dim, pi, ps, oi, os);
        break;
      default:
        mix_heads<E, 4>(v, n, dim, pi, ps, oi, os);
    }
  }
}
}  // namespace

void attn_scores_f16_heads(const uint16_t* k, int64_t n, int dim, const float* q, int64_t q_stride,
                           int n_q, float scale, float* scores, int64_t s_stride) {
  scores_group(k, n, dim, q, q_stride, n_q, scale, scores, s_stride);
}
void attn_scores_f32_heads(const float* k, int64_t n, int dim, const float* q, int64_t q_stride,
                           int n_q, float scale, float* scores, int64_t s_stride) {
  scores_group(k, n, dim, q, q_stride, n_q, scale, scores, s_stride);
}
void attn_mix_f16_heads(const uint16_t* v, int64_t n, int dim, const float* p, int64_t p_stride,
                        int n_q, float* out, int64_t o_stride) {
  mix_group(v, n, dim, p, p_stride, n_q, out, o_stride);
}
void attn_mix_f32_heads(const float* v, int64_t n, int dim, const float* p, int64_t p_stride,
                        int n_q, float* out, int64_t o_stride) {
  mix_group(v, n, dim, p, p_stride, n_q, out, o_stride);
}

void attn_scores_f16(const uint16_t* k, int64_t n, int dim, const float* q, float scale, float* s) {
  scores(k, n, dim, q, scale, s);
}
void attn_scores_f32(const float* k, int64_t n, int dim, const float* q, float scale, float* s) {
  scores(k, n, dim, q, scale, s);
}
void attn_mix_f16(const uint16_t* v, int64_t n, int dim, const float* p, float* out) {
  mix(v, n, dim, p, out);
}
void attn_mix_f32(const float* v, int64_t n, int dim, const float* p, float* out) {
  mix(v, n, dim, p, out);
}

}  // namespace qwen3::avx2
