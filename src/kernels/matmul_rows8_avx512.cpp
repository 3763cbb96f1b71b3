// AVX-512 (F/BW/VL/DQ + VNNI) kernels for the rows8 layout: two groups of 8 rows per
// 512-bit vector, up to 8 activation rows per sweep (32 zmm registers hold 8 float
// accumulators, 8 int32 sums and the unpacked weights). An odd last group runs the same
// kernels at 256 bits (EVEX vpdpbusd), with identical per-row arithmetic. Decode (one
// token) of the K-quants has its own one-stream 512-bit kernels (qk_one, q6k_one): two
// 4-byte pieces of each row per vector, the same per-row results.
// Built with the AVX-512 flags (CMakeLists.txt); called only through the avx512 table.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include <type_traits>

#include "kernels/cpu_features.h"
#include "kernels/kernels_avx512.h"
#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v256.h"
#include "kernels/vnni_v512.h"

namespace qwen3::avx512 {
namespace {

using vnni::Bytes4;
using vnni::load128;
using vnni::load256;
using vnni::V512;

// One group at 256 bits with the EVEX (AVX512_VNNI + VL) vpdpbusd / vpdpwssd.
struct DpEvex {
  static __m256i dp(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
  static __m256i dpw(__m256i acc, __m256i a, __m256i b) { return _mm256_dpwssd_epi32(acc, a, b); }
  static __m256i dpb(__m256i acc, __m256i u, const int8_t* p) {
    asm("vpdpbusd %2%{1to8%}, %1, %0"
        : "+v"(acc)
        : "v"(u), "m"(*reinterpret_cast<const Bytes4*>(p)));
    return acc;
  }
  static __m256i dpwb(__m256i acc, __m256i a, const void* p) {
    asm("vpdpwssd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*static_cast<const Bytes4*>(p)));
    return acc;
  }
};
using V256 = vnni::V256<DpEvex>;

// One rows8 group in both 256-bit halves of a 512-bit vector (lanes 0-7 and 8-15 the
// same 8 rows): the Q6_K token-pair kernel below unpacks the weights once at this width
// and dots them with two tokens at a time.
struct VDup : V512 {
  static vi load(const void* p0, const void*) { return _mm512_broadcast_i64x4(load256(p0)); }
  static vf f16(const uint16_t* p0, const uint16_t*) {
    return _mm512_cvtph_ps(_mm256_broadcastsi128_si256(load128(p0)));
  }
  static vi i8_16(const int8_t* p0, const int8_t*) {
    return _mm512_cvtepi8_epi16(_mm256_broadcastsi128_si256(load128(p0)));
  }
};

// One Q8_K block of a token pair laid out for VDup: every 4-byte piece of token a in
// lanes 0-7 and of token b in lanes 8-15, so each vpdpbusd takes the pair's bytes as a
// plain 64-byte operand.
struct PairQ8K {
  int32_t qs[64][16];    // [piece c]: bytes 4c..4c+3
  int32_t bsums[8][16];  // [p]: bsums 2p, 2p+1 (two int16)
  float d[16];
};
inline int32_t ld32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
inline __m512i pair32(const void* a, const void* b) {
  return _mm512_mask_set1_epi32(_mm512_set1_epi32(ld32(a)), 0xFF00, ld32(b));
}
void make_pair(const BlockQ8_K& a, const BlockQ8_K& b, PairQ8K& o) {
  for (int c = 0; c < 64; ++c) _mm512_store_si512(o.qs[c], pair32(a.qs + 4 * c, b.qs + 4 * c));
  for (int p = 0; p < 8; ++p)
    _mm512_store_si512(o.bsums[p], pair32(a.bsums + 2 * p, b.bsums + 2 * p));
  _mm512_store_ps(o.d, _mm512_mask_mov_ps(_mm512_set1_ps(a.d), 0xFF00, _mm512_set1_ps(b.d)));
}

// Q6_K against 2-4 tokens: one group at a time (one weight stream, as the 256-bit path),
// its values unpacked once at 512 bits (VDup) and dotted with P token pairs, two tokens
// per vector, which halves the per-token instructions (64 vpdpbusd and 16 vpmulld per
// pair and super-block instead of per token). Each lane gets the integer sums of
// vnni::Q6K and the same float steps (d x token d, one fmadd per super-block, in block
// order), so every token's outputs equal the token alone bit for bit. The pair copies of
// the activations (4.6 KiB per pair and block) are made per chunk of kPairChunk blocks;
// the float sums are carried in y between chunks.
constexpr int kPairChunk = 4;
// Up to 4 tokens (2 pairs): at 8 tokens the 4 pairs' copies (75 KiB) no longer stay in
// L1 and the pair kernel measured ~20 % slower than one token per vector (BM_SmallBatch
// Q6_K 3072x1024, one thread, CPU time), at 4 tokens ~10-20 % faster.
constexpr int kPairTokens = 4;
using Q6Dup = vnni::Q6K<VDup>;

template <int P>
void q6k_pairs(const uint8_t* w, size_t gs, int64_t ng, const PairQ8K (*pa)[kPairChunk], int nbk,
               int64_t b0, float* y, int64_t ldy, bool odd, bool first) {
  using vi = __m512i;
  for (int64_t g = 0; g < ng; ++g) {
    const auto* blk = reinterpret_cast<const BlockQ6_Kx8*>(w + g * gs) + b0;
    float* yg = y + 8 * g;
    __m512 acc[P];
#pragma GCC unroll 4
    for (int j = 0; j < P; ++j) {
      if (first) {
        acc[j] = _mm512_setzero_ps();
        continue;
      }
      const float* y0 = yg + 2 * j * ldy;
      const __m256 lo = _mm256_loadu_ps(y0);
      const __m256 hi = (odd && j == P - 1) ? lo : _mm256_loadu_ps(y0 + ldy);
      acc[j] = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    }
    for (int i = 0; i < nbk; ++i) {
      const BlockQ6_Kx8& G = blk[i];
      {  // the same block of the next group: a group ahead (the next bytes when nbk == nb)
        const char* nx = reinterpret_cast<const char*>(&G) + gs;
        for (size_t off = 0; off < sizeof(BlockQ6_Kx8); off += 64)
          __builtin_prefetch(nx + off, 0, 3);
      }
      vi isum[P];
#pragma GCC unroll 4
      for (int j = 0; j < P; ++j) isum[j] = _mm512_setzero_si512();
      for (int p = 0; p < 8; ++p) {
        const vi pm32 = Q6Dup::minus32(VDup::i8_16(G.sc[p][0], nullptr));
#pragma GCC unroll 4
        for (int j = 0; j < P; ++j)
          isum[j] = _mm512_dpwssd_epi32(isum[j], pm32, _mm512_load_si512(pa[j][i].bsums[p]));
      }
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int st = 0; st < 4; ++st) {
          const vi pairs = VDup::i8_16(G.sc[4 * h + st][0], nullptr);
          const vi sc_lo = _mm512_srai_epi32(_mm512_slli_epi32(pairs, 16), 16);
          const vi sc_hi = _mm512_srai_epi32(pairs, 16);
#pragma GCC unroll 2
          for (int is = 0; is < 2; ++is) {
            vi s[P];
#pragma GCC unroll 4
            for (int j = 0; j < P; ++j) s[j] = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int k = 4 * is; k < 4 * is + 4; ++k) {
              const vi q = Q6Dup::values(G, G, h, st, k);
              const int c = 32 * h + 8 * st + k;  // piece of bytes 128h + 32st + 4k
#pragma GCC unroll 4
              for (int j = 0; j < P; ++j)
                s[j] = _mm512_dpbusd_epi32(s[j], q, _mm512_load_si512(pa[j][i].qs[c]));
            }
#pragma GCC unroll 4
            for (int j = 0; j < P; ++j)
              isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(s[j], is ? sc_hi : sc_lo));
          }
        }
      }
      const __m512 d = VDup::f16(G.d, nullptr);
#pragma GCC unroll 4
      for (int j = 0; j < P; ++j)
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]),
                                 _mm512_mul_ps(d, _mm512_load_ps(pa[j][i].d)), acc[j]);
    }
