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
//   bcast(p)                     4 activation bytes to every lane
//   and/or/xor/srli16/slli16/slli32/srai32/add/sub/mullo/set1_8/set1_32/zero,
//   zf/set1f/mul/fmadd/fnmadd/cvt/loadf/store.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"

namespace qwen3::vnni {
namespace {

using detail::ActQ8;

#define QWEN3_INLINE inline __attribute__((always_inline))

// Decode streams each group once from memory: software prefetch 2 KiB ahead, as in the
// AVX2 kernels.
constexpr size_t kPrefetchBytes = 2048;
template <class Block>
QWEN3_INLINE void prefetch_ahead(const Block* blk) {
  const char* p = reinterpret_cast<const char*>(blk) + kPrefetchBytes;
  for (size_t off = 0; off < sizeof(Block); off += 64) __builtin_prefetch(p + off, 0, 3);
}

// Q4_0: unsigned nibbles, the offset 8 removed through the activation block sum.
template <class V>
struct Q4_0 {
  using Group = BlockQ4_0x8;
  using Act = ActQ8;
  static constexpr int kBlock = 32;
  static constexpr int kMaxT = 8;
  static constexpr bool kUnpack = false;  // measured: unpacking first costs 5-10% here
  template <int T>
  static QWEN3_INLINE void block(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F);
    vi s0[T], s1[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) s0[t] = s1[t] = V::zero();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const vi v = V::load(g0.qs[k], g1.qs[k]);
      const vi lo = V::and_(v, m4), hi = V::and_(V::srli16(v, 4), m4);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        s0[t] = V::dp(s0[t], lo, V::bcast(a[t]->qs + 4 * k));
        s1[t] = V::dp(s1[t], hi, V::bcast(a[t]->qs + 16 + 4 * k));
      }
    }
    finish<T>(V::f16(g0.d, g1.d), a, s0, s1, acc);
  }

  template <int T>
  static QWEN3_INLINE void finish(typename V::vf dw, const Act* const (&a)[T],
                                  typename V::vi (&s0)[T], typename V::vi (&s1)[T],
                                  typename V::vf (&acc)[T]) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const typename V::vi p = V::sub(V::add(s0[t], s1[t]), V::set1_32(8 * a[t]->sum));
      acc[t] = V::fmadd(V::cvt(p), V::mul(dw, V::set1f(a[t]->d)), acc[t]);
    }
  }
};

