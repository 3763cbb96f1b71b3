// AMX-INT8 kernels for the rows8 layout (rows8.h), used for the prompt chunks of the amx
// level: 16 tokens x 16 weight rows (two rows8 groups side by side) per tile product.
//
// The rows8 layout is already the B-tile layout: B row k = 4 consecutive weights 4k..4k+3
// of each of the 16 rows, i.e. the 512-bit vector V512::load(g0.qs[k], g1.qs[k]). A chunk
// of blocks of a group pair is unpacked once into tiles on the stack (signed bytes:
// Q4_0 nibbles - 8, Q8_0 as is, Q4_K/Q5_K values 0..31, Q6_K values - 32) and reused by
// every 16-token tile of the call. The activations (ActQ8 / Q8_K rows, xs bytes apart)
// are read in tile order (kernels_amx.h): per 16-token tile, the A tile of each
// 32-weight slice of the row (16 rows of 32 bytes; Q6_K loads the halves of each row with
// stride 32), then the 16 tokens' float scales of each block side by side, so the A tiles
// and the epilogue's scale loads read a few contiguous lines instead of 16 rows strided
// through L2 (session 12: kernels_bench BM_Rows8Isa 3072x1024, 128 tokens Q4_0 1.70-1.77
// -> 1.48-1.62 ms). matmul_multi packs each activation format once per call (its pack
// items), shared by all work items and threads; a direct call of the rows8 kernel packs
// the whole call into its thread's buffer. (Until session 15 every work item packed the
// whole input again for its few groups: ~13 % of a 1024x3072 x 128-token matmul on one
// thread, more for the small items of a 2-thread model pass.) While a group pair's
// products run, the next pair's blocks of the chunk are prefetched, a share before each
// token tile's run (the unpack waited for them in the model's passes).
//
// Per 32-weight block (Q4_0, Q8_0, K-quant sub-blocks of 32) or 16-weight sub-block (Q6_K)
// one `tdpbssd` gives the exact int32 dot products of 16 tokens x 16 rows. The products
// run in quads (four C tiles): quad q + 1 is issued right after quad q's sums are stored,
// then the float epilogue of quad q runs at 512 bits with the avx512 kernels' steps in
// their order (rows8_vnni.h). The order was meant to let the tile unit work during the
// epilogue; a microbenchmark on the Sapphire-Rapids-class VM showed no overlap in any
// order (per 16x16x32 product: tile loads + product + store ~9-10 ns, the epilogue alone
// 10-13 ns, both 18.6-20 ns), so the epilogue's 48 vector uops per product bound it:

//   Q4_0/Q8_0: acc = fmadd(cvt(isum), dw * da, acc) per block;
//   Q4_K/Q5_K: isum = sum_j sc_j * s_j, summ = sum_j min_j * bsums_j (integers), then
//              acc = fmadd(cvt(isum), d * da, acc), acc = fnmadd(cvt(summ), dmin * da, acc);
//   Q6_K:      isum = sum_s sc_s * s_s (the -32 offset inside s: the same integer), then
//              acc = fmadd(cvt(isum), d * da, acc).
// The integer sums are exact in both, so every output equals the avx512 kernel's bit for
// bit and a token's result does not depend on how many tokens share the call. Calls of
// fewer than K::kMinTokens tokens (16; Q8_0 32) and an odd last group run the avx512
// kernel. The tokens beyond the last multiple of 16 run the avx512 kernel pair by pair,
// right after the pair's tiles, while its weights are in L1/L2; until session 16 they ran
// after all pairs (the few-token path), which read the weights from memory a second time:
// batch_step_bench ... 1 160 64 16 mixed q8_0 (1 thread, CPU time, 0.6B Q4_0, three
// alternating rounds under load 2-4): a 143-token chunk cost 71-105 ms more than a
// 128-token one before, 26-48 after; 131 tokens +11-27 before, +3-13 after.
//
// Session 15 (amxpp, this VM, /tmp microbenchmark of the run loop's instruction mix,
// ns per 16x16x32 product): epilogue alone 7.7-9, tile loads + products + stores alone
// 8.7-9.8, both 17.1-18.6; tile loads + products without stores 4.5; any one tile
// instruction kind next to the epilogue adds its full cost (products only 13.9, stores
// only 13.9, loads only 12.9). The tile unit and the vector epilogue do not overlap here;
// a magic-number int->float conversion (off port 0) was slower (19-20). Tried and dropped
// (kernels_bench, 1 thread): chunks of 8 or 16 Q4_0 blocks (A tiles in L1, but the float
// sums go through y between chunks: +15-20 % at 8), software prefetch of the A tiles two
// quads ahead (+1-4 %), spreading the weight prefetch over the quads of a run (no gain).
//
// Tile configuration: loaded per call (ldtilecfg) and released at its end, so no thread
// keeps the 8 KiB tile state live between matmuls.
// Built with the AVX-512 and AMX flags (CMakeLists.txt); called only through the amx
// table. Same rule as rows8_vnni.h: no std:: templates, no inline functions of other
// headers outside anonymous namespaces.
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

