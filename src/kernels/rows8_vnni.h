// The rows8 kernels (rows8.h) written once for the VNNI levels: `vpdpbusd` multiplies
// unsigned weight bytes by signed activation bytes and adds groups of 4 straight into
// int32 lanes (no int16 saturation, no widening steps). The vector traits V say how many
// rows8 groups one vector covers: 256-bit = 1 group (AVX-VNNI, and the AVX-512 tail),
// 512-bit = 2 groups side by side (lanes 0-7 group g, lanes 8-15 group g+1, each half
// loaded from its own group, so the layout stays the same for every level).
//
// Every lane does the same integer work and the same float steps in the same order as
// the AVX2 kernels (integer sums per block or super-block, then one fmadd with the
// scales), so a row's result does not depend on which vector width computed it.
//
// Include only from a file built for a VNNI level (*_avxvnni.cpp, *_avx512.cpp) after
// defining the traits. Everything here sits in an anonymous namespace, and these files
// instantiate no std:: templates and call no inline functions of other headers: a
// template or inline function compiled with AVX-512 flags in one file could otherwise be
// the copy the linker keeps for every caller, and fault on a CPU without AVX-512.
// V provides (vi = integer vector, vf = float vector, G = groups):
//   load(p0, p1)                 32 bytes of group 0 (and of group 1 when G == 2)
//   f16(p0, p1)                  8 fp16 of each group -> floats
//   u8_32(p0, p1)                8 uint8 of each group -> int32 lanes
//   u8_16(p0, p1), i8_16(p0, p1) 16 (u)int8 of each group -> int16 lanes
//   dp(acc, u8, s8)              vpdpbusd; dpw(acc, a16, b16) vpdpwssd
//   dpb(acc, u8, p)              vpdpbusd with the 4 signed bytes at p in every lane
//                                (an EVEX embedded broadcast where the level has one)
//   dpwb(acc, a16, p)            vpdpwssd with the int32 at p in every lane
//   bcast(p)                     4 activation bytes to every lane
//   and/or/xor/srli16/slli16/slli32/srli32/srai32/add/sub/sub16/mullo/set1_8/set1_32/zero,
//   zf/set1f/mul/fmadd/fnmadd/cvt/loadf/store.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels/type_table.h"