#pragma GCC unroll 4
    for (int j = 0; j < P; ++j) {
      float* y0 = yg + 2 * j * ldy;
      _mm256_storeu_ps(y0, _mm512_castps512_ps256(acc[j]));
      if (!(odd && j == P - 1)) _mm256_storeu_ps(y0 + ldy, _mm512_extractf32x8_ps(acc[j], 1));
    }
  }
}

// 2..8 tokens (nt; used for 2..kPairTokens), any number of blocks: chunk by chunk, the
// pair copies on the stack (75 KiB). An odd last token is paired with itself and stored once.
void q6k_small_batch(int64_t n, const uint8_t* w, size_t gs, int64_t ng, const uint8_t* x,
                     size_t xs, int nt, float* y, int64_t ldy) {
  alignas(64) PairQ8K pa[4][kPairChunk];
  const int64_t nb = n / kQK_K;
  const int P = (nt + 1) / 2;
  const bool odd = nt & 1;
  for (int64_t b0 = 0; b0 < nb; b0 += kPairChunk) {
    const int nbk = static_cast<int>(nb - b0 < kPairChunk ? nb - b0 : kPairChunk);
    for (int j = 0; j < P; ++j) {
      const auto* ta = reinterpret_cast<const BlockQ8_K*>(x + 2 * j * xs);
      const auto* tb =
          reinterpret_cast<const BlockQ8_K*>(x + (2 * j + 1 < nt ? 2 * j + 1 : 2 * j) * xs);
      for (int i = 0; i < nbk; ++i) make_pair(ta[b0 + i], tb[b0 + i], pa[j][i]);
    }
    const bool first = b0 == 0;
    switch (P) {
      case 1:
        q6k_pairs<1>(w, gs, ng, pa, nbk, b0, y, ldy, odd, first);
        break;
      case 2:
        q6k_pairs<2>(w, gs, ng, pa, nbk, b0, y, ldy, odd, first);
        break;
      case 3:
        q6k_pairs<3>(w, gs, ng, pa, nbk, b0, y, ldy, odd, first);
        break;
      default:
        q6k_pairs<4>(w, gs, ng, pa, nbk, b0, y, ldy, odd, first);
    }
  }
}

