// AMX-INT8 kernels for the rows8 layout (rows8.h), used for the prompt chunks of the amx
// level: 16 tokens x 16 weight rows (two rows8 groups side by side) per tile product.
//
// The rows8 layout is already the B-tile layout: B row k = 4 consecutive weights 4k..4k+3
// of each of the 16 rows, i.e. the 512-bit vector V512::load(g0.qs[k], g1.qs[k]). A chunk
// of blocks of a group pair is unpacked once into tiles on the stack (signed bytes:
// Q4_0 nibbles - 8, Q8_0 as is, Q4_K/Q5_K values 0..31, Q6_K values - 32) and reused by
// every 16-token tile of the call; the activations (ActQ8 / Q8_K rows, xs bytes apart) are
// loaded as A tiles straight from their rows. Per 32-weight block (Q4_0, Q8_0, K-quant
// sub-blocks of 32) or 16-weight sub-block (Q6_K) one `tdpbssd` gives the exact int32
// dot products of 16 tokens x 16 rows; the tile is stored and the float epilogue runs
// at 512 bits with the avx512 kernels' steps in their order (rows8_vnni.h):
//   Q4_0/Q8_0: acc = fmadd(cvt(isum), dw * da, acc) per block;
//   Q4_K/Q5_K: isum = sum_j sc_j * s_j, summ = sum_j min_j * bsums_j (integers), then
//              acc = fmadd(cvt(isum), d * da, acc), acc = fnmadd(cvt(summ), dmin * da, acc);
//   Q6_K:      isum = sum_s sc_s * s_s (the -32 offset inside s: the same integer), then
//              acc = fmadd(cvt(isum), d * da, acc).
// The integer sums are exact in both, so every output equals the avx512 kernel's bit for
// bit and a token's result does not depend on how many tokens share the call. Tokens
// beyond the last multiple of 16 and an odd last group run the avx512 kernel.
//
// Tile configuration: loaded per call (ldtilecfg) and released at its end, so no thread
// keeps the 8 KiB tile state live between matmuls.
// Built with the AVX-512 and AMX flags (CMakeLists.txt); called only through the amx
// table. Same rule as rows8_vnni.h: no std:: templates, no inline functions of other
// headers outside anonymous namespaces.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include "kernels/kernels_amx.h"
#include "kernels/kernels_avx512.h"
#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v512.h"