namespace qwen3::vnni {
namespace {

using detail::ActQ8;

#define QWEN3_INLINE inline __attribute__((always_inline))

// Decode streams each group once from memory: software prefetch 8 KiB ahead. With ~100 ns
// of DRAM latency a core needs several KiB in flight; at 2 KiB one thread streamed the
// lm_head at ~22 GB/s (Q4_0), at 8 KiB ~25 % faster, and 2 threads ~1.3x faster on
// this Zen 5 (kernels_bench BM_SmallBatch tok:1, cold weights; 12-16 KiB no better).
// The locality hint is 3 (prefetcht0, into L1) unless the traits V set kPrefetchLocality:
// the avx512 decode on Intel cores with AMX uses 2 (prefetcht1, into L2; see
// matmul_rows8_avx512.cpp).
constexpr size_t kPrefetchBytes = 8192;
template <class V>
constexpr auto prefetch_locality(int) -> decltype(V::kPrefetchLocality + 0) {
  return V::kPrefetchLocality;
}
template <class V>
constexpr int prefetch_locality(long) {
  return 3;
}
// Lines of the block at p, prefetched with V's locality.
template <class V, class Block>
QWEN3_INLINE void prefetch_block(const char* p) {
  constexpr int kLocality = prefetch_locality<V>(0);
  for (size_t off = 0; off < sizeof(Block); off += 64) __builtin_prefetch(p + off, 0, kLocality);
}

// Q4_0 and Q8_0 against ActQ8: the weights as unsigned bytes (Q4_0 nibbles 0..15, Q8_0
// with the sign bit flipped, w + 128), one int32 sum per token started at -off * sum of
// the activations (one vpdpwssd: the sum's low int16 times -off), then the 8 dot
// products, then one fmadd with the scales: per token and block 11 instructions, with
// the activation bytes broadcast straight from memory (dpb).
template <class V, bool kEight>
struct Legacy {
  using Group = std::conditional_t<kEight, BlockQ8_0x8, BlockQ4_0x8>;
  using Act = ActQ8;
  static constexpr int kBlock = 32;
  static constexpr int kMaxT = 8;
  static constexpr bool kUnpack = false;  // measured: unpacking first costs 5-10% here
  using vi = typename V::vi;
  // q[k]: weights 4k..4k+3 of each row as unsigned bytes (Q4_0: k >= 4 the high nibbles).
  static QWEN3_INLINE void quants(const Group& g0, const Group& g1, vi (&q)[8]) {
    if constexpr (kEight) {
      const vi flip = V::set1_8(static_cast<char>(0x80));
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) q[k] = V::xor_(V::load(g0.qs[k], g1.qs[k]), flip);
    } else {
      const vi m4 = V::set1_8(0x0F);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const vi v = V::load(g0.qs[k], g1.qs[k]);
        q[k] = V::and_(v, m4);
        q[k + 4] = V::and_(V::srli16(v, 4), m4);
      }
    }
  }
  // s[t] (each token's sum so far: its offset term) plus the 8 dot products of q with the
  // token's bytes.
  template <int T>
  static QWEN3_INLINE void dots(const vi (&q)[8], const Act* const (&a)[T], vi (&s)[T]) {
    if constexpr (T <= 2) {  // decode: two chains per token, so latency does not bind
      vi s1[T];
#pragma GCC unroll 2
      for (int t = 0; t < T; ++t) s1[t] = V::zero();
#pragma GCC unroll 4
      for (int k = 0; k < 8; k += 2)
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t) {
          s[t] = V::dpb(s[t], q[k], a[t]->qs + 4 * k);
          s1[t] = V::dpb(s1[t], q[k + 1], a[t]->qs + 4 * k + 4);
        }
#pragma GCC unroll 2
      for (int t = 0; t < T; ++t) s[t] = V::add(s[t], s1[t]);
    } else {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k)
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) s[t] = V::dpb(s[t], q[k], a[t]->qs + 4 * k);
    }
  }
  // The float step: acc[t] += s[t] * (dw * da).
  template <int T>
  static QWEN3_INLINE void scale(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 const vi (&s)[T], typename V::vf (&acc)[T]) {
    const typename V::vf dw = V::f16(g0.d, g1.d);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      acc[t] = V::fmadd(V::cvt(s[t]), V::mul(dw, V::set1f(a[t]->d)), acc[t]);
  }
  template <int T>
  static QWEN3_INLINE void block(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 typename V::vf (&acc)[T]) {
    vi q[8];
    quants(g0, g1, q);
    // Low int16 -off, high int16 0: one vpdpwssd adds -off * sum (|sum| <= 32 * 128).
    const vi off = V::set1_32(kEight ? 0xFF80 : 0xFFF8);
    vi s[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) s[t] = V::dpwb(V::zero(), off, &a[t]->sum);
    dots<T>(q, a, s);
    scale<T>(g0, g1, a, s, acc);
  }
};
template <class V>
using Q4_0 = Legacy<V, false>;
template <class V>
using Q8_0 = Legacy<V, true>;