// One token, the K-quants: one group at a time (one weight stream) at 512 bits, each
// vector holding two neighbouring 4-byte pieces k, k+1 of every row (lanes 0-7 piece k,
// lanes 8-15 piece k+1: 64 contiguous bytes of the rows8 block). The token's Q8_K block
// is laid out to match once per call (Act1: each 8 activation bytes as two 4-byte pieces
// spread over the two lane halves), so each vpdpbusd takes a plain 64-byte operand. This
// halves the unpack and dot-product instructions per weight against the 256-bit kernel.
// The integer sums per row are regrouped (the two lane halves are added once per
// super-block), which is exact, and the float steps are those of vnni::QK / vnni::Q6K
// (one fmadd per super-block, in block order, with the same values): every token's
// outputs equal the 256-bit kernel's and the 2-8 token kernels' bit for bit.
// 1 token, cold weights in huge pages, 1 thread, against the 256-bit kernel: Q4_K
// 3072x1024 142 -> 123 us, lm_head 151936x1024 7.0 -> 6.2 ms; Q5_K 204 -> 154 us, 9.5 ->
// 7.8 ms; Q6_K 209 -> 192 us, 10.6 -> 9.6 ms; the 8B's 4096x12288 (the token row in L2):
// Q4_K the same (2.18 / 2.21 ms, at the read bound), Q5_K -10 %, Q6_K -10 % (kernels_bench
// BM_SmallBatch tok:1 cold:1, medians of 3 alternating rounds; session 13, 2-core
// Sapphire-Rapids-class KVM guest, another helper's benchmark on the second core).
struct alignas(64) Act1 {
  int32_t qs[32][16];   // [i]: lanes 0-7 bytes 8i..8i+3, lanes 8-15 bytes 8i+4..8i+7
  int32_t mins[2][16];  // Q4_K/Q5_K: [q]: lanes 0-7 sub-block sums 4q, 4q+1, lanes 8-15 4q+2, 4q+3
  int32_t offs[4][16];  // Q6_K: [q]: lanes 0-7 bsums 4q, 4q+1, lanes 8-15 bsums 4q+2, 4q+3
  float d;
};
// Blocks of one activation row the stack buffer takes (280 KiB, 28,672 columns); longer
// rows take the 256-bit kernel.
constexpr int64_t kAct1Blocks = 112;

