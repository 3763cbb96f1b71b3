// AVX2 kernels for the rows8 layout (rows8.h): one group of 8 weight rows against up to
// 4 activation rows at a time. Each unpacked weight vector serves all tokens of the
// sweep; each 32-bit lane accumulates one row, so outputs are stored without reduction.
// Decode (1 token) streams the group once; prompts reuse every unpacked vector 4 times.
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/kernels_avx2.h"
#include "kernels/rows8.h"
#include "kernels/simd_avx2.h"
#include "kernels/type_table.h"

namespace qwen3::avx2 {
namespace {

using detail::ActQ8;

inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Decode streams each group once from memory; the hardware prefetcher alone leaves
// single-thread reads at ~60% of the bandwidth, software prefetch a few KiB ahead ~95%.
// 8 KiB ahead, as the VNNI kernels (rows8_vnni.h): measured at the avx2 level on a Zen 5
// (QWEN3_ISA=avx2, kernels_bench BM_SmallBatch tok:1 thr:1, cold weights, CPU time, 3
// alternating rounds under load 7-9), 2 -> 8 KiB took the lm_head 151936x1024 from a
// median 4.68 to 4.15 ms (Q4_0) and 5.89 to 5.44 ms (Q6_K), the 3072x1024 matrices ~5 %.
// Not measured on a Zen 3 (AVX2 only), where this level is the one that runs.
constexpr size_t kPrefetchBytes = 8192;
template <class Block>
inline void prefetch_ahead(const Block* blk) {
  const char* p = reinterpret_cast<const char*>(blk) + kPrefetchBytes;
  for (size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

inline __m256 load_f16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Each kernel K names its packed group block (Group), its activation block (Act) and the
// weights per block (kBlock), and adds one block column of its group, for T activation
// rows, to the per-row accumulators: K::block<T>(group block, activation blocks, acc).
// run() holds the loop they share: accumulators, activation pointers, prefetch, store.
#define QWEN3_INLINE inline __attribute__((always_inline))

template <class K, int T>
void run(int64_t nb, const void* wv, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  using Act = typename K::Act;
  const auto* w = static_cast<const typename K::Group*>(wv);
  __m256 acc[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    prefetch_ahead(w + b);
    const Act* a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const Act*>(x + t * xs) + b;
    K::template block<T>(w[b], a, acc);
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

// Q4_0: unsigned nibbles in maddubs, the offset 8 removed via the activation block sum.
// 8 maddubs of <= 15*128*2 each stay within int16.
struct Q4_0x8 {
  using Group = BlockQ4_0x8;
  using Act = ActQ8;
  static constexpr int kBlock = 32;
  template <int T>
  static QWEN3_INLINE void block(const Group& g, const Act* const (&a)[T], __m256 (&acc)[T]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256i s[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.qs[k]));
      const __m256i lo = _mm256_and_si256(v, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        s[t] = _mm256_add_epi16(s[t], _mm256_maddubs_epi16(lo, bcast4(a[t]->qs + 4 * k)));
        s[t] = _mm256_add_epi16(s[t], _mm256_maddubs_epi16(hi, bcast4(a[t]->qs + 16 + 4 * k)));
      }
    }
    const __m256 dw = load_f16x8(g.d);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m256i p = _mm256_madd_epi16(s[t], ones);
      p = _mm256_sub_epi32(p, _mm256_set1_epi32(8 * a[t]->sum));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, _mm256_set1_ps(a[t]->d)),
                               acc[t]);
    }
  }
};

// Q8_0: signed weights, llama.cpp's sign trick (|w| times x with w's sign); pair sums of
// 127*127*2 leave no int16 headroom, so every step widens to int32.
struct Q8_0x8 {
  using Group = BlockQ8_0x8;
  using Act = ActQ8;
  static constexpr int kBlock = 32;
  template <int T>
  static QWEN3_INLINE void block(const Group& g, const Act* const (&a)[T], __m256 (&acc)[T]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.qs[k]));
      const __m256i vabs = _mm256_sign_epi8(v, v);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m256i xv = _mm256_sign_epi8(bcast4(a[t]->qs + 4 * k), v);
        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(vabs, xv), ones));
      }
    }
    const __m256 dw = load_f16x8(g.d);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dw, _mm256_set1_ps(a[t]->d)),
                               acc[t]);
  }
};

