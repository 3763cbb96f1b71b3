// What the two AMX-INT8 rows8 kernels share (matmul_rows8_amx.cpp: 16-token tiles for
// prompt chunks; matmul_rows8_amx_few.cpp: one tile row per token for calls of fewer):
// the tile registers, the tile configuration, the product step, the thread's packed-A
// buffer, and the unpacking of a rows8 group pair's block into B tiles (the rows8 layout
// already is the B-tile layout: B row k = weights 4k..4k+3 of the 16 rows; signed bytes:
// Q4_0 nibbles - 8, Q8_0 as is, Q4_K/Q5_K values 0..31, Q6_K values - 32).
// Include only from files built with the AVX-512 and AMX flags. Same rule as
// rows8_vnni.h: everything in an anonymous namespace (each kernel file its own copy, so
// each keeps its own thread's buffer), no std:: templates.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <new>

#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v512.h"

// Tile registers: four C tiles, two A and two B; A0/B0 feed C0 and C2, A1/B1 feed C1 and
// C3. Macros: GCC's tile intrinsics paste their register operand into the instruction
// text. The including file #undefs them at its end.
#define QWEN3_C0 0
#define QWEN3_C1 1
#define QWEN3_C2 2
#define QWEN3_C3 3
#define QWEN3_A0 4
#define QWEN3_B0 5
#define QWEN3_A1 6
#define QWEN3_B1 7

// One product: A tile (activation rows, stride xs) x B tile (an unpacked block) into C.
#define QWEN3_PRODUCT(C, A, B, xa, b, xs) \
  do {                                    \
    _tile_loadd(A, xa, xs);               \
    _tile_loadd(B, b, 64);                \
    _tile_zero(C);                        \
    _tile_dpbssd(C, A, B);                \
  } while (0)

namespace qwen3::amx {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// A tiles of nt tokens x kbytes activation bytes, B tiles of kbytes/4 rows x 16 weight
// rows x 4 bytes, C tiles of nt tokens x 16 int32. Kept in constant objects: GCC 12
// drops the stores to a local configuration before ldtilecfg (it does not see the
// instruction read them), which leaves the tiles unconfigured.
constexpr TileConfig tile_config(int kbytes, int nt) {
  TileConfig c{};
  c.palette = 1;
  const int cs[] = {QWEN3_C0, QWEN3_C1, QWEN3_C2, QWEN3_C3};
  for (int i = 0; i < 4; ++i) {
    c.rows[cs[i]] = static_cast<uint8_t>(nt);
    c.colsb[cs[i]] = 64;
  }
  const int as[] = {QWEN3_A0, QWEN3_A1}, bs[] = {QWEN3_B0, QWEN3_B1};
  for (int i = 0; i < 2; ++i) {
    c.rows[as[i]] = static_cast<uint8_t>(nt);
    c.colsb[as[i]] = static_cast<uint16_t>(kbytes);
    c.rows[bs[i]] = static_cast<uint8_t>(kbytes / 4);
    c.colsb[bs[i]] = 64;
  }
  return c;
}

inline __attribute__((always_inline)) float ld_f32(const uint8_t* p) {
  float v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
inline __attribute__((always_inline)) __m512i bcast32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// The calling thread's buffer for packed A tiles, grown to the largest call and kept (no
// allocation per matmul once a model has run its largest call).
uint8_t* a_buffer(size_t bytes) {
  struct Buffer {
    uint8_t* p = nullptr;
    size_t n = 0;
    ~Buffer() { ::operator delete(p, std::align_val_t(64)); }
  };
  thread_local Buffer b;
  if (bytes > b.n) {
    ::operator delete(b.p, std::align_val_t(64));
    b.p = nullptr;
    b.n = 0;
    b.p = static_cast<uint8_t*>(::operator new(bytes, std::align_val_t(64)));
    b.n = bytes;
  }
  return b.p;
}

// One Q4_0 / Q8_0 block of a group pair into a B tile (8 rows of 64 bytes).
template <bool kEight, class Group>
inline __attribute__((always_inline)) void unpack_legacy(const Group& g0, const Group& g1,
                                                         int8_t (*b)[64]) {
  using vnni::V512;
  if constexpr (kEight) {
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) _mm512_store_si512(b[k], V512::load(g0.qs[k], g1.qs[k]));
  } else {
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i v = V512::load(g0.qs[k], g1.qs[k]);
      _mm512_store_si512(b[k], _mm512_sub_epi8(_mm512_and_si512(v, m4), eight));
      _mm512_store_si512(b[k + 4],
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight));
    }
  }
}

// One Q4_K / Q5_K super-block of a group pair (Base = vnni::QK<V512, Group, five>): the
// B tiles of its 8 sub-blocks, their scales (int32 lanes) and mins (int16 pairs), d, dmin.
template <class Base, class Group>
inline __attribute__((always_inline)) void unpack_qk(const Group& g0, const Group& g1,
                                                     int8_t (*b)[8][64], __m512i (&sc)[8],
                                                     __m512i (&mn)[8], __m512& d, __m512& dmin) {
  using vnni::V512;
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j)
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) _mm512_store_si512(b[j][k], Base::values(g0, g1, j, k));
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) sc[j] = V512::u8_32(g0.sc[j], g1.sc[j]);
  Base::mins(g0, g1, mn);
  d = V512::f16(g0.d, g1.d);
  dmin = V512::f16(g0.dmin, g1.dmin);
}

// One Q6_K super-block of a group pair (Base = vnni::Q6K<V512>): the B tiles of its 16
// sub-blocks of 16 weights (values - 32), their scales (int32 lanes) and d.
template <class Base, class Group>
inline __attribute__((always_inline)) void unpack_q6k(const Group& g0, const Group& g1,
                                                      int8_t (*b)[4][64], __m512i (&sc)[16],
                                                      __m512& d) {
  using vnni::V512;
  const __m512i m32 = _mm512_set1_epi8(32);
  for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
    for (int st = 0; st < 4; ++st) {
      const __m512i pairs = V512::i8_16(g0.sc[4 * h + st][0], g1.sc[4 * h + st][0]);
      const int s = 8 * h + 2 * st;  // sub-blocks s (weights 128h + 32st + 0..15), s + 1
      sc[s] = _mm512_srai_epi32(_mm512_slli_epi32(pairs, 16), 16);
      sc[s + 1] = _mm512_srai_epi32(pairs, 16);
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k)
        _mm512_store_si512(b[s + k / 4][k % 4],
                           _mm512_sub_epi8(Base::values(g0, g1, h, st, k), m32));
    }
  }
  d = V512::f16(g0.d, g1.d);
}

}  // namespace
}  // namespace qwen3::amx