void make_act1(const BlockQ8_K& a, Act1& o) {
  const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int i = 0; i < 32; ++i) {
    const __m512i v = _mm512_castsi128_si512(
        _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(a.qs + 8 * i))));
    _mm512_store_si512(o.qs[i], _mm512_permutexvar_epi32(idx, v));
  }
  int16_t bs[16], sub[8];
  __builtin_memcpy(bs, a.bsums, sizeof(bs));
  for (int j = 0; j < 8; ++j) sub[j] = static_cast<int16_t>(bs[2 * j] + bs[2 * j + 1]);
  for (int q = 0; q < 2; ++q) _mm512_store_si512(o.mins[q], pair32(sub + 4 * q, sub + 4 * q + 2));
  for (int q = 0; q < 4; ++q) _mm512_store_si512(o.offs[q], pair32(bs + 4 * q, bs + 4 * q + 2));
  o.d = a.d;
}

// V512 loading 64 contiguous bytes (pieces k, k+1 of one group) for vnni::QK / Q6K::values.
struct VPair : V512 {
  static vi load(const void* p0, const void*) { return _mm512_loadu_si512(p0); }
};
inline __m256i halves_sum(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}
// 8 uint8 scales at p in both lane halves, as int32.
inline __m512i scales_u8_dup(const uint8_t* p) {
  int64_t v;
  __builtin_memcpy(&v, p, 8);
  return _mm512_cvtepu8_epi32(_mm_set1_epi64x(v));
}
// Lines [part, part + 1) / parts of the block kOnePrefetchBytes ahead, spread over the
// block's work rather than in one burst. 4 KiB ahead measured 4-8 % faster than the 8 KiB
// of the 256-bit kernels on the lm_head (Q4_K, Q6_K 151936x1024, 1 token, 1 thread,
// cold, weights in huge pages) and the same on 3072x1024 (2, 3, 4, 8 and 16 KiB tried;
// none at all or prefetcht0 20-35 % slower); session 13, 2-core Sapphire-Rapids-class
// KVM guest.
constexpr size_t kOnePrefetchBytes = 4096;
template <int kLoc, class Block>
inline void prefetch_part(const Block* blk, int part, int parts) {
  constexpr int kLines = (sizeof(Block) + 63) / 64;
  const char* p = reinterpret_cast<const char*>(blk) + kOnePrefetchBytes;
  for (int l = kLines * part / parts; l < kLines * (part + 1) / parts; ++l)
    __builtin_prefetch(p + 64 * l, 0, kLoc);
}

// Q4_K / Q5_K, one token, one group (nb blocks) -> 8 outputs.
template <class G, bool kFive, int kLoc>
void qk_one(int64_t nb, const G* blk, const Act1* act, float* y) {
  using QKP = vnni::QK<VPair, G, kFive>;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const G& g = blk[b];
    const Act1& A = act[b];
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      prefetch_part<kLoc>(&g, c, 4);
      __m512i slo = _mm512_setzero_si512(), shi = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int kp = 0; kp < 4; ++kp) {
        __m512i lo, hi;
        if constexpr (kFive) {
          lo = QKP::values(g, g, 2 * c, 2 * kp);
          hi = QKP::values(g, g, 2 * c + 1, 2 * kp);
        } else {  // the high nibbles in place (16 x value), one shift below
          const __m512i v = _mm512_loadu_si512(g.qs[c][2 * kp]);
          lo = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
          hi = _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(0xF0)));
        }
        slo = _mm512_dpbusd_epi32(slo, lo, _mm512_load_si512(A.qs[8 * c + kp]));
        shi = _mm512_dpbusd_epi32(shi, hi, _mm512_load_si512(A.qs[8 * c + 4 + kp]));
      }
      if constexpr (!kFive) shi = _mm512_srai_epi32(shi, 4);  // exact: 16 x the sum
      isum = _mm512_add_epi32(
          isum, _mm512_add_epi32(_mm512_mullo_epi32(slo, scales_u8_dup(g.sc[2 * c])),
                                 _mm512_mullo_epi32(shi, scales_u8_dup(g.sc[2 * c + 1]))));
    }
    // Mins: pairs p = 2q (lanes 0-7) and 2q + 1 (lanes 8-15) against the sub-block sums.
    __m512i summ = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int q = 0; q < 2; ++q)
      summ = _mm512_dpwssd_epi32(summ, _mm512_cvtepu8_epi16(load256(g.mn[2 * q])),
                                 _mm512_load_si512(A.mins[q]));
    const __m256 xd = _mm256_set1_ps(A.d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(halves_sum(isum)),
                          _mm256_mul_ps(_mm256_cvtph_ps(load128(g.d)), xd), acc);
    acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(halves_sum(summ)),
                           _mm256_mul_ps(_mm256_cvtph_ps(load128(g.dmin)), xd), acc);
  }
  _mm256_storeu_ps(y, acc);
}