// Q4_K / Q5_K against Q8_K: per 32-weight sub-block an int16 sum per lane pair, scaled by
// the sub-block scale in madd; the mins term comes from the activation block sums.
// Q5_K ORs in the fifth bit; its values reach 31, so int16 sums widen every 4 maddubs.
template <class G, bool kFive>
struct QK_x8 {
  using Group = G;
  using Act = BlockQ8_K;
  static constexpr int kBlock = 256;
  static constexpr int kSteps = kFive ? 4 : 8;  // maddubs per int16 sum: <= 32767
  template <int T>
  static QWEN3_INLINE void block(const Group& g, const Act* const (&a)[T], __m256 (&acc)[T]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m10 = _mm256_set1_epi8(0x10);
    __m256i isum[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      // Scales of sub-blocks 2c and 2c+1 as int16 pairs (s_r, s_r) per lane.
      const __m128i s8lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g.sc[2 * c]));
      const __m128i s8hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g.sc[2 * c + 1]));
      const __m256i sclo = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s8lo, s8lo));
      const __m256i schi = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s8hi, s8hi));
      const __m128i hshift = _mm_cvtsi32_si128(2 * c);  // Q5_K: bits 2c, 2c+1 of qh
      for (int k0 = 0; k0 < 8; k0 += kSteps) {
        __m256i slo[T], shi[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) slo[t] = shi[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int k = k0; k < k0 + kSteps; ++k) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.qs[c][k]));
          __m256i lo = _mm256_and_si256(v, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
          if constexpr (kFive) {
            const __m256i hb = _mm256_srl_epi16(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.qh[k])), hshift);
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), m10));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), m10));
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            slo[t] = _mm256_add_epi16(slo[t],
                                      _mm256_maddubs_epi16(lo, bcast4(a[t]->qs + 64 * c + 4 * k)));
            shi[t] = _mm256_add_epi16(
                shi[t], _mm256_maddubs_epi16(hi, bcast4(a[t]->qs + 64 * c + 32 + 4 * k)));
          }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t)
          isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(slo[t], sclo),
                                                               _mm256_madd_epi16(shi[t], schi)));
      }
    }
    const __m256 d = load_f16x8(g.d), dmin = load_f16x8(g.dmin);
    __m256i mn[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p)
      mn[p] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.mn[p])));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m256i summ = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        // Activation sums of sub-blocks 2p, 2p+1 (<= 32*128 each) as one int16 pair.
        const int16_t* bs = a[t]->bsums + 4 * p;
        const uint32_t lo = static_cast<uint16_t>(bs[0] + bs[1]);
        const uint32_t hi = static_cast<uint16_t>(bs[2] + bs[3]);
        summ = _mm256_add_epi32(
            summ, _mm256_madd_epi16(mn[p], _mm256_set1_epi32(static_cast<int>(lo | (hi << 16)))));
      }
      const __m256 xd = _mm256_set1_ps(a[t]->d);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, xd), acc[t]);
      acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_mul_ps(dmin, xd), acc[t]);
    }
  }
};

// Q6_K against Q8_K: 6-bit values 0..63 rebuilt from ql/qh, the offset 32 removed via the
// activation sums of each 16-weight sub-block (Q8_K's bsums match them exactly). Two
// maddubs of <= 63*128*2 fit int16; madd with the sub-block scale widens to int32.
struct Q6_Kx8 {
  using Group = BlockQ6_Kx8;
  using Act = BlockQ8_K;
  static constexpr int kBlock = 256;
  // Lanes (s, s) per row from the [row][2] int8 pairs: lo = sub-block 2p, hi = 2p+1.
  static inline __m256i dup_lo(__m256i pairs) {
    return _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(pairs, 0xA0), 0xA0);
  }
  static inline __m256i dup_hi(__m256i pairs) {
    return _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(pairs, 0xF5), 0xF5);
  }
  template <int T>
  static QWEN3_INLINE void block(const Group& g, const Act* const (&a)[T], __m256 (&acc)[T]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256i isum[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
      // The offset: 32 * sum over sub-blocks of scale * activation sum.
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) {
      const __m256i pairs =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.sc[p])));
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        int32_t bs;
        std::memcpy(&bs, a[t]->bsums + 2 * p, 4);
        isum[t] = _mm256_sub_epi32(
            isum[t], _mm256_slli_epi32(_mm256_madd_epi16(pairs, _mm256_set1_epi32(bs)), 5));
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int is = 0; is < 2; ++is) {  // sub-block within each 32-weight stream
        __m256i sc[4];
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {  // streams: weights 32s.. of this half, pair 4h+s
          const __m256i pairs = _mm256_cvtepi8_epi16(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(g.sc[4 * h + s])));
          sc[s] = is == 0 ? dup_lo(pairs) : dup_hi(pairs);
        }
