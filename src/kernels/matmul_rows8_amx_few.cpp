// AMX-INT8 kernels for the rows8 layout (rows8.h) for calls of fewer than 16 tokens (a
// batched decode step of 9-15 sequences, or a few decode tokens plus a short prompt
// piece): the tiles are configured with as many rows as the call has tokens (A tile nt x
// kbytes activation bytes, C tile nt x 16 int32), so the tile loads, stores and the float
// epilogue run for the real tokens only. matmul_rows8_amx.cpp (16+ tokens: 16-token tiles,
// weights unpacked once per chunk and reused by every tile) sends its calls of fewer than
// its K::kMinTokens tokens here.
//
// Each group pair (16 weight rows) is streamed once: every 32-weight block (Q4_0, Q8_0,
// Q5_K sub-blocks of 32) or 16-weight sub-block (Q6_K) is unpacked into a B tile on the
// stack (the rows8 layout already is the B-tile layout: B row k = weights 4k..4k+3 of the
// 16 rows; signed bytes: Q4_0 nibbles - 8, Q8_0 as is, Q5_K values 0..31, Q6_K values -
// 32) and multiplied (`tdpbssd`) with the call's A tile of that part (the activations
// packed once per call, tile after tile). The products run in pairs alternating between
// two sets of C tiles, a pair's epilogue one step after its store; the blocks are unpacked
// 8 products ahead and the weight streams prefetched kAheadBytes ahead. The epilogue does
// the avx512 kernels' float steps in their order (rows8_vnni.h), per token:
//   Q4_0/Q8_0: acc = fmadd(cvt(isum), dw * da, acc) per block;
//   Q5_K:      isum = sum_j sc_j * s_j, summ = sum_j min_j * bsums_j (integers), then
//              acc = fmadd(cvt(isum), d * da, acc), acc = fnmadd(cvt(summ), dmin * da, acc);
//   Q6_K:      isum = sum_s sc_s * s_s (the -32 offset inside s: the same integer), then
//              acc = fmadd(cvt(isum), d * da, acc).
// The integer sums are exact, so every output equals the avx512 kernel's bit for bit and
// a token's result does not depend on how many tokens share the call.
//
// Where the tiles pay (kernels_bench BM_FewIsa, 3072x1024, one thread, weights from DRAM
// (cold) / in L2 (warm), amx / avx512 time, 2-core Sapphire-Rapids-class KVM guest, load
// ~1.5 with another helper's benchmarks; session 15): not for 2-8 tokens. The tile path
// costs about as much as the avx512 VNNI kernel there (Q4_0 warm 2 / 4 / 8 tokens: 75 /
// 84 / 131 us against 44 / 64 / 112, also with two blocks stacked per product, A tile of
// 2 nt rows x 64 bytes), and on this VM the tiles do not overlap the DRAM stream: cold
// Q4_0 8 tokens 180-200 us against 126-136, Q4_K / Q5_K / Q6_K / Q8_0 8 tokens 1.1-1.3x.
// (Per product of 8 tokens: the tile loads, product and store ~8 ns, unpacking a block
// pair into a B tile ~6.5 ns, the epilogue ~7 ns, one after the other: the tile unit and
// the vector units did not overlap in any order tried, as matmul_rows8_amx.cpp found.)
// From 9 tokens the avx512 kernel needs a second sweep over each group (8 + the rest) and
// the tiles win or tie, cold: Q8_0 0.76-0.87x from 9 tokens, Q5_K 0.85-0.94x from 9,
// Q6_K 0.92-1.0x from 11, Q4_0 0.89-0.99x from 13 (0.97-1.1x at 9-12); Q4_K lost at every
// count (1.03-1.14x), so its calls stay on the avx512 kernel. K::kFewMin holds the count.
//
// Calls of fewer than K::kFewMin or more than 16 tokens, and an odd last group, run the
// avx512 kernel. Tile configuration: loaded per call (ldtilecfg) and released at its end.
// Built with the AVX-512 and AMX flags (CMakeLists.txt: *_amx_few.cpp); called only
// through the amx table. Same rule as rows8_vnni.h: no std:: templates, no inline
// functions of other headers outside anonymous namespaces.
//
// What it shares with matmul_rows8_amx.cpp (tile registers and configuration, the product
// step, the packed-A buffer, the B-tile unpacking) is in amx_tiles.h.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include "kernels/amx_tiles.h"
#include "kernels/kernels_amx.h"
#include "kernels/kernels_avx512.h"
#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v512.h"