// Q6_K, one token, one group (nb blocks) -> 8 outputs.
template <int kLoc>
void q6k_one(int64_t nb, const BlockQ6_Kx8* blk, const Act1* act, float* y) {
  using vi = __m512i;
  using Q6P = vnni::Q6K<VPair>;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_Kx8& g = blk[b];
    const Act1& A = act[b];
    // The offset: -32 * scale pairs p = 2q (lanes 0-7), 2q + 1 (lanes 8-15) . bsums.
    vi isum = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const vi pm32 = Q6P::minus32(_mm512_cvtepi8_epi16(load256(g.sc[2 * q][0])));
      isum = _mm512_dpwssd_epi32(isum, pm32, _mm512_load_si512(A.offs[q]));
    }
    for (int h = 0; h < 2; ++h) {
      prefetch_part<kLoc>(&g, h, 2);
      vi pairs[4];
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st)
        pairs[st] = _mm512_cvtepi8_epi16(_mm256_broadcastsi128_si256(load128(g.sc[4 * h + st][0])));
#pragma GCC unroll 2
      for (int is = 0; is < 2; ++is) {
        vi s[4];
#pragma GCC unroll 4
        for (int st = 0; st < 4; ++st) s[st] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int k = 4 * is; k < 4 * is + 4; k += 2) {
#pragma GCC unroll 4
          for (int st = 0; st < 4; ++st)
            s[st] = _mm512_dpbusd_epi32(s[st], Q6P::values(g, g, h, st, k),
                                        _mm512_load_si512(A.qs[16 * h + 4 * st + k / 2]));
        }
#pragma GCC unroll 4
        for (int st = 0; st < 4; ++st) {
          const vi sc = is ? _mm512_srai_epi32(pairs[st], 16)
                           : _mm512_srai_epi32(_mm512_slli_epi32(pairs[st], 16), 16);
          isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(s[st], sc));
        }
      }
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(halves_sum(isum)),
                          _mm256_mul_ps(_mm256_cvtph_ps(load128(g.d)), _mm256_set1_ps(A.d)), acc);
  }
  _mm256_storeu_ps(y, acc);
}

// The one-token kernel of group type G on one group, prefetching into L2 (l2) or L1.
template <class G>
void one_group(int64_t nb, const G* blk, const Act1* act, float* y, bool l2) {
  if constexpr (std::is_same_v<G, BlockQ6_Kx8>) {
    l2 ? q6k_one<2>(nb, blk, act, y) : q6k_one<3>(nb, blk, act, y);
  } else {
    constexpr bool kFive = std::is_same_v<G, BlockQ5_Kx8>;
    l2 ? qk_one<G, kFive, 2>(nb, blk, act, y) : qk_one<G, kFive, 3>(nb, blk, act, y);
  }
}
// Runs the one-token kernel of group type G over ng groups after laying out the token
// (nt == 1). False (nothing done) when the row is longer than the stack buffer takes.
template <class G>
bool one_token(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, float* y) {
  const int64_t nb = n / kQK_K;
  if (nb > kAct1Blocks) return false;
  Act1 act[kAct1Blocks];
  const auto* x = static_cast<const BlockQ8_K*>(xv);
  for (int64_t b = 0; b < nb; ++b) make_act1(x[b], act[b]);
  const auto* w = static_cast<const uint8_t*>(wv);
  const bool l2 = rows8_prefetch_l2();
  for (int64_t g = 0; g < ng; ++g)
    one_group<G>(nb, reinterpret_cast<const G*>(w + g * gs), act, y + 8 * g, l2);
  return true;
}
template <template <class> class K>
bool one_token_k(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, float* y) {
  if constexpr (std::is_same_v<K<V256>, vnni::Q4K<V256>>)
    return one_token<BlockQ4_Kx8>(n, wv, gs, ng, xv, y);
  else if constexpr (std::is_same_v<K<V256>, vnni::Q5K<V256>>)
    return one_token<BlockQ5_Kx8>(n, wv, gs, ng, xv, y);
  else if constexpr (std::is_same_v<K<V256>, vnni::Q6K<V256>>)
    return one_token<BlockQ6_Kx8>(n, wv, gs, ng, xv, y);
  else
    return false;
}

