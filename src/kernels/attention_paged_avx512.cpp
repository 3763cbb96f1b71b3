// attention_paged with AVX-512 (see attention_paged.h): the scores of 16 rows of a block
// per register (keys are stored dim-major; up to 4 query heads per pass over the keys),
// the values mixed 128 columns of 2 heads at a time, all in registers. The same
// arithmetic as the AVX2 kernel lane for lane (and its softmax), so the same bits.
#include <immintrin.h>

#include <algorithm>

#include "kernels/attention_paged_internal.h"

namespace qwen3::avx512 {
namespace {

inline __m512 load16(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}
inline __m512 load16(const std::uint16_t* p, __mmask16 m) {
  return _mm512_maskz_cvtph_ps(m, _mm256_maskz_loadu_epi16(m, p));
}
inline __m512 load16(const float* p) {
  return _mm512_loadu_ps(p);
}
inline __m512 load16(const std::uint16_t* p) {
  // (the all-ones mask only avoids GCC 12's false uninitialized warning of _mm512_cvtph_ps)
  return _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline void prefetch(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (std::size_t o = 0; o < bytes; o += 64) _mm_prefetch(c + o, _MM_HINT_T0);
}

// dot[i][r0..r0+16) of NQ heads over the key rows of one block (kc = its keys + r0);
// lanes outside m are not stored.
template <class E, int NQ, bool kFull>
void scores16(const E* kc, int bs, int dim, const float* q, std::int64_t qs, float* s,
              std::size_t ss, __mmask16 m) {
  __m512 a[NQ][4];
  for (int i = 0; i < NQ; ++i) a[i][0] = a[i][1] = a[i][2] = a[i][3] = _mm512_setzero_ps();
  auto load = [&](int d) {
    const E* p = kc + static_cast<std::size_t>(d) * bs;
    if constexpr (kFull)
      return load16(p);
    else
      return load16(p, m);
  };
  int d = 0;
  for (; d + 4 <= dim; d += 4)
    for (int u = 0; u < 4; ++u) {
      const __m512 k = load(d + u);
      for (int i = 0; i < NQ; ++i)
        a[i][u] = _mm512_fmadd_ps(k, _mm512_set1_ps(q[i * qs + d + u]), a[i][u]);
    }
  for (int u = 0; d < dim; ++d, ++u) {
    const __m512 k = load(d);
    for (int i = 0; i < NQ; ++i)
      a[i][u] = _mm512_fmadd_ps(k, _mm512_set1_ps(q[i * qs + d]), a[i][u]);
  }
  for (int i = 0; i < NQ; ++i)
    _mm512_mask_storeu_ps(
        s + i * ss, m,
        _mm512_add_ps(_mm512_add_ps(a[i][0], a[i][1]), _mm512_add_ps(a[i][2], a[i][3])));
}

template <class E, bool kFull>
void scores_heads(const E* kc, int bs, int dim, const float* q, std::int64_t qs, int n_q, float* s,
                  std::size_t ss, __mmask16 m) {
  int i = 0;
  for (; i + 4 <= n_q; i += 4)
    scores16<E, 4, kFull>(kc, bs, dim, q + i * qs, qs, s + i * ss, ss, m);
  switch (n_q - i) {
    case 3:
      scores16<E, 3, kFull>(kc, bs, dim, q + i * qs, qs, s + i * ss, ss, m);
      break;
    case 2:
      scores16<E, 2, kFull>(kc, bs, dim, q + i * qs, qs, s + i * ss, ss, m);
      break;
    case 1:
      scores16<E, 1, kFull>(kc, bs, dim, q + i * qs, qs, s + i * ss, ss, m);
      break;
    default:
      break;
  }
}

// out_i[c0..c0+16*NV) for NQ heads (the last vector masked by m): the fma chain over
// every row of every block.
template <class E, int NQ, int NV>
void mix(const PagedKv& kv, int n_keys, int dim, int c0, const float* p, std::size_t ps,
         const float* inv, float* out, std::int64_t os, __mmask16 m) {
  const int bs = kv.block_size;
  __m512 acc[NQ][NV];
  for (int i = 0; i < NQ; ++i)
    for (int c = 0; c < NV; ++c) acc[i][c] = _mm512_setzero_ps();
  const auto* vbase = static_cast<const std::uint8_t*>(kv.v);
  for (int j = 0, r0 = 0; r0 < n_keys; ++j, r0 += bs) {
    const E* vb =
        reinterpret_cast<const E*>(vbase + static_cast<std::size_t>(kv.table[j]) * kv.block_bytes) +
        c0;
    const int rows = std::min(bs, n_keys - r0);
    for (int r = 0; r < rows; ++r) {
      const E* vr = vb + static_cast<std::size_t>(r) * dim;
      __m512 v[NV];
      for (int c = 0; c + 1 < NV; ++c) v[c] = load16(vr + 16 * c);
      v[NV - 1] = m == 0xFFFF ? load16(vr + 16 * (NV - 1)) : load16(vr + 16 * (NV - 1), m);
      for (int i = 0; i < NQ; ++i) {
        const __m512 pr = _mm512_set1_ps(p[i * ps + r0 + r]);
        for (int c = 0; c < NV; ++c) acc[i][c] = _mm512_fmadd_ps(pr, v[c], acc[i][c]);
      }
    }
  }
  for (int i = 0; i < NQ; ++i) {
    const __m512 s = _mm512_set1_ps(inv[i]);
    for (int c = 0; c + 1 < NV; ++c)
      _mm512_storeu_ps(out + i * os + c0 + 16 * c, _mm512_mul_ps(acc[i][c], s));
    _mm512_mask_storeu_ps(out + i * os + c0 + 16 * (NV - 1), m, _mm512_mul_ps(acc[i][NV - 1], s));
  }
}

template <class E, int NQ>
void mix_heads(const PagedKv& kv, int n_keys, int dim, const float* p, std::size_t ps,
               const float* inv, float* out, std::int64_t os) {
  int c0 = 0;
  for (; c0 + 128 <= dim; c0 += 128)
    mix<E, NQ, 8>(kv, n_keys, dim, c0, p, ps, inv, out, os, 0xFFFF);
  if (c0 + 64 <= dim) {
    mix<E, NQ, 4>(kv, n_keys, dim, c0, p, ps, inv, out, os, 0xFFFF);
    c0 += 64;
  }
  if (c0 + 32 <= dim) {
    mix<E, NQ, 2>(kv, n_keys, dim, c0, p, ps, inv, out, os, 0xFFFF);
    c0 += 32;
  }
  for (; c0 < dim; c0 += 16) {
    const int w = std::min(16, dim - c0);
    mix<E, NQ, 1>(kv, n_keys, dim, c0, p, ps, inv, out, os, static_cast<__mmask16>((1u << w) - 1u));
  }
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
    for (int r0 = 0; r0 < rows; r0 += 16) {
      float* s = scratch + static_cast<std::size_t>(j) * bs + r0;
      if (r0 + 16 <= bs)
        scores_heads<E, true>(kb + r0, bs, dim, q, qs, n_q, s, ss, 0xFFFF);
      else  // the last 8 rows of a block of 8 (mod 16)
        scores_heads<E, false>(kb + r0, bs, dim, q, qs, n_q, s, ss, 0x00FF);
    }
  }
  float inv[2];
  for (int i = 0; i < n_q; i += 2) {
    const int nq = std::min(2, n_q - i);
    for (int h = 0; h < nq; ++h)
      inv[h] = avx2::paged_softmax(scratch + (i + h) * ss, n_keys, scale);
    if (nq == 2)
      mix_heads<E, 2>(kv, n_keys, dim, scratch + i * ss, ss, inv, out + i * os, os);
    else
      mix_heads<E, 1>(kv, n_keys, dim, scratch + i * ss, ss, inv, out + i * os, os);
  }
}

}  // namespace

void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch) {
  if (kv.f16)
    attend<std::uint16_t>(kv, n_keys, dim, q, q_stride, n_q, scale, out, o_stride, scratch);
  else
    attend<float>(kv, n_keys, dim, q, q_stride, n_q, scale, out, o_stride, scratch);
}

}  // namespace qwen3::avx512