namespace qwen3::amx {
namespace {

using detail::ActQ8;
using vnni::V512;

#define QWEN3_INLINE inline __attribute__((always_inline))

constexpr int kMaxTok = 16;  // tokens per call on the tiles (the A and C tiles' rows)

// Tile registers (amx_tiles.h): four C tiles in two sets (C0, C1 and C2, C3), so one
// set's products run while the other's sums are stored.
struct Configs {
  TileConfig c[kMaxTok + 1];  // [nt]
};
constexpr Configs make_configs(int kbytes) {
  Configs s{};
  for (int t = 1; t <= kMaxTok; ++t) s.c[t] = tile_config(kbytes, t);
  return s;
}
// Constant objects (see tile_config).
constexpr Configs kConfig32 = make_configs(32), kConfig16 = make_configs(16);

// Software prefetch of a group pair's two weight streams (group g and g + 1, each read
// block by block): kAheadBytes ahead of the block being unpacked in each stream, past
// the end of a stream into the same stream of the next pair (2 groups further on), so
// both streams and the pair boundaries stay covered. prefetcht1 (into L2), as the
// avx512 decode on Intel cores with AMX.
constexpr size_t kAheadBytes = 4096;
constexpr int kLocality = 2;
struct Prefetcher {
  const uint8_t* p0;  // stream 0's group + 2k groups, k = whole groups ahead
  const uint8_t* p1;
  size_t r, gs;  // offset inside the group; group bytes
  Prefetcher(const uint8_t* w0, size_t group_bytes) : gs(group_bytes) {
    const size_t k = kAheadBytes / gs;
    r = kAheadBytes % gs;
    p0 = w0 + 2 * k * gs;
    p1 = p0 + gs;
  }
  // The next block (kBytes) of both streams.
  template <size_t kBytes>
  QWEN3_INLINE void next() {
#pragma GCC unroll 32
    for (size_t l = 0; l < kBytes; l += 64) {
      __builtin_prefetch(p0 + r + l, 0, kLocality);
      __builtin_prefetch(p1 + r + l, 0, kLocality);
    }
    r += kBytes;
    if (r >= gs) {
      r -= gs;
      p0 += 2 * gs;
      p1 += 2 * gs;
    }
  }
};

// Q4_0 / Q8_0 against ActQ8 (40-byte blocks: d, sum, qs[32]): one product per block.
template <bool kEight>
struct Legacy {
  using Group = typename vnni::Legacy<V512, kEight>::Group;
  static constexpr GgmlType kType = kEight ? GgmlType::Q8_0 : GgmlType::Q4_0;
  static constexpr int kBlock = 32, kKBytes = 32, kProducts = 1;
  static constexpr size_t kActBlock = sizeof(ActQ8);
  static constexpr size_t act_offset(int) { return offsetof(ActQ8, qs); }
  // From how many tokens the tiles run (see the header): Q8_0 9, Q4_0 13.
  static constexpr int kFewMin = kEight ? 9 : 13;
  struct alignas(64) Unpacked {
    int8_t b[1][8][64];  // B tile: b[0][k][4r + e] = weight 4k+e of row r (signed)
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_legacy<kEight>(g0, g1, u.b[0]);
  }
  // Product p = block p: acc[t] += isum[t] * (dw * da[t]).
  template <int T>
  static QWEN3_INLINE void epilogue(int64_t p, const int32_t (*c)[16], const Unpacked&,
                                    const Group& g0, const Group& g1, const uint8_t* x, size_t xs,
                                    int32_t (*)[16], __m512 (&acc)[T]) {
    const __m512 w = V512::f16(g0.d, g1.d);
    const uint8_t* xa = x + p * kActBlock;
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[t])),
                               _mm512_mul_ps(w, _mm512_set1_ps(ld_f32(xa + t * xs))), acc[t]);
  }
};