// Q4_0 / Q8_0 against 2-8 tokens, the groups in pairs at 512 bits (vnni::Legacy<V512>'s
// sweep, what decode steps of a few sequences run on Intel cores with AMX), with fewer
// vector instructions per block: on this VM every 512-bit ALU instruction (vpdpbusd,
// vpaddd, vfmadd: 2 a cycle, ports 0 and 5) shares the same two ports, and these steps
// are compute-bound from about 4 tokens (the FFN's 3072x1024 Q4_0, weights in cache, one
// thread: 49-52 / 45-48 / 66-71 / 113-117 us of CPU time for 1 / 2 / 4 / 8 tokens with
// the sweep).
// Per token and block the sweep runs 1 vpdpwssd (the offset) + 8 vpdpbusd + 3 float
// steps, and per block 16 unpacking instructions (Q4_0); here each token's sum starts
// from its offset, -off * sum, computed once per call into `off` and broadcast from there
// (vpbroadcastd from memory: a load, no ALU port), and Q4_0's high nibbles take one
// GF2P8AFFINEQB (the bytes shifted right by 4; port 0) instead of a shift and a mask.
// Measured, the same case: 2 / 4 / 8 tokens 45-48 / 66-71 / 113-117 -> 37-39 / 55-64 /
// 100-104 us (Q8_0 8 tokens 138-142 -> 132-133; kernels_bench BM_SmallBatch cold:0, 2
// alternating rounds, session 16, Sapphire-Rapids-class KVM guest).
// The integer sums are the sweep's (exact: the same terms) and the float steps the same,
// in the same order: the same bits as vnni::Legacy for every token count (so the amx
// kernels, which fall back to these, still equal them byte for byte). GF2P8AFFINEQB
// (GFNI) is on every CPU with AMX; this kernel runs only there.
// Blocks of a row `off` takes (16,384 columns; 8 tokens: 16 KiB); longer rows take the
// sweep.
constexpr int64_t kMultiBlocks = 512;

// Q4_0's high nibbles: every byte shifted right by 4 (GF2P8AFFINEQB with the matrix whose
// output bit i is input bit i + 4, i < 4).
inline __m512i high_nibbles(__m512i v) {
  const __m512i m = _mm512_set1_epi64(0x1020408000000000LL);
  __m512i r;
  asm("vgf2p8affineqb $0, %2, %1, %0" : "=v"(r) : "v"(v), "v"(m));
  return r;
}

template <bool kEight, int T>
void legacy_pairs(int64_t nb, const uint8_t* w, size_t gs, int64_t n_pairs, const uint8_t* x,
                  size_t xs, const int32_t* off, float* y, int64_t ldy) {
  using L = vnni::Legacy<V512, kEight>;  // its values, dot products and float step
  using Group = typename L::Group;
  using vi = __m512i;
  for (int64_t pr = 0; pr < n_pairs; ++pr) {
    const auto* w0 = reinterpret_cast<const Group*>(w + 2 * pr * gs);
    const auto* w1 = reinterpret_cast<const Group*>(w + (2 * pr + 1) * gs);
    __m512 acc[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    auto blocks = [&](int64_t b0, int64_t b1, const char* pf0, const char* pf1)
        __attribute__((always_inline)) {
      for (int64_t b = b0; b < b1; ++b) {
        vnni::prefetch_block<V512, Group>(pf0 + b * sizeof(Group));
        vnni::prefetch_block<V512, Group>(pf1 + b * sizeof(Group));
        const Group& g0 = w0[b];
        const Group& g1 = w1[b];
        vi q[8];  // q[k]: weights 4k..4k+3 of each row, as unsigned bytes
        if constexpr (kEight) {
          L::quants(g0, g1, q);
        } else {  // vnni::Legacy's values, the high nibbles by GF2P8AFFINEQB
          const vi m4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) {
            const vi v = V512::load(g0.qs[k], g1.qs[k]);
            q[k] = _mm512_and_si512(v, m4);
            q[k + 4] = high_nibbles(v);
          }
        }
        const detail::ActQ8* a[T];
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const detail::ActQ8*>(x + t * xs) + b;
        const int32_t* ob = off + b * T;
        vi s[T];  // each token's sum starts from its offset term (vnni::Legacy's vpdpwssd)
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) s[t] = _mm512_set1_epi32(ob[t]);
        L::template dots<T>(q, a, s);
        L::template scale<T>(g0, g1, a, s, acc);
      }
    };
    // The prefetches of vnni::run at 512 bits (each stream kPairPrefetchBytes ahead, past
    // its group's end the same stream of the next pair).
    const vnni::PairPrefetch pp = vnni::pair_prefetch(nb, sizeof(Group));
    const char* p0 = reinterpret_cast<const char*>(w0);
    const char* p1 = reinterpret_cast<const char*>(w1);
    blocks(0, pp.bw, p0 + pp.first, p1 + pp.first);
    blocks(pp.bw, nb, p0 + pp.second, p1 + pp.second);
    float* yp = y + 16 * pr;
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(yp + t * ldy, acc[t]);
  }
}

