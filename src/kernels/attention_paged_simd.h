// attention_paged and attention_paged_rows (attention_paged.h) written once for the SIMD
// levels over vector traits V: attention_paged_avx2.cpp (8 lanes) and
// attention_paged_avx512.cpp (16 lanes) define V and include this file. Every lane does
// the arithmetic of the contract in attention_paged.h, so both levels give the same bits.
//
// Two drivers, the same arithmetic per (row, head) pair:
//   one row (a decode token): the scores of the row's heads over every key block, then
//     the values mixed column strip by column strip with the accumulators in registers
//     over the whole sequence (fp16 converted, q8_0 dequantized as it is loaded);
//   a tile of rows (a prompt chunk): each key block is loaded once (converted from fp16
//     once, into a float buffer) and scored against every pair of the tile while it is
//     in L1; after the softmax, each value block is loaded and converted once and mixed
//     into every pair's accumulators (kept in a small buffer across blocks). The keys and
//     values of a sequence are read from memory once per tile instead of once per row.
//   Causal: pair k's chain runs over its own keys only; the scores a tile computes past a
//   row's last key are never read.
//
// Include only from a file built for one SIMD level, after defining the traits.
// Everything here sits in an anonymous namespace and instantiates no std:: templates (a
// template or inline function compiled with AVX-512 flags in one file could otherwise be
// the copy the linker keeps for every caller, and fault on a CPU without AVX-512).
// V provides: F (float vector), M (lane mask), N (lanes), kScoreNQ (pairs scored per
// pass over a key chunk), kScore2 (score two chunks per pass), kScore2Chains (2 or 4: of the 4
// fma chains of a pair, those one pass over the dims of two chunks runs), kMixNV (vectors of the
// one-row mix, 2 pairs at a time), kTileNQ and kTileNV (pairs and vectors of the tile mix); full(),
// first(n) (mask of n < N lanes; a level whose N divides every dim and block size never asks for
// one), zero(), bcast(const float*), fmadd(a, b, c) = a * b + c, add, mul, load(p), load(p, m) of
// float, fp16 and int8, bcast_h(const uint16_t*) (one fp16 as floats), store(p, v),
// store(p, v, m), softmax(s, n, scale) (avx2::paged_softmax's bits).
// Elements E: float, std::uint16_t (fp16) or std::int8_t (q8_0 quants: a key or value is
// load(quants) * its fp16 scale, exact in float, so the chains below see the float path's
// operands; the scales sit after the block's quants, attention_paged.h).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/attention_paged_internal.h"
#include "kernels/cpu_features.h"
#include "kernels/fp16.h"