// Q5_K against Q8_K (d, qs[256], bsums[16]): a product per 32-weight sub-block j. (Q4_K,
// the same steps, stays on the avx512 kernel: see the header.)
struct Q5K {
  using Base = vnni::QK<V512, BlockQ5_Kx8, true>;
  using Group = BlockQ5_Kx8;
  static constexpr GgmlType kType = GgmlType::Q5_K;
  static constexpr int kBlock = 256, kKBytes = 32, kProducts = 8;
  static constexpr size_t kActBlock = sizeof(BlockQ8_K);
  static constexpr size_t act_offset(int j) { return offsetof(BlockQ8_K, qs) + 32 * j; }
  static constexpr int kFewMin = 9;
  struct alignas(64) Unpacked {
    int8_t b[8][8][64];  // [sub-block j] B tile of its values (0..31)
    __m512i sc[8];       // sub-block scales, int32 lanes
    __m512i mn[8];       // sub-block mins, twice per lane (int16)
    __m512 d, dmin;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_qk<Base>(g0, g1, u.b, u.sc, u.mn, u.d, u.dmin);
  }
  // Product p = sub-block j = p % 8 of block p / 8: part += sc_j * s_j; after the last,
  // the mins and the float steps of the avx512 kernel.
  template <int T>
  static QWEN3_INLINE void epilogue(int64_t p, const int32_t (*c)[16], const Unpacked& U,
                                    const Group&, const Group&, const uint8_t* x, size_t xs,
                                    int32_t (*part)[16], __m512 (&acc)[T]) {
    const int j = static_cast<int>(p % 8);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m512i s = _mm512_mullo_epi32(_mm512_load_si512(c[t]), U.sc[j]);
      _mm512_store_si512(part[t], j == 0 ? s : _mm512_add_epi32(_mm512_load_si512(part[t]), s));
    }
    if (j < 7) return;
    const uint8_t* xa = x + (p / 8) * kActBlock;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const uint8_t* at = xa + t * xs;
      __m512i summ = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        summ = _mm512_dpwssd_epi32(summ, U.mn[i], bcast32(at + offsetof(BlockQ8_K, bsums) + 4 * i));
      const __m512 xd = _mm512_set1_ps(ld_f32(at));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(part[t])),
                               _mm512_mul_ps(U.d, xd), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(U.dmin, xd), acc[t]);
    }
  }
};

// Q6_K against Q8_K: a product of depth 16 per 16-weight sub-block s (values - 32 signed,
// so the offset term is inside the product).
struct Q6K {
  using Base = vnni::Q6K<V512>;
  using Group = BlockQ6_Kx8;
  static constexpr GgmlType kType = GgmlType::Q6_K;
  static constexpr int kBlock = 256, kKBytes = 16, kProducts = 16;
  static constexpr size_t kActBlock = sizeof(BlockQ8_K);
  static constexpr size_t act_offset(int s) { return offsetof(BlockQ8_K, qs) + 16 * s; }
  static constexpr int kFewMin = 11;
  struct alignas(64) Unpacked {
    int8_t b[16][4][64];  // [sub-block s] B tile of its values - 32
    __m512i sc[16];       // sub-block scales, int32 lanes
    __m512 d;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_q6k<Base>(g0, g1, u.b, u.sc, u.d);
  }
  // Product p = sub-block s = p % 16 of block p / 16: part += sc_s * s_s; after the last,
  // the float step of the avx512 kernel.
  template <int T>
  static QWEN3_INLINE void epilogue(int64_t p, const int32_t (*c)[16], const Unpacked& U,
                                    const Group&, const Group&, const uint8_t* x, size_t xs,
                                    int32_t (*part)[16], __m512 (&acc)[T]) {
    const int s = static_cast<int>(p % 16);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m512i v = _mm512_mullo_epi32(_mm512_load_si512(c[t]), U.sc[s]);
      _mm512_store_si512(part[t], s == 0 ? v : _mm512_add_epi32(_mm512_load_si512(part[t]), v));
    }
    if (s < 15) return;
    const uint8_t* xa = x + (p / 16) * kActBlock;
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(part[t])),
                               _mm512_mul_ps(U.d, _mm512_set1_ps(ld_f32(xa + t * xs))), acc[t]);
  }
};

// Packs the A tiles of a call: part q (sub-block q % K::kProducts of block
// q / K::kProducts), T rows of K::kKBytes, one tile after the other (aligned rows read
// from a few lines instead of T rows strided through the activations).
template <class K, int T>
void pack_a(const uint8_t* x, size_t xs, int64_t nq, uint8_t* a) {
  for (int64_t q = 0; q < nq; ++q)
    for (int t = 0; t < T; ++t)
      __builtin_memcpy(a + (q * T + t) * K::kKBytes,
                       x + t * xs + (q / K::kProducts) * K::kActBlock +
                           K::act_offset(static_cast<int>(q % K::kProducts)),
                       K::kKBytes);
}