// Q8_0: signed weights made unsigned by flipping the sign bit (w + 128); the 128 * sum of
// the activations is removed again.
template <class V>
struct Q8_0 {
  using Group = BlockQ8_0x8;
  using Act = ActQ8;
  static constexpr int kBlock = 32;
  static constexpr int kMaxT = 8;
  static constexpr bool kUnpack = false;  // measured: unpacking first costs 5-10% here
  template <int T>
  static QWEN3_INLINE void block(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                 typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
    const vi flip = V::set1_8(static_cast<char>(0x80));
    vi s0[T], s1[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) s0[t] = s1[t] = V::zero();
#pragma GCC unroll 4
    for (int k = 0; k < 8; k += 2) {
      const vi u0 = V::xor_(V::load(g0.qs[k], g1.qs[k]), flip);
      const vi u1 = V::xor_(V::load(g0.qs[k + 1], g1.qs[k + 1]), flip);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        s0[t] = V::dp(s0[t], u0, V::bcast(a[t]->qs + 4 * k));
        s1[t] = V::dp(s1[t], u1, V::bcast(a[t]->qs + 4 * k + 4));
      }
    }
    finish<T>(V::f16(g0.d, g1.d), a, s0, s1, acc);
  }

  template <int T>
  static QWEN3_INLINE void finish(typename V::vf dw, const Act* const (&a)[T],
                                  typename V::vi (&s0)[T], typename V::vi (&s1)[T],
                                  typename V::vf (&acc)[T]) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const typename V::vi p = V::sub(V::add(s0[t], s1[t]), V::set1_32(128 * a[t]->sum));
      acc[t] = V::fmadd(V::cvt(p), V::mul(dw, V::set1f(a[t]->d)), acc[t]);
    }
  }
};

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
    const vi m4 = V::set1_8(0x0F), m10 = V::set1_8(0x10);
    vi isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = V::zero();
    if constexpr (T <= 2) {  // decode: each qs (and qh) vector loaded once
      for (int c = 0; c < 4; ++c) {
        vi slo[T], shi[T];
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t) slo[t] = shi[t] = V::zero();
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          const vi v = V::load(g0.qs[c][k], g1.qs[c][k]);
          vi lo = V::and_(v, m4), hi = V::and_(V::srli16(v, 4), m4);
          if constexpr (kFive) {  // bits 2c, 2c+1 of each qh byte
            const vi hb = V::load(g0.qh[k], g1.qh[k]);
            const int j = 2 * c;
            lo = V::or_(lo, V::and_(j >= 4 ? V::srli16(hb, j - 4) : V::slli16(hb, 4 - j), m10));
            hi = V::or_(hi, V::and_(j + 1 >= 4 ? V::srli16(hb, j - 3) : V::slli16(hb, 3 - j), m10));
          }
#pragma GCC unroll 2
          for (int t = 0; t < T; ++t) {
            slo[t] = V::dp(slo[t], lo, V::bcast(a[t]->qs + 64 * c + 4 * k));
            shi[t] = V::dp(shi[t], hi, V::bcast(a[t]->qs + 64 * c + 32 + 4 * k));
          }
        }
        const vi sclo = V::u8_32(g0.sc[2 * c], g1.sc[2 * c]);
        const vi schi = V::u8_32(g0.sc[2 * c + 1], g1.sc[2 * c + 1]);
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t)
          isum[t] = V::add(isum[t], V::add(V::mullo(slo[t], sclo), V::mullo(shi[t], schi)));
      }
    } else {
      many_tokens<T>(g0, g1, a, isum);
    }
    typename V::vi mn[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) mn[p] = V::u8_16(g0.mn[p][0], g1.mn[p][0]);
    finish<T>(V::f16(g0.d, g1.d), V::f16(g0.dmin, g1.dmin), mn, a, isum, acc);
  }

  // Prompts: one sub-block at a time, so only one sum per token is live.
  template <int T>
  static QWEN3_INLINE void many_tokens(const Group& g0, const Group& g1, const Act* const (&a)[T],
                                       typename V::vi (&isum)[T]) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F), m10 = V::set1_8(0x10);
    for (int j = 0; j < 8; ++j) {  // sub-block j: chunk j/2, low (even j) or high nibbles
      const int c = j / 2, half = j & 1;
      vi s[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) s[t] = V::zero();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const vi v = V::load(g0.qs[c][k], g1.qs[c][k]);
        vi q = half ? V::and_(V::srli16(v, 4), m4) : V::and_(v, m4);
        if constexpr (kFive) {  // bit j of each qh byte is the fifth bit of sub-block j
          const vi hb = V::load(g0.qh[k], g1.qh[k]);
          q = V::or_(q, V::and_(j >= 4 ? V::srli16(hb, j - 4) : V::slli16(hb, 4 - j), m10));
        }
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) s[t] = V::dp(s[t], q, V::bcast(a[t]->qs + 32 * j + 4 * k));
      }
      const vi sc = V::u8_32(g0.sc[j], g1.sc[j]);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], sc));
    }
  }

  template <int T>
  static QWEN3_INLINE void finish(typename V::vf d, typename V::vf dmin,
                                  const typename V::vi (&mn)[4], const Act* const (&a)[T],
                                  typename V::vi (&isum)[T], typename V::vf (&acc)[T]) {
    using vi = typename V::vi;
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      vi summ = V::zero();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        // Activation sums of sub-blocks 2p, 2p+1 (<= 32*128 each) as one int16 pair.
        const int16_t* bs = a[t]->bsums + 4 * p;
        const uint32_t lo = static_cast<uint16_t>(bs[0] + bs[1]);
        const uint32_t hi = static_cast<uint16_t>(bs[2] + bs[3]);
        summ = V::dpw(summ, mn[p], V::set1_32(static_cast<int>(lo | (hi << 16))));
      }
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
    typename V::vi mn[4];    // min pairs, int16 lanes
    typename V::vf d, dmin;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F), m10 = V::set1_8(0x10);
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c)
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const vi v = V::load(g0.qs[c][k], g1.qs[c][k]);
        vi lo = V::and_(v, m4), hi = V::and_(V::srli16(v, 4), m4);
        if constexpr (kFive) {
          const vi hb = V::load(g0.qh[k], g1.qh[k]);
          const int j = 2 * c;
          lo = V::or_(lo, V::and_(j >= 4 ? V::srli16(hb, j - 4) : V::slli16(hb, 4 - j), m10));
          hi = V::or_(hi, V::and_(j + 1 >= 4 ? V::srli16(hb, j - 3) : V::slli16(hb, 3 - j), m10));
        }
        u.q[2 * c][k] = lo;
        u.q[2 * c + 1][k] = hi;
      }
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) u.sc[j] = V::u8_32(g0.sc[j], g1.sc[j]);
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) u.mn[p] = V::u8_16(g0.mn[p][0], g1.mn[p][0]);
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
        for (int t = 0; t < T; ++t)
          s[t] = V::dp(s[t], u.q[j][k], V::bcast(a[t]->qs + 32 * j + 4 * k));
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
    for (int p = 0; p < 8; ++p) offset<T>(p, V::i8_16(g0.sc[p][0], g1.sc[p][0]), a, isum);
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

  template <int T>
  static QWEN3_INLINE void offset(int p, typename V::vi pairs, const Act* const (&a)[T],
                                  typename V::vi (&isum)[T]) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      int32_t bs;
      std::memcpy(&bs, a[t]->bsums + 2 * p, 4);
      isum[t] = V::sub(isum[t], V::slli32(V::dpw(V::zero(), pairs, V::set1_32(bs)), 5));
    }
  }

  // Prompts: one super-block unpacked once for all the token sweeps (measured 5-12%
  // faster than unpacking per sweep).
  static constexpr bool kUnpack = true;
  static constexpr int kChunk = 1;
  struct Unpacked {
    typename V::vi q[2][4][2][4];  // [half h][stream st][sub-block is][k - 4 is] values
    typename V::vi sc[2][4][2];    // scale of sub-block 8h + 2st + is, int32 lanes
    typename V::vi pairs[8];       // scale pairs, int16 lanes (the offset term)
    typename V::vf d;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    using vi = typename V::vi;
    const vi m4 = V::set1_8(0x0F), m30 = V::set1_8(0x30);
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) u.pairs[p] = V::i8_16(g0.sc[p][0], g1.sc[p][0]);
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st) {
        const vi pairs = u.pairs[4 * h + st];
        u.sc[h][st][0] = V::srai32(V::slli32(pairs, 16), 16);
        u.sc[h][st][1] = V::srai32(pairs, 16);
      }
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const vi la = V::load(g0.ql[h][k], g1.ql[h][k]);
        const vi lb = V::load(g0.ql[h][k + 8], g1.ql[h][k + 8]);
        const vi hb = V::load(g0.qh[h][k], g1.qh[h][k]);
        const int is = k / 4, kk = k % 4;
        u.q[h][0][is][kk] = V::or_(V::and_(la, m4), V::and_(V::slli16(hb, 4), m30));
        u.q[h][1][is][kk] = V::or_(V::and_(lb, m4), V::and_(V::slli16(hb, 2), m30));
        u.q[h][2][is][kk] = V::or_(V::and_(V::srli16(la, 4), m4), V::and_(hb, m30));
        u.q[h][3][is][kk] = V::or_(V::and_(V::srli16(lb, 4), m4), V::and_(V::srli16(hb, 2), m30));
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
    for (int p = 0; p < 8; ++p) offset<T>(p, u.pairs[p], a, isum);
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
              s[t] = V::dp(s[t], u.q[h][st][is][kk],
                           V::bcast(a[t]->qs + 128 * h + 32 * st + 16 * is + 4 * kk));
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
    const vi m4 = V::set1_8(0x0F), m30 = V::set1_8(0x30);
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
          const vi la = V::load(g0.ql[h][k], g1.ql[h][k]);
          const vi lb = V::load(g0.ql[h][k + 8], g1.ql[h][k + 8]);
          const vi hb = V::load(g0.qh[h][k], g1.qh[h][k]);
          vi q[4];
          q[0] = V::or_(V::and_(la, m4), V::and_(V::slli16(hb, 4), m30));
          q[1] = V::or_(V::and_(lb, m4), V::and_(V::slli16(hb, 2), m30));
          q[2] = V::or_(V::and_(V::srli16(la, 4), m4), V::and_(hb, m30));
          q[3] = V::or_(V::and_(V::srli16(lb, 4), m4), V::and_(V::srli16(hb, 2), m30));
