// The "rows8" weight layout: groups of 8 rows interleaved block by block so that each
// 32-bit lane of a vector holds 4 consecutive weights of one row. A broadcast of 4
// activations then feeds 8 rows per multiply-add, partial sums need no horizontal
// reduction, and the whole group is read as one sequential stream (what the hardware
// prefetcher likes best during decode). Same idea as llama.cpp's repacked Q4_0x8.
//
// Nibble formats stay packed (Q4_0x8 is exactly as large as 8 Q4_0 rows), so decode
// reads no more bytes than the plain layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_types.h"

namespace qwen3 {

struct BlockQ4_0x8 {
  uint16_t d[8];      // fp16 scale of each row
  uint8_t qs[4][32];  // qs[k][4r + e] = byte 4k+e of row r's qs (weights 4k+e and 16+4k+e)
};
struct BlockQ8_0x8 {
  uint16_t d[8];
  int8_t qs[8][32];  // qs[k][4r + e] = weight 4k+e of row r
};
struct BlockQ4_Kx8 {
  uint16_t d[8], dmin[8];
  uint8_t sc[8][8];      // [sub-block j][row r] 6-bit scale
  uint8_t mn[4][8][2];   // [pair p][row r][j & 1] 6-bit min of sub-block 2p + (j & 1)
  uint8_t qs[4][8][32];  // [chunk c][k][4r + e] = byte 32c+4k+e of row r's qs
};
struct BlockQ5_Kx8 {  // Q4_Kx8 plus the fifth bits
  uint16_t d[8], dmin[8];
  uint8_t sc[8][8];
  uint8_t mn[4][8][2];
  uint8_t qh[8][32];  // [k][4r + e] = byte 4k+e of row r's qh (bit j: sub-block j)
  uint8_t qs[4][8][32];
};
struct BlockQ6_Kx8 {
  uint16_t d[8];
  int8_t sc[8][8][2];     // [pair p][row r][j & 1] scale of sub-block 2p + (j & 1)
  uint8_t ql[2][16][32];  // [half h][k][4r + e] = byte 64h+4k+e of row r's ql
  uint8_t qh[2][8][32];   // [half h][k][4r + e] = byte 32h+4k+e of row r's qh
};
static_assert(sizeof(BlockQ4_0x8) == 144 && sizeof(BlockQ8_0x8) == 272 &&
              sizeof(BlockQ4_Kx8) == 1184 && sizeof(BlockQ5_Kx8) == 1440 &&
              sizeof(BlockQ6_Kx8) == 1680);

// True if the type has rows8 kernels (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K).
bool rows8_type(GgmlType t);
// Bytes of one packed group of 8 rows of `cols` weights.
size_t rows8_group_size(GgmlType t, int64_t cols);

// Packs / unpacks one group: 8 plain rows (ws bytes apart) <-> one rows8 group.
// unpack(pack(x)) == x byte for byte.
void pack_rows8(GgmlType t, const void* rows, size_t ws, int64_t cols, void* group);
void unpack_rows8(GgmlType t, const void* group, int64_t cols, void* rows, size_t ws);

}  // namespace qwen3