// One group pair (16 rows: w0, w1) against T tokens (x: token 0's row, xs bytes apart;
// a: the packed A tiles) -> y (ldy floats apart), products q = the nq parts in order.
template <class K, int T>
struct Pair {
  static constexpr int kP = K::kProducts;
  static constexpr int kAhead = 8;                // products unpacked ahead
  static constexpr int kRing = kP >= 4 ? 3 : 12;  // blocks: >= kAhead + 4 products
  static constexpr size_t kATile = static_cast<size_t>(T) * K::kKBytes;
  using Group = typename K::Group;

  // Unpacks the blocks that start in parts [q0, q1).
  static QWEN3_INLINE void prepare(int64_t q0, int64_t q1, const Group* w0, const Group* w1,
                                   Prefetcher& pf, typename K::Unpacked* u) {
    for (int64_t q = q0; q < q1; ++q)
      if (q % kP == 0) {
        const int64_t i = q / kP;
        pf.next<sizeof(Group)>();
        K::unpack(w0[i], w1[i], u[i % kRing]);
      }
  }
  static QWEN3_INLINE const int8_t* b_of(const typename K::Unpacked* u, int64_t q) {
    return u[(q / kP) % kRing].b[q % kP][0];
  }
  // Products q, q + 1 (n of them) into C tile set `set` (0: C0, C1; 1: C2, C3).
  static QWEN3_INLINE void issue(int set, int64_t q, int n, const uint8_t* a,
                                 const typename K::Unpacked* u) {
    const uint8_t* aq = a + q * kATile;
    constexpr size_t kStride = K::kKBytes;
    if (set == 0) {
      QWEN3_PRODUCT(QWEN3_C0, QWEN3_A0, QWEN3_B0, aq, b_of(u, q), kStride);
      if (n > 1) QWEN3_PRODUCT(QWEN3_C1, QWEN3_A1, QWEN3_B1, aq + kATile, b_of(u, q + 1), kStride);
    } else {
      QWEN3_PRODUCT(QWEN3_C2, QWEN3_A0, QWEN3_B0, aq, b_of(u, q), kStride);
      if (n > 1) QWEN3_PRODUCT(QWEN3_C3, QWEN3_A1, QWEN3_B1, aq + kATile, b_of(u, q + 1), kStride);
    }
  }
  static QWEN3_INLINE void store(int set, int32_t (*c)[T][16], int n) {
    if (set == 0) {
      _tile_stored(QWEN3_C0, c[0], 64);
      if (n > 1) _tile_stored(QWEN3_C1, c[1], 64);
    } else {
      _tile_stored(QWEN3_C2, c[0], 64);
      if (n > 1) _tile_stored(QWEN3_C3, c[1], 64);
    }
  }
  // The epilogues of products q, q + 1 (n of them) from their stored sums c.
  static QWEN3_INLINE void finish(int64_t q, int n, const int32_t (*c)[T][16],
                                  const typename K::Unpacked* u, const Group* w0, const Group* w1,
                                  const uint8_t* x, size_t xs, int32_t (*part)[16],
                                  __m512 (&acc)[T]) {
    for (int k = 0; k < n; ++k) {
      const int64_t i = (q + k) / kP;
      K::template epilogue<T>(q + k, c[k], u[i % kRing], w0[i], w1[i], x, xs, part, acc);
    }
  }