// legacy_pairs for nt = T, T - 1, ..., 2 tokens (as vnni::run_tail picks its run).
template <bool kEight, int T>
void legacy_pairs_for(int nt, int64_t nb, const uint8_t* w, size_t gs, int64_t n_pairs,
                      const uint8_t* x, size_t xs, const int32_t* off, float* y, int64_t ldy) {
  if constexpr (T >= 2) {
    if (nt == T) return legacy_pairs<kEight, T>(nb, w, gs, n_pairs, x, xs, off, y, ldy);
    legacy_pairs_for<kEight, T - 1>(nt, nb, w, gs, n_pairs, x, xs, off, y, ldy);
  }
}

// legacy_pairs over the pairs of ng groups (2 <= nt <= 8 tokens, nb <= kMultiBlocks); an
// odd last group is left to the caller.
template <bool kEight>
void legacy_multi(int64_t n, const uint8_t* w, size_t gs, int64_t ng, const uint8_t* x, size_t xs,
                  int nt, float* y, int64_t ldy) {
  const int64_t nb = n / 32;
  // Each token's offset per block: what vnni::Legacy's vpdpwssd adds, the low int16 of
  // the activation sum times -off (Q4_0: -8, Q8_0: -128).
  alignas(64) int32_t off[kMultiBlocks * 8];
  const int32_t zp = kEight ? -128 : -8;
  for (int t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const detail::ActQ8*>(x + t * xs);
    for (int64_t b = 0; b < nb; ++b)
      off[b * nt + t] = zp * static_cast<int16_t>(static_cast<uint32_t>(a[b].sum) & 0xFFFFu);
  }
  legacy_pairs_for<kEight, 8>(nt, nb, w, gs, ng / 2, x, xs, off, y, ldy);
}

