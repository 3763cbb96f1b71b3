// AVX-512 (F/BW/VL/DQ + VNNI) kernels for the rows8 layout: two groups of 8 rows per
// 512-bit vector, up to 8 activation rows per sweep (32 zmm registers hold 8 float
// accumulators, 8 int32 sums and the unpacked weights). An odd last group runs the same
// kernels at 256 bits (EVEX vpdpbusd), with identical per-row arithmetic.
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