namespace qwen3::amx {
namespace {

using detail::ActQ8;
using vnni::V512;

#define QWEN3_INLINE inline __attribute__((always_inline))

constexpr int kTok = 16;  // tokens per A tile (its rows)

// Tile registers: two products in flight (C0 = A0 x B0, C1 = A1 x B1). Macros: GCC's tile
// intrinsics paste their register operand into the instruction text.
#define QWEN3_C0 0
#define QWEN3_C1 1
#define QWEN3_A0 2
#define QWEN3_B0 3
#define QWEN3_A1 4
#define QWEN3_B1 5

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// A tiles of 16 tokens x kbytes activation bytes, B tiles of kbytes/4 rows x 16 weight
// rows x 4 bytes, C tiles of 16 tokens x 16 int32.
constexpr TileConfig tile_config(int kbytes) {
  TileConfig c{};
  c.palette = 1;
  const int cs[] = {QWEN3_C0, QWEN3_C1}, as[] = {QWEN3_A0, QWEN3_A1}, bs[] = {QWEN3_B0, QWEN3_B1};
  for (int i = 0; i < 2; ++i) {
    c.rows[cs[i]] = kTok;
    c.colsb[cs[i]] = 64;
    c.rows[as[i]] = kTok;
    c.colsb[as[i]] = static_cast<uint16_t>(kbytes);
    c.rows[bs[i]] = static_cast<uint8_t>(kbytes / 4);
    c.colsb[bs[i]] = 64;
  }
  return c;
}
// Constant objects: GCC 12 drops the stores to a local configuration before ldtilecfg
// (it does not see the instruction read them), which leaves the tiles unconfigured.
constexpr TileConfig kConfig32 = tile_config(32), kConfig16 = tile_config(16);
void configure(int kbytes) {
  _tile_loadconfig(kbytes == 16 ? &kConfig16 : &kConfig32);
}

QWEN3_INLINE float ld_f32(const uint8_t* p) {
  float v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
QWEN3_INLINE __m512i bcast32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Two tile products: C0 = A(xa0) x B(b0), C1 = A(xa1) x B(b1), stored to c0 / c1.
QWEN3_INLINE void product2(const uint8_t* xa0, const void* b0, int32_t* c0, const uint8_t* xa1,
                           const void* b1, int32_t* c1, size_t xs) {
  _tile_loadd(QWEN3_A0, xa0, xs);
  _tile_loadd(QWEN3_B0, b0, 64);
  _tile_zero(QWEN3_C0);
  _tile_dpbssd(QWEN3_C0, QWEN3_A0, QWEN3_B0);
  _tile_loadd(QWEN3_A1, xa1, xs);
  _tile_loadd(QWEN3_B1, b1, 64);
  _tile_zero(QWEN3_C1);
  _tile_dpbssd(QWEN3_C1, QWEN3_A1, QWEN3_B1);
  _tile_stored(QWEN3_C0, c0, 64);
  _tile_stored(QWEN3_C1, c1, 64);
}
QWEN3_INLINE void product1(const uint8_t* xa, const void* b, int32_t* c, size_t xs) {
  _tile_loadd(QWEN3_A0, xa, xs);
  _tile_loadd(QWEN3_B0, b, 64);
  _tile_zero(QWEN3_C0);
  _tile_dpbssd(QWEN3_C0, QWEN3_A0, QWEN3_B0);
  _tile_stored(QWEN3_C0, c, 64);
}

// Q4_0 / Q8_0 against ActQ8 (40-byte blocks: d, sum, qs[32]).
template <bool kEight>
struct Legacy {
  using Group = typename vnni::Legacy<V512, kEight>::Group;
  static constexpr GgmlType kType = kEight ? GgmlType::Q8_0 : GgmlType::Q4_0;
  static constexpr int kBlock = 32, kKBytes = 32, kChunk = 32;
  static constexpr size_t kActBlock = sizeof(ActQ8);
  struct alignas(64) Unpacked {
    int8_t b[8][64];  // B tile: b[k][4r + e] = weight 4k+e of row r (signed)
    float dw[16];     // row scales
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    if constexpr (kEight) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm512_store_si512(u.b[k], V512::load(g0.qs[k], g1.qs[k]));
    } else {
      const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m512i v = V512::load(g0.qs[k], g1.qs[k]);
        _mm512_store_si512(u.b[k], _mm512_sub_epi8(_mm512_and_si512(v, m4), eight));
        _mm512_store_si512(u.b[k + 4],
                           _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight));
      }
    }
    _mm512_store_ps(u.dw, V512::f16(g0.d, g1.d));
  }
  // acc[t] += isum[t] * (dw * da[t]), one block.
  static QWEN3_INLINE void epilogue(const int32_t (*c)[16], const float* dw, const uint8_t* xa,
                                    size_t xs, __m512 (&acc)[kTok]) {
    const __m512 w = _mm512_load_ps(dw);
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[t])),
                               _mm512_mul_ps(w, _mm512_set1_ps(ld_f32(xa + t * xs))), acc[t]);
  }
  // 16 tokens (x: token 0's row) against nbk unpacked blocks from block b0 on.
  static void run(const Unpacked* u, int nbk, int64_t b0, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy, bool first) {
    __m512 acc[kTok];
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t)
      acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(y + t * ldy);
    alignas(64) int32_t c[2][16][16];
    const uint8_t* xb = x + b0 * kActBlock;
    int i = 0;
    for (; i + 2 <= nbk; i += 2) {
      const uint8_t* xa = xb + i * kActBlock;
      product2(xa + 8, u[i].b, c[0][0], xa + kActBlock + 8, u[i + 1].b, c[1][0], xs);
      epilogue(c[0], u[i].dw, xa, xs, acc);
      epilogue(c[1], u[i + 1].dw, xa + kActBlock, xs, acc);
    }
    if (i < nbk) {
      const uint8_t* xa = xb + i * kActBlock;
      product1(xa + 8, u[i].b, c[0][0], xs);
      epilogue(c[0], u[i].dw, xa, xs, acc);
    }
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
  }
};