// Groups in pairs at 512 bits, an odd last one at 256 bits. Decode steps of up to
// kStreamTokens tokens (one sequence, or a few batched together) stream one group at a
// time at 256 bits, each weight block read once for all the tokens: with weights from
// DRAM the pairs' two streams, 1 group apart, made a 2-4 token step cost 1.5-2x the
// 1-token one (kernels_bench BM_SmallBatch, cold), where one stream costs 1.1-1.4x. From
// 5 tokens the pairs win: at 8 tokens, 2 threads, cold, Zen 5, the one-stream kernel took
// Q4_0 3072x1024 108-115 us against 66-74, the Q4_0 lm_head 4.6-5.1 ms against 2.8-3.1,
// Q4_K 3072x1024 111-128 us against 94-104 (session 8; a batch step of 8 sequences of the
// 0.6B Q4_0: 30.6-32.4 -> 23.8-24.3 ms). Same results either way.
//
// The one-stream decode prefetches 8 KiB ahead into L1 (prefetcht0) on Zen, where that
// was tuned, and into L2 (prefetcht1) on Intel cores with AMX (Sapphire Rapids and
// later): on a 2-core Sapphire-Rapids-class KVM guest (read probe 13-14 GB/s), 1 token,
// cold weights, prefetcht0 -> prefetcht1 took Q4_0 from 9.7-10.5 to 12.1-12.8 GB/s,
// Q4_K 8.3-8.7 -> 9.3-10.9, Q6_K 8.4-8.8 -> 10.2-11.1 (kernels_bench BM_SmallBatch
// tok:1 cold:1, 3072x1024 and the lm_head, 1 and 2 threads, session 12; 4 / 16 KiB
// ahead measured no better). QWEN3_ROWS8_PREFETCH=l1 or l2 overrides the choice (to
// measure it on another CPU). Same results either way.
//
// On Intel cores with AMX the pairs win from 2 tokens for the 4- and 5-bit types: at 2 /
// 4 tokens, 2 threads, cold, the one-stream kernel took Q4_0 3072x1024 78-83 / 98-102
// us against 70-79 / 76-86, the Q4_0 lm_head 3.7-4.1 / 4.4-4.9 ms against 3.3-3.7 /
// 3.7-3.8, Q4_K 98-99 / 113-114 us against 80-83 / 98-104, Q5_K 121-131 / 137-148
// against 113-124 / 128-144, with either prefetch; Q8_0 (twice the bytes) keeps one
// stream up to 4 tokens there (121 / 135 us against 128-133 / 143). A batch step of 4
// sequences of the 0.6B Q4_0 went 22.3-23.4 -> 20.5-21.2 ms (batch_step_bench, 160
// cached positions; session 13, 2-core Sapphire-Rapids-class KVM guest).
constexpr int kStreamTokens = 4;
template <template <class> class K>
int stream_tokens() {
  static const bool pairs_from_two =
      cpu_has(IsaLevel::Amx) && !std::is_same_v<K<V256>, vnni::Q8_0<V256>>;
  return pairs_from_two ? 1 : kStreamTokens;
}
struct V256L2 : V256 {
  static constexpr int kPrefetchLocality = 2;  // prefetcht1
};
template <template <class> class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  int64_t g = 0;
  // One token of the K-quants: the 512-bit one-stream kernels above (Q4_0 at 512 bits the
  // same way measured no faster: 110 -> 122 us on 3072x1024, 1 thread, cold).
  if (nt == 1 && one_token_k<K>(n, wv, gs, ng, xv, y)) return;
  if (nt <= stream_tokens<K>()) {
    if (rows8_prefetch_l2()) {
      for (; g < ng; ++g)
        vnni::sweep<K<V256L2>, V256L2>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
    } else {
      for (; g < ng; ++g)
        vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
    }
    return;
  }
  constexpr bool kLegacy =
      std::is_same_v<K<V256>, vnni::Q4_0<V256>> || std::is_same_v<K<V256>, vnni::Q8_0<V256>>;
  if constexpr (kLegacy) {
    static const bool gfni = cpu_has(IsaLevel::Amx);
    if (gfni && nt >= 2 && nt <= 8 && n / 32 <= kMultiBlocks && ng >= 2) {
      legacy_multi<std::is_same_v<K<V256>, vnni::Q8_0<V256>>>(n, w, gs, ng, x, xs, nt, y, ldy);
      g = ng / 2 * 2;
    }
  }
  for (; g + 2 <= ng; g += 2)
    vnni::sweep<K<V512>, V512>(n, w + g * gs, w + (g + 1) * gs, x, xs, nt, y + 8 * g, ldy);
  if (g < ng) vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
}

// Q6_K: 2-4 tokens two per vector (q6k_small_batch), else as the other types.
void q6k_groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
                float* y, int64_t ldy) {
  if (nt >= 2 && nt <= kPairTokens)
    return q6k_small_batch(n, static_cast<const uint8_t*>(wv), gs, ng,
                           static_cast<const uint8_t*>(xv), xs, nt, y, ldy);
  groups<vnni::Q6K>(n, wv, gs, ng, xv, xs, nt, y, ldy);
}

// This level's drivers, for vnni::rows8_kernel_of.
struct Drivers {
  template <template <class> class K>
  static constexpr detail::Rows8Fn groups = avx512::groups<K>;
  static constexpr detail::Rows8Fn q6k = q6k_groups;
};

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  return vnni::rows8_kernel_of<Drivers>(t);
}

}  // namespace qwen3::avx512