// Q4_K / Q5_K against Q8_K: per 32-weight sub-block an int32 sum per row (8 vpdpbusd),
// times the sub-block's 6-bit scale; the mins through the activation block sums.
template <class V, class G, bool kFive>
struct QK {
  using Group = G;
  using Act = BlockQ8_K;
  static constexpr int kBlock = 256;
  static constexpr int kMaxT = 8;
  template <int T>
  static QWEN3_INLINE void block(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    vi isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::zero();
    // Decode: both sub-blocks of a chunk from one pass (each qs vector loaded and split
    // once). Up to 4 tokens where the level has 32 vector registers (512-bit traits: their
    // 4 x 3 sums fit); more take one sub-block at a time (many_tokens). The same integer
    // sums either way. (4 tokens at 512 bits, Q4_K 3072x1024, one thread: 82-84 -> 73-80
    // us with the weights in cache, 159-160 -> 152-155 from DRAM; Q5_K 126-130 -> 123-126
    // / 212-215 -> 209-210; kernels_bench BM_SmallBatch, 2 alternating rounds, session 16.)
    constexpr int kChunkTokens = V::G == 2 ? 4 : 2;
    if constexpr (T <= kChunkTokens) {
      for (int c = 0; c < 4; ++c) {
        vi slo[T], shi[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) slo[t] = shi[t] = V::zero();
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          vi lo, hi;
          if constexpr (kFive) {
            lo = values(g0, g1, 2 * c, k);
            hi = values(g0, g1, 2 * c + 1, k);
          } else {  // Q4_K: the high nibbles in place (16 x value), one shift per sum below
            const vi v = V::load(g0.qs[c][k], g1.qs[c][k]);
            lo = V::and_(v, V::set1_8(0x0F));
            hi = V::and_(v, V::set1_8(static_cast<char>(0xF0)));
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            slo[t] = V::dpb(slo[t], lo, a[t]->qs + 64 * c + 4 * k);
            shi[t] = V::dpb(shi[t], hi, a[t]->qs + 64 * c + 32 + 4 * k);
          }
        }
        if constexpr (!kFive) {  // 16 x the exact sum (|sum| < 2^16): the shift is exact
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) shi[t] = V::srai32(shi[t], 4);
        }
        const vi sclo = V::u8_32(g0.sc[2 * c], g1.sc[2 * c]);
        const vi schi = V::u8_32(g0.sc[2 * c + 1], g1.sc[2 * c + 1]);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t)
          isum[t] = V::add(isum[t], V::add(V::mullo(slo[t], sclo), V::mullo(shi[t], schi)));
      }
    } else {
      many_tokens<T>(g0, g1, a, isum);
    }
    typename V::vi mn[8];
    mins(g0, g1, mn);
    finish<T>(V::f16(g0.d, g1.d), V::f16(g0.dmin, g1.dmin), mn, a, isum, acc);
  }

  // Weights 4k..4k+3 of sub-block j of each row: chunk j/2 of qs, low (even j) or high
  // nibbles, and for Q5_K bit j of the qh bytes as the fifth bit. (The compiler merges
  // the repeated loads of the same qs / qh vector.)
  static QWEN3_INLINE typename V::vi values(const Group& g0, const Group& g1, int j, int k) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F);
    const vi v = V::load(g0.qs[j / 2][k], g1.qs[j / 2][k]);
    vi q = (j & 1) ? V::and_(V::srli16(v, 4), m4) : V::and_(v, m4);
    if constexpr (kFive) {
      const vi hb = V::load(g0.qh[k], g1.qh[k]);
      q = V::or_(q, V::and_(j >= 4 ? V::srli16(hb, j - 4) : V::slli16(hb, 4 - j), V::set1_8(0x10)));
    }
    return q;
  }

  // The 6-bit min of sub-block j in both int16 halves of each row's lane: one vpdpwssd
  // against the activation sums of its two 16-weight halves adds min * block sum.
  static QWEN3_INLINE void mins(const Group& g0, const Group& g1, typename V::vi (&mn)[8]) {
    using vi = typename V::vi;
    const vi lo16 = V::set1_32(0xFFFF);
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      const vi pair = V::u8_16(g0.mn[p][0], g1.mn[p][0]);  // mins of 2p (low), 2p+1 (high)
      const vi lo = V::and_(pair, lo16), hi = V::srli32(pair, 16);
      mn[2 * p] = V::or_(lo, V::slli32(lo, 16));
      mn[2 * p + 1] = V::or_(hi, V::slli32(hi, 16));
    }
  }

  // Prompts: one sub-block at a time, so only one sum per token is live.
  template <int T>
  static QWEN3_INLINE void many_tokens(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                       typename V::vi (&isum)[T]) {
    using vi = typename V::vi;
    for (int j = 0; j < 8; ++j) {
      vi s[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) s[t] = V::zero();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const vi q = values(g0, g1, j, k);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) s[t] = V::dpb(s[t], q, a[t]->qs + 32 * j + 4 * k);
      }
      const vi sc = V::u8_32(g0.sc[j], g1.sc[j]);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], sc));
    }
  }

  template <int T>
  static QWEN3_INLINE void finish(typename V::vf d, typename V::vf dmin,
                                  const typename V::vi (&mn)[8], const Act* const (&a)[T],
                                  typename V::vi (&isum)[T], typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      vi summ = V::zero();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) summ = V::dpwb(summ, mn[j], a[t]->bsums + 2 * j);
      const typename V::vf xd = V::set1f(a[t]->d);
      acc[t] = V::fmadd(V::cvt(isum[t]), V::mul(d, xd), acc[t]);
      acc[t] = V::fnmadd(V::cvt(summ), V::mul(dmin, xd), acc[t]);
    }
  }

  // Prompts: one super-block unpacked once for all the token sweeps (measured 5-12%
  // faster than unpacking per sweep).
  static constexpr bool kUnpack = true;
  static constexpr int kChunk = 1;
  struct Unpacked {
    typename V::vi q[8][8];  // [sub-block j][k] weight values
    typename V::vi sc[8];    // sub-block scales, int32 lanes
    typename V::vi mn[8];    // sub-block mins, twice per lane (int16)
    typename V::vf d, dmin;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j)
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) u.q[j][k] = values(g0, g1, j, k);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) u.sc[j] = V::u8_32(g0.sc[j], g1.sc[j]);
    mins(g0, g1, u.mn);
    u.d = V::f16(g0.d, g1.d);
    u.dmin = V::f16(g0.dmin, g1.dmin);
  }
  template <int T>
  static QWEN3_INLINE void block_u(const Unpacked& u, const Act* const (&a)[T],
                                   typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    vi isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::zero();
    for (int j = 0; j < 8; ++j) {
      vi s[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) s[t] = V::zero();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k)
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) s[t] = V::dpb(s[t], u.q[j][k], a[t]->qs + 32 * j + 4 * k);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], u.sc[j]));
    }
    finish<T>(u.d, u.dmin, u.mn, a, isum, acc);
  }
};