// Q4_K / Q5_K against Q8_K (d, qs[256], bsums[16]): per 32-weight sub-block j a tile.
template <class G, bool kFive>
struct QK {
  using Base = vnni::QK<V512, G, kFive>;
  using Group = G;
  static constexpr GgmlType kType = kFive ? GgmlType::Q5_K : GgmlType::Q4_K;
  static constexpr int kBlock = 256, kKBytes = 32, kChunk = 4;
  static constexpr size_t kActBlock = sizeof(BlockQ8_K);
  struct alignas(64) Unpacked {
    int8_t b[8][8][64];  // [sub-block j] B tile of its values (0..31)
    __m512i sc[8];       // sub-block scales, int32 lanes
    __m512i mn[8];       // sub-block mins, twice per lane (int16)
    __m512 d, dmin;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j)
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm512_store_si512(u.b[j][k], Base::values(g0, g1, j, k));
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) u.sc[j] = V512::u8_32(g0.sc[j], g1.sc[j]);
    Base::mins(g0, g1, u.mn);
    u.d = V512::f16(g0.d, g1.d);
    u.dmin = V512::f16(g0.dmin, g1.dmin);
  }
  static void run(const Unpacked* u, int nbk, int64_t b0, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy, bool first) {
    __m512 acc[kTok];
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t)
      acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(y + t * ldy);
    alignas(64) int32_t c[8][16][16];
    for (int i = 0; i < nbk; ++i) {
      const Unpacked& U = u[i];
      const uint8_t* xa = x + (b0 + i) * kActBlock;
      const uint8_t* qs = xa + offsetof(BlockQ8_K, qs);
#pragma GCC unroll 4
      for (int j = 0; j < 8; j += 2)
        product2(qs + 32 * j, U.b[j], c[j][0], qs + 32 * j + 32, U.b[j + 1], c[j + 1][0], xs);
#pragma GCC unroll 2
      for (int t = 0; t < kTok; ++t) {
        const uint8_t* at = xa + t * xs;
        __m512i isum = _mm512_setzero_si512(), summ = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j)
          isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[j][t]), U.sc[j]));
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j)
          summ =
              _mm512_dpwssd_epi32(summ, U.mn[j], bcast32(at + offsetof(BlockQ8_K, bsums) + 4 * j));
        const __m512 xd = _mm512_set1_ps(ld_f32(at));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(U.d, xd), acc[t]);
        acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(U.dmin, xd), acc[t]);
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
  }
};