constexpr int kTok = kPackTokens;  // tokens per A tile (its rows), per packed tile
// Packed activations (kernels_amx.h): per 16-token tile, the A tile of each
// 32-weight slice of the row (16 rows of kSliceRow bytes), then 16 float scales per
// activation block. Every A tile is loaded with row stride kSliceRow (Q6_K's 16-weight
// sub-blocks are the halves of a slice's rows).
constexpr int kSliceRow = 32;
constexpr size_t kSliceBytes = kTok * kSliceRow;

// Tile registers (amx_tiles.h): four C tiles, so four products are in flight before the
// first store waits for its result.
constexpr TileConfig kConfig32 = tile_config(32, kTok), kConfig16 = tile_config(16, kTok);
void configure(int kbytes) {
  _tile_loadconfig(kbytes == 16 ? &kConfig16 : &kConfig32);
}

// The products of a run, four at a time (a quad: C0..C3): quad q + 1 is issued to the
// tile unit right after quad q's sums are stored, so it runs while the vector units do
// quad q's float epilogue (K::quad), and no store waits for a product just issued.
QWEN3_INLINE void issue(const uint8_t* const* xa, const int8_t* const* b, int p, int n, size_t xs) {
  QWEN3_PRODUCT(QWEN3_C0, QWEN3_A0, QWEN3_B0, xa[p], b[p], xs);
  if (n > 1) QWEN3_PRODUCT(QWEN3_C1, QWEN3_A1, QWEN3_B1, xa[p + 1], b[p + 1], xs);
  if (n > 2) QWEN3_PRODUCT(QWEN3_C2, QWEN3_A0, QWEN3_B0, xa[p + 2], b[p + 2], xs);
  if (n > 3) QWEN3_PRODUCT(QWEN3_C3, QWEN3_A1, QWEN3_B1, xa[p + 3], b[p + 3], xs);
}
QWEN3_INLINE void store(int32_t (*c)[16][16], int n) {
  _tile_stored(QWEN3_C0, c[0], 64);
  if (n > 1) _tile_stored(QWEN3_C1, c[1], 64);
  if (n > 2) _tile_stored(QWEN3_C2, c[2], 64);
  if (n > 3) _tile_stored(QWEN3_C3, c[3], 64);
}