// Q6_K against Q8_K: values 0..63 rebuilt from ql/qh, per 16-weight sub-block an int32
// sum (4 vpdpbusd) times its int8 scale; the offset 32 through the activation sums.
template <class V>
struct Q6K {
  using Group = BlockQ6_Kx8;
  using Act = BlockQ8_K;
  static constexpr int kBlock = 256;
  static constexpr int kMaxT = 8;
  template <int T>
  static QWEN3_INLINE void block(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    vi isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::zero();
    // The offset: -32 * sum over sub-blocks of scale * activation sum.
    for (int p = 0; p < 8; ++p) offset<T>(p, minus32(V::i8_16(g0.sc[p][0], g1.sc[p][0])), a, isum);
    if constexpr (T <= 2) {
      few_tokens<T>(g0, g1, a, isum);
    } else {
      many_tokens<T>(g0, g1, a, isum);
    }
    const typename V::vf d = V::f16(g0.d, g1.d);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      acc[t] = V::fmadd(V::cvt(isum[t]), V::mul(d, V::set1f(a[t]->d)), acc[t]);
  }

  // Values 0..63 of stream st, weights 128h + 32st + 4k..+3 of each row: 4 low bits from
  // ql (streams 1, 3 read its bytes 32..63; streams 2, 3 the high nibbles), 2 high bits
  // from qh (bits 2st, 2st+1). (The compiler merges the repeated loads.)
  static QWEN3_INLINE typename V::vi values(const Group& g0, const Group& g1, int h, int st,
                                            int k) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F), m30 = V::set1_8(0x30);
    const int kl = (st & 1) ? k + 8 : k;
    const vi l = V::load(g0.ql[h][kl], g1.ql[h][kl]);
    const vi hb = V::load(g0.qh[h][k], g1.qh[h][k]);
    const vi lo4 = st < 2 ? V::and_(l, m4) : V::and_(V::srli16(l, 4), m4);
    const vi hi2 = V::and_(st == 0   ? V::slli16(hb, 4)
                           : st == 1 ? V::slli16(hb, 2)
                           : st == 2 ? hb
                                     : V::srli16(hb, 2),
                           m30);
    return V::or_(lo4, hi2);
  }

  // Scale pairs (int16) times -32 (|scale| <= 128: fits int16).
  static QWEN3_INLINE typename V::vi minus32(typename V::vi pairs) {
    return V::sub16(V::zero(), V::slli16(pairs, 5));
  }
  // isum -= 32 * (scale pair p . activation sums of sub-blocks 2p, 2p+1): one vpdpwssd.
  template <int T>
  static QWEN3_INLINE void offset(int p, typename V::vi pm32, const Act* const (&a)[T],
                                  typename V::vi (&isum)[T]) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::dpwb(isum[t], pm32, a[t]->bsums + 2 * p);
  }

  // Prompts: one super-block unpacked once for all the token sweeps (measured 5-12%
  // faster than unpacking per sweep).
  static constexpr bool kUnpack = true;
  static constexpr int kChunk = 1;
  struct Unpacked {
    typename V::vi q[2][4][2][4];  // [half h][stream st][sub-block is][k - 4 is] values
    typename V::vi sc[2][4][2];    // scale of sub-block 8h + 2st + is, int32 lanes
    typename V::vi pm32[8];        // scale pairs times -32, int16 lanes (the offset term)
    typename V::vf d;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    using vi = typename V::vi;
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st) {
        const vi pairs = V::i8_16(g0.sc[4 * h + st][0], g1.sc[4 * h + st][0]);
        u.pm32[4 * h + st] = minus32(pairs);
        u.sc[h][st][0] = V::srai32(V::slli32(pairs, 16), 16);
        u.sc[h][st][1] = V::srai32(pairs, 16);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) u.q[h][st][k / 4][k % 4] = values(g0, g1, h, st, k);
      }
    }
    u.d = V::f16(g0.d, g1.d);
  }
  template <int T>
  static QWEN3_INLINE void block_u(const Unpacked& u, const Act* const (&a)[T],
                                   typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    vi isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::zero();
    for (int p = 0; p < 8; ++p) offset<T>(p, u.pm32[p], a, isum);
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st)
#pragma GCC unroll 2
        for (int is = 0; is < 2; ++is) {
          vi s[T];
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) s[t] = V::zero();
#pragma GCC unroll 4
          for (int kk = 0; kk < 4; ++kk)
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t)
              s[t] =
                  V::dpb(s[t], u.q[h][st][is][kk], a[t]->qs + 128 * h + 32 * st + 16 * is + 4 * kk);
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], u.sc[h][st][is]));
        }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      acc[t] = V::fmadd(V::cvt(isum[t]), V::mul(u.d, V::set1f(a[t]->d)), acc[t]);
  }

  // Decode: each ql/qh vector is loaded once and feeds the 4 streams (4 sums per token).
  template <int T>
  static QWEN3_INLINE void few_tokens(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                      typename V::vi (&isum)[T]) {
    using vi = typename V::vi;
    for (int h = 0; h < 2; ++h) {
      vi pairs[4];
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st)
        pairs[st] = V::i8_16(g0.sc[4 * h + st][0], g1.sc[4 * h + st][0]);
#pragma GCC unroll 2
      for (int is = 0; is < 2; ++is) {
        vi s[T][4];
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
          for (int st = 0; st < 4; ++st) s[t][st] = V::zero();
#pragma GCC unroll 4
        for (int k = 4 * is; k < 4 * is + 4; ++k) {
          vi q[4];
#pragma GCC unroll 4
          for (int st = 0; st < 4; ++st) q[st] = values(g0, g1, h, st, k);
#pragma GCC unroll 2
          for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
            for (int st = 0; st < 4; ++st)
              s[t][st] = V::dpb(s[t][st], q[st], a[t]->qs + 128 * h + 32 * st + 4 * k);
        }
#pragma GCC unroll 4
        for (int st = 0; st < 4; ++st) {
          const vi sc = is ? V::srai32(pairs[st], 16) : V::srai32(V::slli32(pairs[st], 16), 16);
#pragma GCC unroll 2
          for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t][st], sc));
        }
      }
    }
  }

  // Prompts: one stream at a time, so only one sum per token is live.
  template <int T>
  static QWEN3_INLINE void many_tokens(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                       typename V::vi (&isum)[T]) {
    using vi = typename V::vi;
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st) {  // stream st: weights 128h + 32st + l, l < 32
        // Scales of sub-blocks 8h + 2st (l < 16) and 8h + 2st + 1, as int32 lanes.
        const vi pairs = V::i8_16(g0.sc[4 * h + st][0], g1.sc[4 * h + st][0]);
        const vi sc_lo = V::srai32(V::slli32(pairs, 16), 16), sc_hi = V::srai32(pairs, 16);
        for (int is = 0; is < 2; ++is) {
          vi s[T];
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) s[t] = V::zero();
#pragma GCC unroll 4
          for (int k = 4 * is; k < 4 * is + 4; ++k) {
            const vi q = values(g0, g1, h, st, k);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t)
              s[t] = V::dpb(s[t], q, a[t]->qs + 128 * h + 32 * st + 4 * k);
          }
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], is ? sc_hi : sc_lo));
        }
      }
    }
  }
};