// Q6_K against Q8_K: per 16-weight sub-block s a tile of depth 16 (values - 32 signed, so
// the offset term is inside the product).
struct Q6K {
  using Base = vnni::Q6K<V512>;
  using Group = BlockQ6_Kx8;
  static constexpr GgmlType kType = GgmlType::Q6_K;
  static constexpr int kBlock = 256, kKBytes = 16, kChunk = 4;
  static constexpr size_t kActBlock = sizeof(BlockQ8_K);
  struct alignas(64) Unpacked {
    int8_t b[16][4][64];  // [sub-block s] B tile of its values - 32
    __m512i sc[16];       // sub-block scales, int32 lanes
    __m512 d;
  };
  static QWEN3_INLINE void unpack(const Group& g0, const Group& g1, Unpacked& u) {
    const __m512i m32 = _mm512_set1_epi8(32);
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int st = 0; st < 4; ++st) {
        const __m512i pairs = V512::i8_16(g0.sc[4 * h + st][0], g1.sc[4 * h + st][0]);
        const int s = 8 * h + 2 * st;  // sub-blocks s (weights 128h + 32st + 0..15), s + 1
        u.sc[s] = _mm512_srai_epi32(_mm512_slli_epi32(pairs, 16), 16);
        u.sc[s + 1] = _mm512_srai_epi32(pairs, 16);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k)
          _mm512_store_si512(u.b[s + k / 4][k % 4],
                             _mm512_sub_epi8(Base::values(g0, g1, h, st, k), m32));
      }
    }
    u.d = V512::f16(g0.d, g1.d);
  }
  static void run(const Unpacked* u, int nbk, int64_t b0, const uint8_t* x, size_t xs, float* y,
                  int64_t ldy, bool first) {
    __m512 acc[kTok];
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t)
      acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(y + t * ldy);
    alignas(64) int32_t c[16][16][16];
    for (int i = 0; i < nbk; ++i) {
      const Unpacked& U = u[i];
      const uint8_t* xa = x + (b0 + i) * kActBlock;
      const uint8_t* qs = xa + offsetof(BlockQ8_K, qs);
#pragma GCC unroll 8
      for (int s = 0; s < 16; s += 2)
        product2(qs + 16 * s, U.b[s], c[s][0], qs + 16 * s + 16, U.b[s + 1], c[s + 1][0], xs);
#pragma GCC unroll 2
      for (int t = 0; t < kTok; ++t) {
        __m512i isum = _mm512_setzero_si512();
#pragma GCC unroll 16
        for (int s = 0; s < 16; ++s)
          isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[s][t]), U.sc[s]));
        const __m512 xd = _mm512_set1_ps(ld_f32(xa + t * xs));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(U.d, xd), acc[t]);
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < kTok; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
  }
};

// ng groups x nt tokens: group pairs x whole 16-token tiles on AMX, chunk by chunk of
// K::kChunk blocks (unpacked once per chunk, the float sums carried in y between chunks);
// the rest on the avx512 kernel.
template <class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  const detail::Rows8Fn fallback = avx512::rows8_kernel(K::kType);
  const int nt16 = nt / kTok * kTok;
  if (nt16 == 0) return fallback(n, wv, gs, ng, xv, xs, nt, y, ldy);
  const int64_t ng2 = ng / 2 * 2;
  if (ng2 > 0) {
    configure(K::kKBytes);
    const int64_t nb = n / K::kBlock;
    typename K::Unpacked u[K::kChunk];
    for (int64_t g = 0; g < ng2; g += 2) {
      const auto* w0 = reinterpret_cast<const typename K::Group*>(w + g * gs);
      const auto* w1 = reinterpret_cast<const typename K::Group*>(w + (g + 1) * gs);
      for (int64_t b0 = 0; b0 < nb; b0 += K::kChunk) {
        const int nbk = static_cast<int>(nb - b0 < K::kChunk ? nb - b0 : K::kChunk);
        for (int i = 0; i < nbk; ++i) K::unpack(w0[b0 + i], w1[b0 + i], u[i]);
        for (int t = 0; t < nt16; t += kTok)
          K::run(u, nbk, b0, x + t * xs, xs, y + t * ldy + 8 * g, ldy, b0 == 0);
      }
    }
    _tile_release();
  }
  if (ng2 < ng) fallback(n, w + ng2 * gs, gs, ng - ng2, x, xs, nt16, y + 8 * ng2, ldy);
  if (nt16 < nt) fallback(n, w, gs, ng, x + nt16 * xs, xs, nt - nt16, y + nt16 * ldy, ldy);
}

constexpr detail::TypedFn<detail::Rows8Fn> kKernels[] = {
    {GgmlType::Q4_0, groups<Legacy<false>>},
    {GgmlType::Q8_0, groups<Legacy<true>>},
    {GgmlType::Q4_K, groups<QK<BlockQ4_Kx8, false>>},
    {GgmlType::Q5_K, groups<QK<BlockQ5_Kx8, true>>},
    {GgmlType::Q6_K, groups<Q6K>},
};

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  return detail::find_fn(kKernels, t);
}

}  // namespace qwen3::amx

#undef QWEN3_INLINE
#undef QWEN3_C0
#undef QWEN3_C1
#undef QWEN3_A0
#undef QWEN3_B0
#undef QWEN3_A1
#undef QWEN3_B1