  // Products in pairs (halves: products q, q + 1) alternating between the two C tile
  // sets: the half after next is issued right after a half is stored, and a half's
  // epilogue runs one step later (after the next half is stored), so the vector loads of
  // the sums do not wait for tile stores just issued. Blocks are unpacked kAhead products
  // ahead (ring of kRing blocks).
  static void run(int64_t nq, const Group* w0, const Group* w1, Prefetcher& pf, const uint8_t* a,
                  const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    typename K::Unpacked u[kRing];
    alignas(64) int32_t c[2][2][T][16];  // [half % 2][product][token]
    alignas(64) int32_t part[T][16];     // integer sums carried between the products of a block
    __m512 acc[T];
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const auto cnt = [nq](int64_t q) { return nq - q < 2 ? static_cast<int>(nq - q) : 2; };
    const auto upto = [nq](int64_t q) { return q < nq ? q : nq; };
    prepare(0, upto(kAhead), w0, w1, pf, u);
    issue(0, 0, cnt(0), a, u);
    if (2 < nq) issue(1, 2, cnt(2), a, u);
    int64_t q = 0;
    for (; q < nq; q += 2) {
      const int set = static_cast<int>((q / 2) % 2);
      prepare(upto(q + kAhead), upto(q + kAhead + 2), w0, w1, pf, u);
      store(set, c[set], cnt(q));
      if (q + 4 < nq) issue(set, q + 4, cnt(q + 4), a, u);
      if (q > 0) finish(q - 2, 2, c[1 - set], u, w0, w1, x, xs, part, acc);
    }
    q -= 2;
    finish(q, cnt(q), c[(q / 2) % 2], u, w0, w1, x, xs, part, acc);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
  }
};

// The ng2 (even) groups at w in pairs, T tokens.
template <class K, int T>
void pairs(int64_t nb, const uint8_t* w, size_t gs, int64_t ng2, const uint8_t* x, size_t xs,
           float* y, int64_t ldy) {
  using Group = typename K::Group;
  const int64_t nq = nb * K::kProducts;
  uint8_t* a = a_buffer(static_cast<size_t>(nq) * Pair<K, T>::kATile);
  pack_a<K, T>(x, xs, nq, a);
  Prefetcher pf(w, gs);
  for (int64_t g = 0; g < ng2; g += 2)
    Pair<K, T>::run(nq, reinterpret_cast<const Group*>(w + g * gs),
                    reinterpret_cast<const Group*>(w + (g + 1) * gs), pf, a, x, xs, y + 8 * g, ldy);
}
// T = nt, for K::kFewMin <= nt <= T.
template <class K, int T>
void pairs_of(int nt, int64_t nb, const uint8_t* w, size_t gs, int64_t ng2, const uint8_t* x,
              size_t xs, float* y, int64_t ldy) {
  if constexpr (T >= K::kFewMin) {
    if (nt == T) return pairs<K, T>(nb, w, gs, ng2, x, xs, y, ldy);
    pairs_of<K, T - 1>(nt, nb, w, gs, ng2, x, xs, y, ldy);
  }
}

// ng groups x nt tokens: group pairs on AMX when K::kFewMin <= nt <= 16, the rest (an odd
// last group; other token counts) on the avx512 kernel.
template <class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const detail::Rows8Fn fallback = avx512::rows8_kernel(K::kType);
  if (nt < K::kFewMin || nt > kMaxTok) return fallback(n, wv, gs, ng, xv, xs, nt, y, ldy);
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  const int64_t ng2 = ng / 2 * 2;
  if (ng2 > 0) {
    _tile_loadconfig(&(K::kKBytes == 16 ? kConfig16 : kConfig32).c[nt]);
    pairs_of<K, kMaxTok>(nt, n / K::kBlock, w, gs, ng2, x, xs, y, ldy);
    _tile_release();
  }
  if (ng2 < ng) fallback(n, w + ng2 * gs, gs, ng - ng2, x, xs, nt, y + 8 * ng2, ldy);
}

// Q4_K: the tiles measured slower than the avx512 kernel at every token count of 2..15
// (see the header), so its calls go there.
void q4k_avx512(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
                float* y, int64_t ldy) {
  avx512::rows8_kernel(GgmlType::Q4_K)(n, wv, gs, ng, xv, xs, nt, y, ldy);
}

constexpr detail::TypedFn<detail::Rows8Fn> kKernels[] = {
    {GgmlType::Q4_0, groups<Legacy<false>>},
    {GgmlType::Q8_0, groups<Legacy<true>>},
    {GgmlType::Q4_K, q4k_avx512},
    {GgmlType::Q5_K, groups<Q5K>},
    {GgmlType::Q6_K, groups<Q6K>},
};

}  // namespace

detail::Rows8Fn rows8_few_kernel(GgmlType t) {
  return detail::find_fn(kKernels, t);
}

}  // namespace qwen3::amx

#undef QWEN3_INLINE
#undef QWEN3_C0
#undef QWEN3_C1
#undef QWEN3_C2
#undef QWEN3_C3
#undef QWEN3_PRODUCT
#undef QWEN3_A0
#undef QWEN3_B0
#undef QWEN3_A1
#undef QWEN3_B1