#pragma GCC unroll 2
        for (int kp = 0; kp < 2; ++kp) {
          __m256i q[2][4];
#pragma GCC unroll 2
          for (int i = 0; i < 2; ++i) {
            const int k = 4 * is + 2 * kp + i;
            const __m256i la = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.ql[h][k]));
            const __m256i lb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.ql[h][k + 8]));
            const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.qh[h][k]));
            q[i][0] = _mm256_or_si256(_mm256_and_si256(la, m4),
                                      _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
            q[i][1] = _mm256_or_si256(_mm256_and_si256(lb, m4),
                                      _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
            q[i][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4),
                                      _mm256_and_si256(hb, m30));
            q[i][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4),
                                      _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
          }
          const int k0 = 4 * is + 2 * kp;
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const int8_t* xq = a[t]->qs + 128 * h + 4 * k0;
#pragma GCC unroll 4
            for (int s = 0; s < 4; ++s) {
              const __m256i m =
                  _mm256_add_epi16(_mm256_maddubs_epi16(q[0][s], bcast4(xq + 32 * s)),
                                   _mm256_maddubs_epi16(q[1][s], bcast4(xq + 32 * s + 4)));
              isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(m, sc[s]));
            }
          }
        }
      }
    }
    const __m256 d = load_f16x8(g.d);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]),
                               _mm256_mul_ps(d, _mm256_set1_ps(a[t]->d)), acc[t]);
  }
};

template <class K>
void sweep(int64_t n, const void* group, const void* xv, size_t xs, int nt, float* y, int64_t ldy) {
  const int64_t nb = n / K::kBlock;
  const auto* x = static_cast<const uint8_t*>(xv);
  int t = 0;
  for (; t + 4 <= nt; t += 4) run<K, 4>(nb, group, x + t * xs, xs, y + t * ldy, ldy);
  switch (nt - t) {
    case 3:
      run<K, 3>(nb, group, x + t * xs, xs, y + t * ldy, ldy);
      break;
    case 2:
      run<K, 2>(nb, group, x + t * xs, xs, y + t * ldy, ldy);
      break;
    case 1:
      run<K, 1>(nb, group, x + t * xs, xs, y + t * ldy, ldy);
      break;
    default:
      break;
  }
}

// Scratch for packing plain rows on the fly. Not a std::vector: its member functions,
// compiled here with AVX2 flags, could become the copy every caller of
// std::vector<uint8_t> links to, and fault on a CPU without AVX2.
struct Scratch {
  uint8_t* p = nullptr;
  size_t n = 0;
  ~Scratch() { std::free(p); }
  uint8_t* get(size_t size) {
    if (n < size) {
      std::free(p);
      p = static_cast<uint8_t*>(std::malloc(size));
      n = p != nullptr ? size : 0;
      if (p == nullptr) throw std::bad_alloc();
    }
    return p;
  }
};

template <class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* x, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  for (int64_t g = 0; g < ng; ++g) sweep<K>(n, w + g * gs, x, xs, nt, y + 8 * g, ldy);
}

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  static constexpr detail::TypedFn<detail::Rows8Fn> kKernels[] = {
      {GgmlType::Q4_0, groups<Q4_0x8>},
      {GgmlType::Q8_0, groups<Q8_0x8>},
      {GgmlType::Q4_K, groups<QK_x8<BlockQ4_Kx8, false>>},
      {GgmlType::Q5_K, groups<QK_x8<BlockQ5_Kx8, true>>},
      {GgmlType::Q6_K, groups<Q6_Kx8>},
  };
  return detail::find_fn(kKernels, t);
}

void rows8_from_plain(GgmlType type, int64_t n, const void* w, size_t ws, const void* x, size_t xs,
                      int nt, float* y, int64_t ldy) {
  thread_local Scratch buf;
  const size_t gs = rows8_group_size(type, n);
  uint8_t* group = buf.get(gs);
  pack_rows8(type, w, ws, n, group);
  rows8_kernel(type)(n, group, gs, 1, x, xs, nt, y, ldy);
}

}  // namespace qwen3::avx2

#undef QWEN3_INLINE