namespace qwen3::paged_simd {
namespace {

// q8_0 elements (int8 quants with fp16 scales per 32 along the head dim).
template <class E>
constexpr bool kQ8 = sizeof(E) == 1;

// Bytes of one block's key or value rows of one head: the elements, and for q8_0 the
// scales after them.
template <class E>
std::size_t rows_bytes(int bs, int dim) {
  const std::size_t n = static_cast<std::size_t>(bs) * dim;
  return kQ8<E> ? n + n / 16 : n * sizeof(E);
}

// The fp16 scales of a q8_0 block's rows (rows: its quants; after the block_size * dim of
// them).
template <class E>
const std::uint16_t* q8_scales(const E* rows, int bs, int dim) {
  return reinterpret_cast<const std::uint16_t*>(reinterpret_cast<const std::uint8_t*>(rows) +
                                                static_cast<std::size_t>(bs) * dim);
}

inline int imin(int a, int b) {
  return a < b ? a : b;
}

// One line into L1 (prefetcht0), or into L2 (l2: prefetcht1).
inline void prefetch_line(const char* p, bool l2) {
  if (l2)
    _mm_prefetch(p, _MM_HINT_T1);
  else
    _mm_prefetch(p, _MM_HINT_T0);
}

inline void prefetch(const void* p, std::size_t bytes, bool l2 = false) {
  const char* c = static_cast<const char*>(p);
  for (std::size_t o = 0; o < bytes; o += 64) prefetch_line(c + o, l2);
}

// The one-row (decode) kernel prefetches into L2 where the rows8 decode does
// (rows8_prefetch_l2: Intel cores with AMX), else into L1. Into L1, the scores and the mix
// stalled on their prefetches (perf annotate of a 4-sequence q8_0 step: over half of the
// samples of scores2 and MixRow on the instruction after a prefetcht0, the core's line
// fill buffers full). With prefetcht1, one fp16 layer of 4 sequences at 160 positions
// took 200-206 us against 218-237 (attention_bench Decode cold, one thread, 3 alternating
// rounds); in batch_step_bench part1 q8_0 at one thread (CPU time), with the next item's
// first key blocks prefetched (MixRow::pf_next), the attention column of 4 sequences went
// 4.61-4.74 -> 4.36-4.42 ms, 1 and 8 sequences the same (2 alternating rounds, load
// 1.3-2.3: another helper's benchmarks on the second core; Sapphire-Rapids-class KVM
// guest, session 16). attention_bench's q8_0 decode (one thread, each layer flushed from
// the caches first) disagrees for one sequence: 32-33 -> 40-42 us a layer (4: 134-138 ->
// 133-135, 8: 280-284 -> 265-268); the 2-thread step's q8_0 attention column of one
// sequence went 0.58-0.60 -> 0.56-0.57 ms, so the step decides.
inline bool row_prefetch_l2() {
  return rows8_prefetch_l2();
}

template <class E>
const E* block_at(const void* base, const PagedKv& kv, int j) {
  return reinterpret_cast<const E*>(static_cast<const std::uint8_t*>(base) +
                                    static_cast<std::size_t>(kv.table[j]) * kv.block_bytes);
}

// The queries of one call, as (row, head) pairs k = row * n_heads + head.
struct Pairs {
  const PagedQueries& qs;
  int n() const { return qs.n_rows * qs.n_heads; }
  const float* q(int k) const {
    return qs.q + (k / qs.n_heads) * qs.row_stride + (k % qs.n_heads) * qs.head_stride;
  }
  float* out(int k) const {
    return qs.out + (k / qs.n_heads) * qs.out_row_stride + (k % qs.n_heads) * qs.out_head_stride;
  }
  int keys(int k) const { return qs.n_keys + k / qs.n_heads; }
};

// A whole vector, or (kFull false) the lanes of m. (A compile-time choice: a branch in
// the inner loops keeps the compiler from holding the accumulators in registers.)
template <class V, bool kFull, class E>
typename V::F load_m(const E* p, typename V::M m) {
  if constexpr (kFull) {
    (void)m;
    return V::load(p);
  } else {
    return V::load(p, m);
  }
}

// Key element d of the chunk's N rows (kc: the chunk's quants or elements; ks: for q8_0,
// the scales of its rows of group 0, group g at ks + g * bs).
template <class V, bool kFull, class E>
typename V::F key_load(const E* kc, const std::uint16_t* ks, int d, int bs, typename V::M m) {
  const typename V::F k = load_m<V, kFull>(kc + static_cast<std::size_t>(d) * bs, m);
  if constexpr (kQ8<E>)
    return V::mul(k, load_m<V, kFull>(ks + static_cast<std::size_t>(d / 32) * bs, m));
  else
    return k;
}

// dot[k][r0..r0+N) of pairs k0..k0+NQ over the key rows of one block (kc = its keys + r0,
// dim-major with row stride bs; ks their q8_0 scales); lanes outside m are not stored.
template <class V, class E, int NQ, bool kFull>
void scores(const E* kc, const std::uint16_t* ks, int bs, int dim, const Pairs& P, int k0, float* s,
            std::size_t ss, typename V::M m) {
  typename V::F a[NQ][4];
  const float* q[NQ];
  for (int i = 0; i < NQ; ++i) {
    a[i][0] = a[i][1] = a[i][2] = a[i][3] = V::zero();
    q[i] = P.q(k0 + i);
  }
  int d = 0;
  for (; d + 4 <= dim; d += 4)
    for (int u = 0; u < 4; ++u) {
      const typename V::F k = key_load<V, kFull>(kc, ks, d + u, bs, m);
      for (int i = 0; i < NQ; ++i) a[i][u] = V::fmadd(k, V::bcast(q[i] + d + u), a[i][u]);
    }
  for (int u = 0; d < dim; ++d, ++u) {
    const typename V::F k = key_load<V, kFull>(kc, ks, d, bs, m);
    for (int i = 0; i < NQ; ++i) a[i][u] = V::fmadd(k, V::bcast(q[i] + d), a[i][u]);
  }
  for (int i = 0; i < NQ; ++i)
    V::store(s + static_cast<std::size_t>(k0 + i) * ss,
             V::add(V::add(a[i][0], a[i][1]), V::add(a[i][2], a[i][3])), m);
}

// The scores of every pair over rows r0..r0+N of one block (s = the scores of row r0).
template <class V, class E, bool kFull>
void scores_chunk(const E* kc, const std::uint16_t* ks, int bs, int dim, const Pairs& P, float* s,
                  std::size_t ss, typename V::M m) {
  const int n = P.n();
  int k = 0;
  for (; k + V::kScoreNQ <= n; k += V::kScoreNQ)
    scores<V, E, V::kScoreNQ, kFull>(kc, ks, bs, dim, P, k, s, ss, m);
  switch (n - k) {
    case 3:
      if constexpr (V::kScoreNQ > 3) scores<V, E, 3, kFull>(kc, ks, bs, dim, P, k, s, ss, m);
      break;
    case 2:
      if constexpr (V::kScoreNQ > 2) scores<V, E, 2, kFull>(kc, ks, bs, dim, P, k, s, ss, m);
      break;
    case 1:
      scores<V, E, 1, kFull>(kc, ks, bs, dim, P, k, s, ss, m);
      break;
    default:
      break;
  }
}

// The scores of every pair over the first `rows` rows of one block: whole chunks of N
// rows, the last one masked when the block size is not a multiple of N.
template <class V, class E>
void scores_block(const E* kb, int bs, int rows, int dim, const Pairs& P, float* s,
                  std::size_t ss) {
  for (int r0 = 0; r0 < rows; r0 += V::N) {
    const std::uint16_t* ks = kQ8<E> ? q8_scales(kb, bs, dim) + r0 : nullptr;
    if (r0 + V::N <= bs)
      scores_chunk<V, E, true>(kb + r0, ks, bs, dim, P, s + r0, ss, V::full());
    else
      scores_chunk<V, E, false>(kb + r0, ks, bs, dim, P, s + r0, ss, V::first(bs - r0));
  }
}

// Keeps a loaded vector in a register: without it GCC folds the key loads into every
// fma as a memory operand (NQ loads of each key vector instead of one).
template <class F>
inline void in_register(F& v) {
  asm("" : "+v"(v));
}

// Regions of memory to prefetch a few lines at a time between the loads of a compute
// loop: a burst of prefetches for whole blocks at once fills the core's miss buffers and
// stalls it until the memory answers; spread out, the computing overlaps the fetching.
struct Prefetcher {
  const char* p[4];
  int n = 0;
  std::size_t bytes = 0;  // of each region
  bool l2 = false;        // prefetcht1 (else prefetcht0)
  void add(const void* q) { p[n++] = static_cast<const char*>(q); }
};

// A walk over a Prefetcher's lines, `per_step` of them per next() call. Kept as a local
// of the compute loop (its state in registers: as a member reached through a pointer,
// every line's cursor update went through memory, a store-to-load chain that cost about
// half of the one-row kernel's time with the keys in cache).
struct PrefetchCursor {
  const char* const* p;
  int n, region = 0, per_step = 0;
  std::size_t bytes;
  bool l2;
  const char* cur = nullptr;
  const char* end = nullptr;
  // Spreads the lines over `steps` calls of next().
  PrefetchCursor(const Prefetcher& pf, int steps) : p(pf.p), n(pf.n), bytes(pf.bytes), l2(pf.l2) {
    const std::size_t lines = static_cast<std::size_t>(n) * ((bytes + 63) / 64);
    const std::size_t st = static_cast<std::size_t>(steps < 1 ? 1 : steps);
    per_step = static_cast<int>((lines + st - 1) / st);
    if (n > 0) {
      cur = p[0];
      end = cur + bytes;
    }
  }
  void one() {
    prefetch_line(cur, l2);
    cur += 64;
    if (cur >= end && ++region < n) {
      cur = p[region];
      end = cur + bytes;
    }
  }
  void next() {
    for (int i = 0; i < per_step && region < n; ++i) one();
  }
  void rest() {
    while (region < n) one();
  }
};

// Two whole chunks of N key rows at once (kc0, kc1, each dim-major with row stride bs;
// ks0, ks1 their q8_0 scales): each query element broadcast once for both, fewer loads
// per fma than one chunk. The same chains as scores(), so the same bits.
template <class V, int NQ, class E>
void scores2(const E* kc0, const E* kc1, const std::uint16_t* ks0, const std::uint16_t* ks1, int bs,
             int dim, const Pairs& P, int k0, float* s0, float* s1, std::size_t ss,
             Prefetcher* pf = nullptr) {
  // The four chains of each (pair, chunk) in passes of CH chains over the dims (AVX2: two
  // passes of two, so the accumulators fit 16 registers); a pass after the first adds its
  // chains to the stored sum of the earlier ones: (a0 + a1) + (a2 + a3) either way.
  constexpr int CH = V::kScore2Chains, kPasses = 4 / CH;
  static_assert(CH == 2 || CH == 4, "chains per pass: 2 or 4");
  const float* q[NQ];
  for (int i = 0; i < NQ; ++i) q[i] = P.q(k0 + i);
  Prefetcher none;
  PrefetchCursor pc(pf ? *pf : none, kPasses * (dim / 4));
  for (int pass = 0; pass < kPasses; ++pass) {
    typename V::F a[NQ][CH], b[NQ][CH];
    for (int i = 0; i < NQ; ++i)
      for (int w = 0; w < CH; ++w) a[i][w] = b[i][w] = V::zero();
    // Dims d..d+3 (sx, sy: the chunks' q8_0 scales of their group).
    auto step = [&](int d, typename V::F sx, typename V::F sy) {
      pc.next();
      for (int w = 0; w < CH; ++w) {
        const int u = pass * CH + w;
        const std::size_t o = static_cast<std::size_t>(d + u) * bs;
        typename V::F x = V::load(kc0 + o), y = V::load(kc1 + o);
        if constexpr (kQ8<E>) {
          x = V::mul(x, sx);
          y = V::mul(y, sy);
        }
        in_register(x);
        in_register(y);
        for (int i = 0; i < NQ; ++i) {
          const typename V::F qb = V::bcast(q[i] + d + u);
          a[i][w] = V::fmadd(x, qb, a[i][w]);
          b[i][w] = V::fmadd(y, qb, b[i][w]);
        }
      }
    };
    int d = 0;
    if constexpr (kQ8<E>) {
      // dim is a multiple of 32: each group's scales loaded once for its 8 steps.
      for (; d < dim; d += 32) {
        const std::size_t g = static_cast<std::size_t>(d / 32) * bs;
        const typename V::F sx = V::load(ks0 + g), sy = V::load(ks1 + g);
        for (int e = d; e < d + 32; e += 4) step(e, sx, sy);
      }
    } else {
      for (; d + 4 <= dim; d += 4) step(d, V::zero(), V::zero());
    }
    for (int u = 0; d < dim; ++d, ++u) {
      if (u / CH != pass) continue;
      const int w = u % CH;
      const std::size_t o = static_cast<std::size_t>(d) * bs;
      typename V::F x = V::load(kc0 + o), y = V::load(kc1 + o);
      in_register(x);
      in_register(y);
      for (int i = 0; i < NQ; ++i) {
        const typename V::F qb = V::bcast(q[i] + d);
        a[i][w] = V::fmadd(x, qb, a[i][w]);
        b[i][w] = V::fmadd(y, qb, b[i][w]);
      }
    }
    for (int i = 0; i < NQ; ++i) {
      const std::size_t at = static_cast<std::size_t>(k0 + i) * ss;
      typename V::F sa = V::add(a[i][0], a[i][1]), sb = V::add(b[i][0], b[i][1]);
      if constexpr (CH == 4) {
        sa = V::add(sa, V::add(a[i][2], a[i][3]));
        sb = V::add(sb, V::add(b[i][2], b[i][3]));
      } else if (pass == 1) {
        sa = V::add(V::load(s0 + at), sa);
        sb = V::add(V::load(s1 + at), sb);
      }
      V::store(s0 + at, sa);
      V::store(s1 + at, sb);
    }
  }
  pc.rest();
}

// Every pair over two whole chunks: groups of 3 pairs (24 accumulators), then 2 or 1.
template <class V, class E>
void scores2_pairs(const E* kc0, const E* kc1, const std::uint16_t* ks0, const std::uint16_t* ks1,
                   int bs, int dim, const Pairs& P, float* s0, float* s1, std::size_t ss,
                   Prefetcher* pf = nullptr) {
  const int n = P.n();
  int k = 0;
  for (; k + 3 <= n; k += 3, pf = nullptr)
    scores2<V, 3, E>(kc0, kc1, ks0, ks1, bs, dim, P, k, s0, s1, ss, pf);
  if (n - k == 2) scores2<V, 2, E>(kc0, kc1, ks0, ks1, bs, dim, P, k, s0, s1, ss, pf);
  if (n - k == 1) scores2<V, 1, E>(kc0, kc1, ks0, ks1, bs, dim, P, k, s0, s1, ss, pf);
}

// Column strips c0..c0+NV*N of a head: the widest first, then narrower, the last one
// masked: body.template run<NV, kFull>(c0, mask of the last vector).
template <class V, int NVmax, class Body>
void for_strips(int dim, Body& body) {
  int c0 = 0;
  for (; c0 + NVmax * V::N <= dim; c0 += NVmax * V::N)
    body.template run<NVmax, true>(c0, V::full());
  if constexpr (NVmax > 4)
    if (c0 + 4 * V::N <= dim) {
      body.template run<4, true>(c0, V::full());
      c0 += 4 * V::N;
    }
  if constexpr (NVmax > 2)
    if (c0 + 2 * V::N <= dim) {
      body.template run<2, true>(c0, V::full());
      c0 += 2 * V::N;
    }
  for (; c0 < dim; c0 += V::N)
    if (c0 + V::N <= dim)
      body.template run<1, true>(c0, V::full());
    else
      body.template run<1, false>(c0, V::first(dim - c0));
}

// The most q8_0 value scales of a block MixRow converts to floats at once (rows x dim / 32:
// 64 for 16 rows of 128 dims); larger blocks convert each scale where it is used.
constexpr int kMaxRowScales = 256;

// q8_0 one row: how many value blocks ahead of the one it mixes MixRow prefetches.
// (kMixAhead 1 to 4 and kKeyAhead 1, 2, 4 measured: 2 and 2 the fastest, attention_bench
// Decode cold kv 1, B 1/4/8 at 160 positions, one thread, Sapphire-Rapids VM, 2026-12-07.)
constexpr int kMixAhead = 2;
// q8_0 one row: how many key blocks past the ones it scores attend_row prefetches.
constexpr int kKeyAhead = 2;

// One row: out_k[c0..c0+NV*N) for NQ heads, the fma chain over every key of every block
// in registers, times 1 / sum.
template <class V, class E, int NQ>
struct MixRow {
  const PagedKv& kv;
  const Pairs& P;
  int k0, n_keys, dim;
  const float* s;
  std::size_t ss;
  const float* inv;
  // q8_0, the first strip of the first pairs: value block j + kMixAhead prefetched while
  // block j is mixed (attend_row).
  bool pf_values;
  bool l2;  // those prefetches into L2 (else L1)
  // The first strip of the first pairs: the first kKeyAhead key blocks of the next item
  // (kv.next) prefetched while the last kKeyAhead blocks are mixed, so that its scores do
  // not start on lines still in memory.
  bool pf_next;
  template <int NV, bool kFull>
  void run(int c0, typename V::M m) const {
    const int bs = kv.block_size;
    const int n_blk = (n_keys + bs - 1) / bs;
    const bool pf = kQ8<E> && pf_values && c0 == 0;  // (fp16, float: the code of before)
    typename V::F acc[NQ][NV];
    for (int i = 0; i < NQ; ++i)
      for (int c = 0; c < NV; ++c) acc[i][c] = V::zero();
    for (int j = 0, r0 = 0; r0 < n_keys; ++j, r0 += bs) {
      const E* vb = block_at<E>(kv.v, kv, j);
      const int rows = imin(bs, n_keys - r0);
      // (its lines spread over the rows: per_row of them after each row's loads)
      const char* pv = nullptr;
      const char* pv_end = nullptr;
      int per_row = 0;
      if (pf && j + kMixAhead < n_blk) {
        pv = reinterpret_cast<const char*>(block_at<E>(kv.v, kv, j + kMixAhead));
      } else if (pf_next && c0 == 0 && kv.next != nullptr && kv.next->type == kv.type &&
                 kv.next->block_size == bs) {
        const int jn = j - (n_blk - imin(kKeyAhead, n_blk));
        if (jn >= 0 && jn * bs < kv.next_keys)
          pv = reinterpret_cast<const char*>(block_at<E>(kv.next->k, *kv.next, jn));
      }
      if (pv != nullptr) {
        pv_end = pv + rows_bytes<E>(bs, dim);
        per_row = static_cast<int>((rows_bytes<E>(bs, dim) / 64 + rows) / rows);
      }
      // q8_0: the scales of the block's rows [r][g] as floats, once per block (each then
      // broadcast from memory: a load, no conversion per row); c0 is a multiple of 32.
      float fs[kMaxRowScales];
      const int groups = dim / 32;
      const bool in_fs = rows * groups <= kMaxRowScales;
      const std::uint16_t* vs = kQ8<E> ? q8_scales(vb, bs, dim) : nullptr;
      if constexpr (kQ8<E>)
        if (in_fs) {
          const int ns = rows * groups;
          int i = 0;
          for (; i + V::N <= ns; i += V::N) V::store(fs + i, V::load(vs + i));
          for (; i < ns; ++i) fs[i] = fp16_to_fp32(vs[i]);
        }
      vb += c0;
      for (int r = 0; r < rows; ++r) {
        for (int i = 0; i < per_row && pv < pv_end; ++i, pv += 64) prefetch_line(pv, l2);
        const E* vr = vb + static_cast<std::size_t>(r) * dim;
        typename V::F v[NV];
        for (int c = 0; c + 1 < NV; ++c) v[c] = V::load(vr + V::N * c);
        v[NV - 1] = load_m<V, kFull>(vr + V::N * (NV - 1), m);
        if constexpr (kQ8<E>) {
          const std::size_t g0 = static_cast<std::size_t>(r) * groups + c0 / 32;
          typename V::F sc = V::zero();
          for (int c = 0; c < NV; ++c) {
            if ((V::N * c) % 32 == 0)
              sc = in_fs ? V::bcast(fs + g0 + V::N * c / 32) : V::bcast_h(vs + g0 + V::N * c / 32);
            v[c] = V::mul(v[c], sc);
          }
        }
        for (int i = 0; i < NQ; ++i) {
          const typename V::F pr = V::bcast(s + static_cast<std::size_t>(k0 + i) * ss + r0 + r);
          for (int c = 0; c < NV; ++c) acc[i][c] = V::fmadd(pr, v[c], acc[i][c]);
        }
      }
      for (; pv < pv_end; pv += 64) prefetch_line(pv, l2);
    }
    for (int i = 0; i < NQ; ++i) {
      const typename V::F sc = V::bcast(inv + i);
      float* o = P.out(k0 + i) + c0;
      for (int c = 0; c + 1 < NV; ++c) V::store(o + V::N * c, V::mul(acc[i][c], sc));
      V::store(o + V::N * (NV - 1), V::mul(acc[i][NV - 1], sc), m);
    }
  }
};

template <class V, class E>
void attend_row(const PagedKv& kv, const Pairs& P, int dim, float scale, float* scratch) {
  const int bs = kv.block_size;
  const int n_keys = P.qs.n_keys, n = P.n();
  const std::size_t ss = paged_score_stride(n_keys, bs);
  const std::size_t group = rows_bytes<E>(bs, dim);
  const int n_blk = (n_keys + bs - 1) / bs;
  const bool l2 = row_prefetch_l2();
  bool mix_pf = false;  // MixRow prefetches the values (else the scores did)
  if (V::kScore2 && bs % V::N == 0) {
    // Where the level pairs chunks: the sequence's chunks of N key rows two by two, each
    // query element broadcast once for both (fewer loads per fma); the keys of the
    // blocks of the next pair and the values of this pair's blocks prefetched.
    const int per = bs / V::N, chunks = (n_keys + V::N - 1) / V::N;
    auto at = [&](int c) { return block_at<E>(kv.k, kv, c / per) + (c % per) * V::N; };
    auto sat = [&](int c) -> const std::uint16_t* {  // the chunk's q8_0 scales
      if constexpr (kQ8<E>)
        return q8_scales(block_at<E>(kv.k, kv, c / per), bs, dim) + (c % per) * V::N;
      else
        return nullptr;
    };
    int c = 0;
    // q8_0: the keys kKeyAhead blocks past the pair scored (the first ones at once), the
    // values only of the first kMixAhead blocks, at the end of the scores: MixRow prefetches
    // the others as it mixes, so the loads of the values overlap the mixing instead of
    // the scoring. fp16 and float: the keys of the next pair, the values of this one.
    mix_pf = kQ8<E>;
    int pk = 0;  // q8_0: key blocks prefetched
    if constexpr (kQ8<E>)
      for (; pk < imin(kKeyAhead, n_blk); ++pk) prefetch(block_at<E>(kv.k, kv, pk), group, l2);
    for (; c + 2 <= chunks; c += 2) {
      Prefetcher pf;
      pf.bytes = group;
      pf.l2 = l2;
      if constexpr (kQ8<E>) {
        const int want = imin(n_blk, (c + 1) / per + 1 + kKeyAhead);
        while (pk < want && pf.n < 2) pf.add(block_at<E>(kv.k, kv, pk++));
        if (c + 4 > chunks)
          for (int j = 0; j < imin(kMixAhead, n_blk); ++j) pf.add(block_at<E>(kv.v, kv, j));
      } else {
        for (int x = c; x < c + 2; ++x)
          if (x % per == 0) {
            if (x + 2 < chunks) pf.add(block_at<E>(kv.k, kv, (x + 2) / per));
            pf.add(block_at<E>(kv.v, kv, x / per));
          }
      }
      scores2_pairs<V, E>(at(c), at(c + 1), sat(c), sat(c + 1), bs, dim, P, scratch + c * V::N,
                          scratch + (c + 1) * V::N, ss, &pf);
    }
    if (c < chunks) {
      if (c % per == 0) prefetch(block_at<E>(kv.v, kv, c / per), group, l2);
      scores_chunk<V, E, true>(at(c), sat(c), bs, dim, P, scratch + c * V::N, ss, V::full());
    }
  } else {
    for (int j = 0; j < n_blk; ++j) {
      if (j + 1 < n_blk) prefetch(block_at<E>(kv.k, kv, j + 1), group, l2);
      prefetch(block_at<E>(kv.v, kv, j), group, l2);
      scores_block<V, E>(block_at<E>(kv.k, kv, j), bs, imin(bs, n_keys - j * bs), dim, P,
                         scratch + static_cast<std::size_t>(j) * bs, ss);
    }
  }
  float inv[2];
  for (int k = 0; k < n; k += 2) {
    const int nq = imin(2, n - k);
    for (int h = 0; h < nq; ++h) inv[h] = V::softmax(scratch + (k + h) * ss, n_keys, scale);
    if (nq == 2) {
      MixRow<V, E, 2> body{kv, P, k, n_keys, dim, scratch, ss, inv, mix_pf && k == 0, l2, k == 0};
      for_strips<V, V::kMixNV>(dim, body);
    } else {
      MixRow<V, E, 1> body{kv, P, k, n_keys, dim, scratch, ss, inv, mix_pf && k == 0, l2, k == 0};
      for_strips<V, V::kMixNV>(dim, body);
    }
  }
}

// A tile: acc_k[c0..c0+NV*N) += the chain over rows[i] rows of one value block (float,
// row-major) for pairs k0..k0+NQ; the rows all of them take first, then each one's rest.
template <class V, int NQ>
struct MixTile {
  const float* vb;  // the block's value rows
  const float* s;   // the scores of the block's first row, pair 0
  std::size_t ss;
  float* acc;  // pair 0's accumulators
  int dim, k0;
  const int* rows;  // per pair of the group
  template <int NV, bool kFull>
  void run(int c0, typename V::M m) const {
    typename V::F a[NQ][NV];
    const float* p[NQ];
    float* ac[NQ];
    int common = rows[0];
    for (int i = 0; i < NQ; ++i) {
      p[i] = s + static_cast<std::size_t>(k0 + i) * ss;
      ac[i] = acc + static_cast<std::size_t>(k0 + i) * dim + c0;
      for (int c = 0; c + 1 < NV; ++c) a[i][c] = V::load(ac[i] + V::N * c);
      a[i][NV - 1] = load_m<V, kFull>(ac[i] + V::N * (NV - 1), m);
      common = imin(common, rows[i]);
    }
    auto load_row = [&](int r, typename V::F* v) {
      const float* vr = vb + static_cast<std::size_t>(r) * dim + c0;
      for (int c = 0; c + 1 < NV; ++c) v[c] = V::load(vr + V::N * c);
      v[NV - 1] = load_m<V, kFull>(vr + V::N * (NV - 1), m);
    };
    for (int r = 0; r < common; ++r) {
      typename V::F v[NV];
      load_row(r, v);
      for (int i = 0; i < NQ; ++i) {
        const typename V::F pr = V::bcast(p[i] + r);
        for (int c = 0; c < NV; ++c) a[i][c] = V::fmadd(pr, v[c], a[i][c]);
      }
    }
    for (int i = 0; i < NQ; ++i)
      for (int r = common; r < rows[i]; ++r) {
        typename V::F v[NV];
        load_row(r, v);
        const typename V::F pr = V::bcast(p[i] + r);
        for (int c = 0; c < NV; ++c) a[i][c] = V::fmadd(pr, v[c], a[i][c]);
      }
    for (int i = 0; i < NQ; ++i) {
      for (int c = 0; c + 1 < NV; ++c) V::store(ac[i] + V::N * c, a[i][c]);
      V::store(ac[i] + V::N * (NV - 1), a[i][NV - 1], m);
    }
  }
};

// A block's key rows (keys true) or value rows of one head as floats: the rows themselves
// (float), converted (fp16) or dequantized (q8_0) into buf.
template <class V, class E, bool keys>
const float* as_floats(const E* src, int bs, int dim, float* buf) {
  const std::size_t n = static_cast<std::size_t>(bs) * dim;
  if constexpr (sizeof(E) == sizeof(float)) {
    (void)n;
    (void)buf;
    return reinterpret_cast<const float*>(src);
  } else if constexpr (kQ8<E>) {
    const std::uint16_t* sc = q8_scales(src, bs, dim);
    if constexpr (keys) {
      // Key (d, r) times scale [d / 32][r].
      for (int d = 0; d < dim; ++d) {
        const std::size_t o = static_cast<std::size_t>(d) * bs;
        const std::uint16_t* sd = sc + static_cast<std::size_t>(d / 32) * bs;
        int r = 0;
        if (bs % V::N == 0)
          for (; r < bs; r += V::N)
            V::store(buf + o + r, V::mul(V::load(src + o + r), V::load(sd + r)));
        for (; r < bs; ++r) buf[o + r] = static_cast<float>(src[o + r]) * fp16_to_fp32(sd[r]);
      }
    } else {
      // Value (r, c) times scale [r][c / 32] (dim is a multiple of 32).
      for (int r = 0; r < bs; ++r) {
        const std::size_t o = static_cast<std::size_t>(r) * dim;
        const std::uint16_t* sr = sc + static_cast<std::size_t>(r) * (dim / 32);
        for (int c = 0; c < dim; c += V::N)
          V::store(buf + o + c, V::mul(V::load(src + o + c), V::bcast_h(sr + c / 32)));
      }
    }
    return buf;
  } else {
    for (std::size_t i = 0; i < n; i += V::N) V::store(buf + i, V::load(src + i));
    return buf;
  }
}

template <class V, class E>
void attend_tile(const PagedKv& kv, const Pairs& P, int dim, float scale, float* scratch) {
  const int bs = kv.block_size;
  const int n = P.n();
  const int n_max = P.keys(n - 1);
  const std::size_t ss = paged_score_stride(n_max, bs);
  const std::size_t group = static_cast<std::size_t>(bs) * dim;  // elements
  const int n_blk = (n_max + bs - 1) / bs;
  float* inv = scratch + static_cast<std::size_t>(n) * ss;
  float* buf = inv + (static_cast<std::size_t>(n) + 15) / 16 * 16;
  float* acc = buf + 2 * group;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n) * dim; i += V::N)
    V::store(acc + i, V::zero());
  // The scores: each key block once for every pair. Where the level pairs chunks
  // (V::kScore2) and blocks hold whole chunks, two blocks at a time, their chunks two by two.
  int j = 0;
  if (V::kScore2 && bs % V::N == 0)
    for (; j + 2 <= n_blk; j += 2) {
      // The next two key blocks, spread over the first group of pairs' pass.
      Prefetcher pf;
      pf.bytes = rows_bytes<E>(bs, dim);
      for (int x = j + 2; x < imin(j + 4, n_blk); ++x) pf.add(block_at<E>(kv.k, kv, x));
      const float* kb[2] = {
          as_floats<V, E, true>(block_at<E>(kv.k, kv, j), bs, dim, buf),
          as_floats<V, E, true>(block_at<E>(kv.k, kv, j + 1), bs, dim, buf + group)};
      const int chunks = imin(2 * bs, n_max - j * bs + V::N - 1) / V::N, per = bs / V::N;
      int c = 0;
      auto at = [&](int m) { return kb[m / per] + (m % per) * V::N; };
      float* s = scratch + static_cast<std::size_t>(j) * bs;
      for (; c + 2 <= chunks; c += 2)
        scores2_pairs<V, float>(at(c), at(c + 1), nullptr, nullptr, bs, dim, P, s + c * V::N,
                                s + (c + 1) * V::N, ss, c == 0 ? &pf : nullptr);
      if (c == 0) PrefetchCursor(pf, 1).rest();
      if (c < chunks)
        scores_chunk<V, float, true>(at(c), nullptr, bs, dim, P, s + c * V::N, ss, V::full());
    }
  for (; j < n_blk; ++j) {
    if (j + 1 < n_blk) prefetch(block_at<E>(kv.k, kv, j + 1), rows_bytes<E>(bs, dim));
    const float* kb = as_floats<V, E, true>(block_at<E>(kv.k, kv, j), bs, dim, buf);
    scores_block<V, float>(kb, bs, imin(bs, n_max - j * bs), dim, P,
                           scratch + static_cast<std::size_t>(j) * bs, ss);
  }
  for (int k = 0; k < n; ++k) inv[k] = V::softmax(scratch + k * ss, P.keys(k), scale);
  // The values: each block once for every pair that reaches it.
  constexpr int NQ = V::kTileNQ;
  int rows[NQ];
  for (int j = 0; j < n_blk; ++j) {
    // The next value block, spread over the groups of pairs that mix this one.
    Prefetcher pf;
    pf.bytes = rows_bytes<E>(bs, dim);
    if (j + 1 < n_blk) pf.add(block_at<E>(kv.v, kv, j + 1));
    PrefetchCursor pc(pf, (n + NQ - 1) / NQ);
    const float* vb = as_floats<V, E, false>(block_at<E>(kv.v, kv, j), bs, dim, buf);
    const float* s = scratch + static_cast<std::size_t>(j) * bs;
    int k = 0;
    for (; k + NQ <= n; k += NQ) {
      pc.next();
      for (int i = 0; i < NQ; ++i) rows[i] = imin(bs, P.keys(k + i) - j * bs);
      if (rows[NQ - 1] <= 0) continue;  // (keys grow with k: no pair of the group reaches it)
      for (int i = 0; i < NQ; ++i)
        if (rows[i] < 0) rows[i] = 0;
      MixTile<V, NQ> body{vb, s, ss, acc, dim, k, rows};
      for_strips<V, V::kTileNV>(dim, body);
    }
    for (; k < n; ++k) {
      rows[0] = imin(bs, P.keys(k) - j * bs);
      if (rows[0] <= 0) continue;
      MixTile<V, 1> body{vb, s, ss, acc, dim, k, rows};
      for_strips<V, V::kTileNV>(dim, body);
    }
    pc.rest();
  }
  for (int k = 0; k < n; ++k) {
    const typename V::F sc = V::bcast(inv + k);
    const float* a = acc + static_cast<std::size_t>(k) * dim;
    float* o = P.out(k);
    int c = 0;
    for (; c + V::N <= dim; c += V::N) V::store(o + c, V::mul(V::load(a + c), sc));
    if (c < dim) {
      const typename V::M m = V::first(dim - c);
      V::store(o + c, V::mul(V::load(a + c, m), sc), m);
    }
  }
}