// 16 tokens (x: token 0's row) against nbk unpacked blocks of K from block b0 on: the
// np = nbk * K::kProducts products in quads, K::quad(q, sums of quad q, ...) after each;
// the float sums start at 0 (first) or continue those in y.
template <class K>
void run(const typename K::Unpacked* u, int nbk, int64_t b0, const uint8_t* x, size_t xs,
         const uint8_t* a, const float* da, float* y, int64_t ldy, bool first) {
  constexpr int kMax = K::kChunk * K::kProducts;
  const uint8_t* xa[kMax];
  const int8_t* b[kMax];
  const int np = nbk * K::kProducts;
  for (int i = 0; i < np; ++i) {
    xa[i] = a + (i / K::kProducts) * (K::kSlices * kSliceBytes) + K::a_offset(i % K::kProducts);
    b[i] = u[i / K::kProducts].b[i % K::kProducts][0];
  }
  __m512 acc[kTok];
#pragma GCC unroll 16
  for (int t = 0; t < kTok; ++t)
    acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(y + t * ldy);
  alignas(64) int32_t c[4][16][16];
  alignas(64) int32_t part[kTok][16];  // integer sums carried between the quads of a block
  const int full = np / 4 * 4;
  if (full > 0) issue(xa, b, 0, 4, kSliceRow);
  for (int p = 0; p < full; p += 4) {
    store(c, 4);
    if (p + 4 < full) issue(xa, b, p + 4, 4, kSliceRow);
    K::quad(p, 4, c, u, b0, x, xs, da, part, acc);
  }
  if (full < np) {  // a last quad of 1..3 products
    issue(xa, b, full, np - full, kSliceRow);
    store(c, np - full);
    K::quad(full, np - full, c, u, b0, x, xs, da, part, acc);
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTok; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// Q4_0 / Q8_0 against ActQ8 (40-byte blocks: d, sum, qs[32]): one product per block.
template <bool kEight>
struct Legacy {
  using Group = typename vnni::Legacy<V512, kEight>::Group;
  static constexpr GgmlType kType = kEight ? GgmlType::Q8_0 : GgmlType::Q4_0;
  static constexpr int kBlock = 32, kKBytes = 32, kChunk = 32, kProducts = 1, kSlices = 1;
  static constexpr detail::ActFormat kFormat = detail::ActFormat::Q8;
  static constexpr size_t kActBlock = sizeof(ActQ8);
  static constexpr size_t a_offset(int) { return 0; }  // product j's A tile in the block
  // Fewer tokens run the avx512 kernel: kernels_bench BM_Rows8Isa 3072x1024, one thread,
  // amx / avx512: Q4_0 16 tokens 253 / 255 us, 32 tokens 466 / 532; Q8_0 16 tokens
  // 374 / 285, 32 tokens 580 / 568, 128 tokens 1.8 / 2.1 ms.
  static constexpr int kMinTokens = kEight ? 32 : 16;
  struct alignas(64) Unpacked {
    int8_t b[1][8][64];  // B tile: b[0][k][4r + e] = weight 4k+e of row r (signed)
    float dw[16];        // row scales
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_legacy<kEight>(g0, g1, u.b[0]);
    _mm512_store_ps(u.dw, V512::f16(g0.d, g1.d));
  }
  // Blocks p..p+n-1: acc[t] += isum[t] * (dw * da[t]) each.
  static QWEN3_INLINE void quad(int p, int n, const int32_t (*c)[16][16], const Unpacked* u,
                                int64_t, const uint8_t*, size_t, const float* da, int32_t (*)[16],
                                __m512 (&acc)[kTok]) {
    for (int k = 0; k < n; ++k) {
      const __m512 w = _mm512_load_ps(u[p + k].dw);
      const float* d = da + (p + k) * kTok;
#pragma GCC unroll 16
      for (int t = 0; t < kTok; ++t)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[k][t])),
                                 _mm512_mul_ps(w, _mm512_set1_ps(d[t])), acc[t]);
    }
  }
};

