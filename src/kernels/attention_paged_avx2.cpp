// attention_paged with AVX2+FMA+F16C (see attention_paged.h): the scores of 8 rows of a
// block per register (keys are stored dim-major), the values mixed 32 columns at a time.
// paged_softmax is shared with the AVX-512 kernel so both levels give the same bits.
#include <algorithm>
#include <cmath>

#include "kernels/attention_paged_internal.h"
#include "kernels/simd_avx2.h"

namespace qwen3::avx2 {
namespace {

inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256 load8(const std::uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline void prefetch(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (std::size_t o = 0; o < bytes; o += 64) _mm_prefetch(c + o, _MM_HINT_T0);
}

// dot[i][r0..r0+8) of NQ heads over the key rows of one block (kc = its keys + r0).
template <class E, int NQ>
void scores8(const E* kc, int bs, int dim, const float* q, std::int64_t qs, float* s,
             std::size_t ss) {
  __m256 a[NQ][4];
  for (int i = 0; i < NQ; ++i) a[i][0] = a[i][1] = a[i][2] = a[i][3] = _mm256_setzero_ps();
  int d = 0;
  for (; d + 4 <= dim; d += 4)
    for (int u = 0; u < 4; ++u) {
      const __m256 k = load8(kc + static_cast<std::size_t>(d + u) * bs);
      for (int i = 0; i < NQ; ++i)
        a[i][u] = _mm256_fmadd_ps(k, _mm256_broadcast_ss(q + i * qs + d + u), a[i][u]);
    }
  for (int u = 0; d < dim; ++d, ++u) {
    const __m256 k = load8(kc + static_cast<std::size_t>(d) * bs);
    for (int i = 0; i < NQ; ++i)
      a[i][u] = _mm256_fmadd_ps(k, _mm256_broadcast_ss(q + i * qs + d), a[i][u]);
  }
  for (int i = 0; i < NQ; ++i)
    _mm256_storeu_ps(s + i * ss, _mm256_add_ps(_mm256_add_ps(a[i][0], a[i][1]),
                                               _mm256_add_ps(a[i][2], a[i][3])));
}

// out_i[c0..c0+8*NV) for NQ heads: the fma chain over every row of every block.
template <class E, int NQ, int NV>
void mix(const PagedKv& kv, int n_keys, int dim, int c0, const float* p, std::size_t ps,
         const float* inv, float* out, std::int64_t os) {
  const int bs = kv.block_size;
  __m256 acc[NQ][NV];
  for (int i = 0; i < NQ; ++i)
    for (int c = 0; c < NV; ++c) acc[i][c] = _mm256_setzero_ps();
  const auto* vbase = static_cast<const std::uint8_t*>(kv.v);
  for (int j = 0, r0 = 0; r0 < n_keys; ++j, r0 += bs) {
    const E* vb =
        reinterpret_cast<const E*>(vbase + static_cast<std::size_t>(kv.table[j]) * kv.block_bytes) +
        c0;
    const int rows = std::min(bs, n_keys - r0);
    for (int r = 0; r < rows; ++r) {
      const E* vr = vb + static_cast<std::size_t>(r) * dim;
      __m256 v[NV];
      for (int c = 0; c < NV; ++c) v[c] = load8(vr + 8 * c);
      for (int i = 0; i < NQ; ++i) {
        const __m256 pr = _mm256_broadcast_ss(p + i * ps + r0 + r);
        for (int c = 0; c < NV; ++c) acc[i][c] = _mm256_fmadd_ps(pr, v[c], acc[i][c]);
      }
    }
  }
  for (int i = 0; i < NQ; ++i) {
    const __m256 s = _mm256_set1_ps(inv[i]);
    for (int c = 0; c < NV; ++c)
      _mm256_storeu_ps(out + i * os + c0 + 8 * c, _mm256_mul_ps(acc[i][c], s));
  }
}

template <class E, int NQ>
void mix_heads(const PagedKv& kv, int n_keys, int dim, const float* p, std::size_t ps,
               const float* inv, float* out, std::int64_t os) {
  int c0 = 0;
  for (; c0 + 32 <= dim; c0 += 32) mix<E, NQ, 4>(kv, n_keys, dim, c0, p, ps, inv, out, os);
  for (; c0 < dim; c0 += 8) mix<E, NQ, 1>(kv, n_keys, dim, c0, p, ps, inv, out, os);
}

template <class E>
void attend(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t qs, int n_q,
            float scale, float* out, std::int64_t os, float* scratch) {
  const int bs = kv.block_size;
  const std::size_t ss = attention_paged_scratch(n_keys, 1, bs);
  const std::size_t group = static_cast<std::size_t>(bs) * dim * sizeof(E);
  const auto* kbase = static_cast<const std::uint8_t*>(kv.k);
  const auto* vbase = static_cast<const std::uint8_t*>(kv.v);
  const int n_blk = (n_keys + bs - 1) / bs;
  for (int j = 0; j < n_blk; ++j) {
    const E* kb =
        reinterpret_cast<const E*>(kbase + static_cast<std::size_t>(kv.table[j]) * kv.block_bytes);
    if (j + 1 < n_blk)
      prefetch(kbase + static_cast<std::size_t>(kv.table[j + 1]) * kv.block_bytes, group);
    prefetch(vbase + static_cast<std::size_t>(kv.table[j]) * kv.block_bytes, group);
    const int rows = std::min(bs, n_keys - j * bs);
    for (int r0 = 0; r0 < rows; r0 += 8) {
      float* s = scratch + static_cast<std::size_t>(j) * bs + r0;
      int i = 0;
      for (; i + 2 <= n_q; i += 2) scores8<E, 2>(kb + r0, bs, dim, q + i * qs, qs, s + i * ss, ss);
      if (i < n_q) scores8<E, 1>(kb + r0, bs, dim, q + i * qs, qs, s + i * ss, ss);
    }
  }
  float inv[2];
  for (int i = 0; i < n_q; i += 2) {
    const int nq = std::min(2, n_q - i);
    for (int h = 0; h < nq; ++h) inv[h] = paged_softmax(scratch + (i + h) * ss, n_keys, scale);
    if (nq == 2)
      mix_heads<E, 2>(kv, n_keys, dim, scratch + i * ss, ss, inv, out + i * os, os);
    else
      mix_heads<E, 1>(kv, n_keys, dim, scratch + i * ss, ss, inv, out + i * os, os);
  }
}

}  // namespace

float paged_softmax(float* s, int n, float scale) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(s + i));
  float m = hmax(vmax);
  for (int k = i; k < n; ++k) m = std::max(m, s[k]);
  const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(scale);
  __m256 sum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(s + i), vm), vs));
    _mm256_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const int r = n - i;
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(r), idx));
    __m256 e = exp_ps(_mm256_mul_ps(_mm256_sub_ps(load_partial(s + i, r), vm), vs));
    e = _mm256_and_ps(e, keep);
    store_partial(s + i, e, r);
    sum = _mm256_add_ps(sum, e);
  }
  return 1.0f / hsum(sum);
}

void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch) {
  if (kv.f16)
    attend<std::uint16_t>(kv, n_keys, dim, q, q_stride, n_q, scale, out, o_stride, scratch);
  else
    attend<float>(kv, n_keys, dim, q, q_stride, n_q, scale, out, o_stride, scratch);
}

}  // namespace qwen3::avx2