template <class V>
void attend(const PagedKv& kv, const PagedQueries& qs, int dim, float scale, float* scratch) {
  const Pairs P{qs};
  // From the first 64-byte boundary (the scratch sizes hold 16 floats more): the scores,
  // converted blocks and accumulators are then whole cache lines per 16-float vector. A
  // large std::vector<float> starts 16 bytes past a page (malloc's mmap header), where
  // every 64-byte load and store of them straddled two lines.
  scratch = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(scratch) + 63) &
                                     ~static_cast<std::uintptr_t>(63));
  if (qs.n_rows == 1) {
    if (kv.type == KvType::Q8_0)
      attend_row<V, std::int8_t>(kv, P, dim, scale, scratch);
    else if (kv.type == KvType::F16)
      attend_row<V, std::uint16_t>(kv, P, dim, scale, scratch);
    else
      attend_row<V, float>(kv, P, dim, scale, scratch);
  } else {
    if (kv.type == KvType::Q8_0)
      attend_tile<V, std::int8_t>(kv, P, dim, scale, scratch);
    else if (kv.type == KvType::F16)
      attend_tile<V, std::uint16_t>(kv, P, dim, scale, scratch);
    else
      attend_tile<V, float>(kv, P, dim, scale, scratch);
  }
}

}  // namespace
}  // namespace qwen3::paged_simd