// Q4_K / Q5_K against Q8_K (d, qs[256], bsums[16]): a product per 32-weight sub-block j,
// two quads per super-block.
template <class G, bool kFive>
struct QK {
  using Base = vnni::QK<V512, G, kFive>;
  using Group = G;
  static constexpr GgmlType kType = kFive ? GgmlType::Q5_K : GgmlType::Q4_K;
  static constexpr int kBlock = 256, kKBytes = 32, kChunk = 2, kProducts = 8, kSlices = 8;
  static constexpr detail::ActFormat kFormat = detail::ActFormat::Q8K;
  static constexpr size_t kActBlock = sizeof(BlockQ8_K);
  static constexpr size_t a_offset(int j) { return j * kSliceBytes; }
  static constexpr int kMinTokens = 16;  // 16 tokens: Q4_K 272 / 333 us (as above)
  struct alignas(64) Unpacked {
    int8_t b[8][8][64];  // [sub-block j] B tile of its values (0..31)
    __m512i sc[8];       // sub-block scales, int32 lanes
    __m512i mn[8];       // sub-block mins, twice per lane (int16)
    __m512 d, dmin;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_qk<Base>(g0, g1, u.b, u.sc, u.mn, u.d, u.dmin);
  }
  // Sub-blocks 0-3 of a super-block: part = sum sc_j * s_j; 4-7: the rest of isum, the
  // mins, then the float steps of the avx512 kernel.
  static QWEN3_INLINE void quad(int p, int, const int32_t (*c)[16][16], const Unpacked* u,
                                int64_t b0, const uint8_t* x, size_t xs, const float* da,
                                int32_t (*part)[16], __m512 (&acc)[kTok]) {
    const int i = p / 8;
    const Unpacked& U = u[i];
    if (p % 8 == 0) {
#pragma GCC unroll 2
      for (int t = 0; t < kTok; ++t) {
        __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j)
          s = _mm512_add_epi32(s, _mm512_mullo_epi32(_mm512_load_si512(c[j][t]), U.sc[j]));
        _mm512_store_si512(part[t], s);
      }
      return;
    }
    const uint8_t* xa = x + (b0 + i) * kActBlock;
#pragma GCC unroll 2
    for (int t = 0; t < kTok; ++t) {
      const uint8_t* at = xa + t * xs;
      __m512i isum = _mm512_load_si512(part[t]), summ = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j)
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[j][t]), U.sc[4 + j]));
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j)
        summ = _mm512_dpwssd_epi32(summ, U.mn[j], bcast32(at + offsetof(BlockQ8_K, bsums) + 4 * j));
      const __m512 xd = _mm512_set1_ps(da[i * kTok + t]);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(U.d, xd), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(U.dmin, xd), acc[t]);
    }
  }
};

// Q6_K against Q8_K: a product of depth 16 per 16-weight sub-block s (values - 32 signed,
// so the offset term is inside the product), four quads per super-block.
struct Q6K {
  using Base = vnni::Q6K<V512>;
  using Group = BlockQ6_Kx8;
  static constexpr GgmlType kType = GgmlType::Q6_K;
  static constexpr int kBlock = 256, kKBytes = 16, kChunk = 2, kProducts = 16, kSlices = 8;
  static constexpr detail::ActFormat kFormat = detail::ActFormat::Q8K;
  // Sub-block s: the first or second half of the rows of slice s / 2.
  static constexpr size_t a_offset(int s) { return (s / 2) * kSliceBytes + (s % 2) * 16; }
  static constexpr int kMinTokens = 16;  // 16 tokens: 363 / 413 us (as above)
  struct alignas(64) Unpacked {
    int8_t b[16][4][64];  // [sub-block s] B tile of its values - 32
    __m512i sc[16];       // sub-block scales, int32 lanes
    __m512 d;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    unpack_q6k<Base>(g0, g1, u.b, u.sc, u.d);
  }
  // Sub-blocks 4r..4r+3 of a super-block added to part; after the last quad the float
  // step of the avx512 kernel.
  static QWEN3_INLINE void quad(int p, int, const int32_t (*c)[16][16], const Unpacked* u, int64_t,
                                const uint8_t*, size_t, const float* da, int32_t (*part)[16],
                                __m512 (&acc)[kTok]) {
    const int i = p / 16, r = (p % 16) / 4;
    const Unpacked& U = u[i];
#pragma GCC unroll 2
    for (int t = 0; t < kTok; ++t) {
      __m512i isum = r == 0 ? _mm512_setzero_si512() : _mm512_load_si512(part[t]);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j)
        isum =
            _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[j][t]), U.sc[4 * r + j]));
      if (r < 3) {
        _mm512_store_si512(part[t], isum);
        continue;
      }
      const __m512 xd = _mm512_set1_ps(da[i * kTok + t]);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(U.d, xd), acc[t]);
    }
  }
};