#pragma GCC unroll 2
          for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
            for (int st = 0; st < 4; ++st)
              s[t][st] = V::dp(s[t][st], q[st], V::bcast(a[t]->qs + 128 * h + 32 * st + 4 * k));
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
    const vi m4 = V::set1_8(0x0F), m30 = V::set1_8(0x30);
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
            const int kl = (st & 1) ? k + 8 : k;  // streams 1, 3 read ql bytes 32..63
            const vi l = V::load(g0.ql[h][kl], g1.ql[h][kl]);
            const vi hb = V::load(g0.qh[h][k], g1.qh[h][k]);
            const vi lo4 = st < 2 ? V::and_(l, m4) : V::and_(V::srli16(l, 4), m4);
            const vi hi2 = V::and_(st == 0   ? V::slli16(hb, 4)
                                   : st == 1 ? V::slli16(hb, 2)
                                   : st == 2 ? hb
                                             : V::srli16(hb, 2),
                                   m30);
            const vi q = V::or_(lo4, hi2);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t)
              s[t] = V::dp(s[t], q, V::bcast(a[t]->qs + 128 * h + 32 * st + 4 * k));
          }
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) isum[t] = V::add(isum[t], V::mullo(s[t], is ? sc_hi : sc_lo));
        }
      }
    }
  }
};

// T activation rows against the V::G groups starting at w0 (and w1): y[t*ldy + r].
template <class K, class V, int T>
void run(int64_t nb, const void* w0v, const void* w1v, const uint8_t* x, size_t xs, float* y,
         int64_t ldy) {
  using Act = typename K::Act;
  const auto* w0 = static_cast<const typename K::Group*>(w0v);
  const auto* w1 = static_cast<const typename K::Group*>(w1v);
  typename V::vf acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = V::zf();
  for (int64_t b = 0; b < nb; ++b) {
    prefetch_ahead(w0 + b);
    if constexpr (V::G == 2) prefetch_ahead(w1 + b);
    const Act* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const Act*>(x + t * xs) + b;
    K::template block<T>(w0[b], w1[b], a, acc);
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

}  // namespace
}  // namespace qwen3::vnni

#undef QWEN3_INLINE