// The distance of each stream of a 512-bit sweep (see run): 8 KiB as one stream's. (4 and
// 3 KiB measured the same within the noise: batch_step_bench matmuls, one thread, B = 4
// and 8, 2 alternating rounds, load ~3; session 16.)
constexpr size_t kPairPrefetchBytes = kPrefetchBytes;
// Where a 512-bit sweep's streams prefetch (see run): blocks [0, bw) at + first bytes from
// the block they read, blocks [bw, nb) at + second. A stream offset o = b * block +
// kPairPrefetchBytes lies q = o / gs groups of its stream ahead, at w_s + o + q gs.
struct PairPrefetch {
  int64_t bw;
  size_t first, second;
};
inline PairPrefetch pair_prefetch(int64_t nb, size_t block) {
  const size_t gs = static_cast<size_t>(nb) * block;
  const size_t q0 = kPairPrefetchBytes / gs;
  const size_t to_next = (q0 + 1) * gs - kPairPrefetchBytes;  // bytes of the stream
  const auto bw = static_cast<int64_t>((to_next + block - 1) / block);
  return {bw < nb ? bw : nb, kPairPrefetchBytes + q0 * gs, kPairPrefetchBytes + (q0 + 1) * gs};
}

// T activation rows against the V::G groups starting at w0 (and w1): y[t*ldy + r].
// Each weight stream prefetches kPrefetchBytes ahead of the block it reads. At 512 bits
// (V::G == 2) the two groups lie one after the other (w1 = w0 + gs, gs = nb blocks: the
// callers pass neighbouring groups) and the next sweep takes the next two: past its
// group's end a stream prefetches the same stream of the next pair (+ 2 gs), not the
// other group of this pair, which is being read. (Both streams running on past their
// ends, the first kPrefetchBytes of every second group were never prefetched where a
// group is longer than that: wo and the FFN down of the 0.6B, 9-14 KiB groups of Q4_0;
// batch_step_bench matmuls, 4 tokens, one thread, CPU time: wo 3.13-3.23 -> 2.73-2.81 ms
// per step, down 4.50-4.67 -> 3.92-4.03, 2 alternating rounds, load ~2, session 16,
// Sapphire-Rapids-class KVM guest.) Two loops, one per prefetch offset, so the inner loop
// keeps the old register use (one loop with a wrap test spilled at 8 tokens).
template <class K, class V, int T>
void run(int64_t nb, const void* w0v, const void* w1v, const uint8_t* x, size_t xs, float* y,
         int64_t ldy) {
  using Act = typename K::Act;
  using Group = typename K::Group;
  const auto* w0 = static_cast<const Group*>(w0v);
  const auto* w1 = static_cast<const Group*>(w1v);
  typename V::vf acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = V::zf();
  auto blocks = [&](int64_t b0, int64_t b1, const char* pf0, const char* pf1)
      __attribute__((always_inline)) {
    for (int64_t b = b0; b < b1; ++b) {
      prefetch_block<V, Group>(pf0 + b * sizeof(Group));
      if constexpr (V::G == 2) prefetch_block<V, Group>(pf1 + b * sizeof(Group));
      const Act* a[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const Act*>(x + t * xs) + b;
      K::template block<T>(w0[b], w1[b], a, acc);
    }
  };
  if constexpr (V::G == 2) {
    const PairPrefetch pp = pair_prefetch(nb, sizeof(Group));
    const char* p0 = reinterpret_cast<const char*>(w0);
    const char* p1 = reinterpret_cast<const char*>(w1);
    blocks(0, pp.bw, p0 + pp.first, p1 + pp.first);
    blocks(pp.bw, nb, p0 + pp.second, p1 + pp.second);
  } else {
    const char* p0 = reinterpret_cast<const char*>(w0) + kPrefetchBytes;
    blocks(0, nb, p0, p0);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) V::store(y + t * ldy, acc[t]);
}

template <class K, class V, int T>
QWEN3_INLINE void run_tail(int rem, int64_t nb, const void* w0, const void* w1, const uint8_t* x,
                           size_t xs, float* y, int64_t ldy) {
  if constexpr (T > 0) {
    if (rem == T) return run<K, V, T>(nb, w0, w1, x, xs, y, ldy);
    run_tail<K, V, T - 1>(rem, nb, w0, w1, x, xs, y, ldy);
  }
}

// T activation rows against nbk unpacked blocks (from block b0 on), continuing the sums
// in y unless first.
template <class K, class V, int T>
void run_u(const typename K::Unpacked* u, int nbk, int64_t b0, const uint8_t* x, size_t xs,
           float* y, int64_t ldy, bool first) {
  using Act = typename K::Act;
  typename V::vf acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = first ? V::zf() : V::loadf(y + t * ldy);
  for (int i = 0; i < nbk; ++i) {
    const Act* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const Act*>(x + t * xs) + b0 + i;
    K::template block_u<T>(u[i], a, acc);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) V::store(y + t * ldy, acc[t]);
}

template <class K, class V, int T>
QWEN3_INLINE void run_u_tail(int rem, const typename K::Unpacked* u, int nbk, int64_t b0,
                             const uint8_t* x, size_t xs, float* y, int64_t ldy, bool first) {
  if constexpr (T > 0) {
    if (rem == T) return run_u<K, V, T>(u, nbk, b0, x, xs, y, ldy, first);
    run_u_tail<K, V, T - 1>(rem, u, nbk, b0, x, xs, y, ldy, first);
  }
}

// Prompts: a chunk of blocks of the groups is unpacked once (on the stack, a few KiB),
// then every sweep of K::kMaxT tokens runs over it, the sums carried in y between chunks.
// The same per-row arithmetic in the same order as run(): identical results.
template <class K, class V>
void sweep_unpacked(int64_t n, const void* w0v, const void* w1v, const uint8_t* x, size_t xs,
                    int nt, float* y, int64_t ldy) {
  const auto* w0 = static_cast<const typename K::Group*>(w0v);
  const auto* w1 = static_cast<const typename K::Group*>(w1v);
  const int64_t nb = n / K::kBlock;
  typename K::Unpacked u[K::kChunk];
  for (int64_t b0 = 0; b0 < nb; b0 += K::kChunk) {
    const int nbk = static_cast<int>(nb - b0 < K::kChunk ? nb - b0 : K::kChunk);
    for (int i = 0; i < nbk; ++i) K::unpack(w0[b0 + i], w1[b0 + i], u[i]);
    int t = 0;
    for (; t + K::kMaxT <= nt; t += K::kMaxT)
      run_u<K, V, K::kMaxT>(u, nbk, b0, x + t * xs, xs, y + t * ldy, ldy, b0 == 0);
    if (t < nt)
      run_u_tail<K, V, K::kMaxT - 1>(nt - t, u, nbk, b0, x + t * xs, xs, y + t * ldy, ldy, b0 == 0);
  }
}

// All nt activation rows in sweeps of K::kMaxT against the groups at w0 (and w1).
template <class K, class V>
void sweep(int64_t n, const void* w0, const void* w1, const uint8_t* x, size_t xs, int nt, float* y,
           int64_t ldy) {
  if constexpr (K::kUnpack)
    if (nt >= 2 * K::kMaxT) return sweep_unpacked<K, V>(n, w0, w1, x, xs, nt, y, ldy);
  const int64_t nb = n / K::kBlock;
  int t = 0;
  for (; t + K::kMaxT <= nt; t += K::kMaxT)
    run<K, V, K::kMaxT>(nb, w0, w1, x + t * xs, xs, y + t * ldy, ldy);
  if (t < nt) run_tail<K, V, K::kMaxT - 1>(nt - t, nb, w0, w1, x + t * xs, xs, y + t * ldy, ldy);
}

template <class V>
using Q4K = QK<V, BlockQ4_Kx8, false>;
template <class V>
using Q5K = QK<V, BlockQ5_Kx8, true>;

// A level's rows8 kernel of each type. D gives the level's drivers: D::groups<K> runs
// kernel K (one of the above, instantiated with the level's traits) over ng groups, D::q6k
// is the Q6_K driver.
template <class D>
detail::Rows8Fn rows8_kernel_of(GgmlType t) {
  static constexpr detail::TypedFn<detail::Rows8Fn> kKernels[] = {
      {GgmlType::Q4_0, D::template groups<Q4_0>},
      {GgmlType::Q8_0, D::template groups<Q8_0>},
      {GgmlType::Q4_K, D::template groups<Q4K>},
      {GgmlType::Q5_K, D::template groups<Q5K>},
      {GgmlType::Q6_K, D::q6k},
  };
  return detail::find_fn(kKernels, t);
}

}  // namespace
}  // namespace qwen3::vnni

#undef QWEN3_INLINE