// Activation blocks of a format: weights per block, bytes per block, offset of qs.
constexpr int act_weights(detail::ActFormat f) {
  return f == detail::ActFormat::Q8 ? 32 : kQK_K;
}
size_t tile_bytes(detail::ActFormat f, int64_t n) {
  return static_cast<size_t>(n / 32) * kSliceBytes +
         static_cast<size_t>(n / act_weights(f)) * kTok * sizeof(float);
}

// One packed tile: slice by slice, each token's 32 bytes; then the scales (the float d
// that starts ActQ8 and Q8_K) block by block, 16 tokens side by side.
template <size_t kActBytes, size_t kQs, int kWeights>
void pack_tile(int64_t n, const uint8_t* x, size_t xs, uint8_t* dst) {
  const int64_t nb = n / kWeights;
  constexpr int kPer = kWeights / 32;  // slices per block
  for (int64_t i = 0; i < nb; ++i)
    for (int j = 0; j < kPer; ++j) {
      uint8_t* d = dst + (i * kPer + j) * kSliceBytes;
      const uint8_t* s = x + i * kActBytes + kQs + 32 * j;
#pragma GCC unroll 16
      for (int r = 0; r < kTok; ++r)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + r * kSliceRow),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + r * xs)));
    }
  float* sc = reinterpret_cast<float*>(dst + (n / 32) * kSliceBytes);
  for (int64_t i = 0; i < nb; ++i)
    for (int r = 0; r < kTok; ++r) sc[i * kTok + r] = ld_f32(x + r * xs + i * kActBytes);
}

template <class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy);

// ng groups x nt tokens (nt >= K::kMinTokens) with the activations packed: group pairs x
// whole 16-token tiles on AMX, chunk by chunk of K::kChunk blocks (unpacked once per chunk,
// the float sums carried in y between chunks); the rest on the avx512 kernel.
template <class K>
void body(int64_t n, const uint8_t* w, size_t gs, int64_t ng, const uint8_t* x, size_t xs, int nt,
          const uint8_t* a, float* y, int64_t ldy) {
  const detail::Rows8Fn fallback = avx512::rows8_kernel(K::kType);
  const int nt16 = nt / kTok * kTok;
  const int64_t ng2 = ng / 2 * 2;
  if (ng2 > 0) {
    configure(K::kKBytes);
    const int64_t nb = n / K::kBlock;
    const size_t tb = tile_bytes(K::kFormat, n);
    const size_t scales = static_cast<size_t>(n / 32) * kSliceBytes;
    typename K::Unpacked u[K::kChunk];
    for (int64_t b0 = 0; b0 < nb; b0 += K::kChunk) {
      const int nbk = static_cast<int>(nb - b0 < K::kChunk ? nb - b0 : K::kChunk);
      for (int64_t g = 0; g < ng2; g += 2) {
        const auto* w0 = reinterpret_cast<const typename K::Group*>(w + g * gs);
        const auto* w1 = reinterpret_cast<const typename K::Group*>(w + (g + 1) * gs);
        for (int i = 0; i < nbk; ++i) K::unpack(w0[b0 + i], w1[b0 + i], u[i]);
        // The next pair's blocks of this chunk are fetched while this pair's products
        // run, a share before each token tile (the unpack waited for them otherwise).
        const uint8_t* next = w + (g + 2) * gs + b0 * sizeof(typename K::Group);
        const int64_t lines = g + 2 < ng2 ? (nbk * sizeof(typename K::Group) + 63) / 64 : 0;
        for (int t = 0; t < nt16; t += kTok) {
          for (int64_t l = lines * t / nt16; l < lines * (t + kTok) / nt16; ++l) {
            _mm_prefetch(reinterpret_cast<const char*>(next + 64 * l), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(next + gs + 64 * l), _MM_HINT_T0);
          }
          const uint8_t* at = a + (t / kTok) * tb;
          run<K>(u, nbk, b0, x + t * xs, xs, at + b0 * K::kSlices * kSliceBytes,
                 reinterpret_cast<const float*>(at + scales) + b0 * kTok, y + t * ldy + 8 * g, ldy,
                 b0 == 0);
        }
        // The last nt % 16 tokens of this pair on the avx512 kernel, after the pair's last
        // chunk, while its weights are still in L1/L2 (not in a second pass over the
        // weights after all pairs: that read them from memory again).
        if (nt16 < nt && b0 + nbk == nb)
          fallback(n, w + g * gs, gs, 2, x + nt16 * xs, xs, nt - nt16, y + nt16 * ldy + 8 * g, ldy);
      }
    }
    _tile_release();
  }
  if (ng2 < ng) fallback(n, w + ng2 * gs, gs, ng - ng2, x, xs, nt, y + 8 * ng2, ldy);
}

void pack(detail::ActFormat f, int64_t n, const uint8_t* x, size_t xs, int tile, uint8_t* dst) {
  x += static_cast<size_t>(tile) * kTok * xs;
  dst += static_cast<size_t>(tile) * tile_bytes(f, n);
  if (f == detail::ActFormat::Q8)
    pack_tile<sizeof(ActQ8), offsetof(ActQ8, qs), 32>(n, x, xs, dst);
  else
    pack_tile<sizeof(BlockQ8_K), offsetof(BlockQ8_K, qs), kQK_K>(n, x, xs, dst);
}

// The rows8 kernel (Rows8Fn): packs the activations into this thread's buffer first.
template <class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  const detail::Rows8Fn fallback = avx512::rows8_kernel(K::kType);
  const int nt16 = nt / kTok * kTok;
  if (nt < K::kMinTokens) return rows8_few_kernel(K::kType)(n, wv, gs, ng, xv, xs, nt, y, ldy);
  const int64_t ng2 = ng / 2 * 2;
  if (ng2 > 0) {
    uint8_t* a = a_buffer(static_cast<size_t>(nt16 / kTok) * tile_bytes(K::kFormat, n));
    for (int t = 0; t < nt16 / kTok; ++t) pack(K::kFormat, n, x, xs, t, a);
    return body<K>(n, w, gs, ng, x, xs, nt, a, y, ldy);
  }
  fallback(n, wv, gs, ng, xv, xs, nt, y, ldy);  // a single group
}

// The same with the call's shared packed activations (detail::Rows8PackedFn).
template <class K>
void groups_packed(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs,
                   int nt, const void* packed, float* y, int64_t ldy) {
  if (nt < K::kMinTokens) return groups<K>(n, wv, gs, ng, xv, xs, nt, y, ldy);
  body<K>(n, static_cast<const uint8_t*>(wv), gs, ng, static_cast<const uint8_t*>(xv), xs, nt,
          static_cast<const uint8_t*>(packed), y, ldy);
}

constexpr detail::TypedFn<detail::Rows8Fn> kKernels[] = {
    {GgmlType::Q4_0, groups<Legacy<false>>},
    {GgmlType::Q8_0, groups<Legacy<true>>},
    {GgmlType::Q4_K, groups<QK<BlockQ4_Kx8, false>>},
    {GgmlType::Q5_K, groups<QK<BlockQ5_Kx8, true>>},
    {GgmlType::Q6_K, groups<Q6K>},
};

constexpr detail::TypedFn<detail::Rows8PackedFn> kPackedKernels[] = {
    {GgmlType::Q4_0, groups_packed<Legacy<false>>},
    {GgmlType::Q8_0, groups_packed<Legacy<true>>},
    {GgmlType::Q4_K, groups_packed<QK<BlockQ4_Kx8, false>>},
    {GgmlType::Q5_K, groups_packed<QK<BlockQ5_Kx8, true>>},
    {GgmlType::Q6_K, groups_packed<Q6K>},
};

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  return detail::find_fn(kKernels, t);
}

detail::Rows8PackedFn rows8_packed_kernel(GgmlType t) {
  return detail::find_fn(kPackedKernels, t);
}

size_t packed_tile_bytes(detail::ActFormat f, int64_t n) {
  return tile_bytes(f, n);
}

void pack_act_tile(detail::ActFormat f, int64_t n, const void* x, size_t xs, int tile,
                   void* packed) {
  pack(f, n, static_cast<const uint8_t*>(x), xs, tile, static_cast<uint8_t*>(packed));
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
