#include "kernels/rows8.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/quant.h"

namespace qwen3 {

namespace {

void check(GgmlType t, int64_t cols) {
  if (!rows8_type(t))
    throw std::invalid_argument("rows8: no interleaved layout for " +
                                std::string(ggml_type_info(t).name));
  if (cols <= 0 || cols % ggml_type_info(t).block_size != 0)
    throw std::invalid_argument("rows8: bad row length " + std::to_string(cols));
}

template <class Block>
const Block& plain(const void* rows, size_t ws, int r, int64_t b) {
  return reinterpret_cast<const Block*>(static_cast<const uint8_t*>(rows) + r * ws)[b];
}
template <class Block>
Block& plain(void* rows, size_t ws, int r, int64_t b) {
  return reinterpret_cast<Block*>(static_cast<uint8_t*>(rows) + r * ws)[b];
}

// Copies 4-byte groups: dst[k][4r + e] <-> src row r byte 4k + e, k < n4.
void interleave(uint8_t* dst, const uint8_t* src, int r, int n4) {
  for (int k = 0; k < n4; ++k) std::memcpy(dst + 32 * k + 4 * r, src + 4 * k, 4);
}
void deinterleave(uint8_t* dst, const uint8_t* src, int r, int n4) {
  for (int k = 0; k < n4; ++k) std::memcpy(dst + 4 * k, src + 32 * k + 4 * r, 4);
}

// Q4_0 and Q8_0: the scale and the 16 or 32 quant bytes, in groups of 4.
template <class Block, class Packed>
void pack_32(const void* rows, size_t ws, int64_t cols, Packed* out) {
  constexpr int kGroups = sizeof(Block::qs) / 4;
  for (int64_t b = 0; b < cols / kQK; ++b)
    for (int r = 0; r < 8; ++r) {
      const auto& blk = plain<Block>(rows, ws, r, b);
      out[b].d[r] = blk.d;
      interleave(reinterpret_cast<uint8_t*>(out[b].qs[0]), reinterpret_cast<const uint8_t*>(blk.qs),
                 r, kGroups);
    }
}
template <class Block, class Packed>
void unpack_32(const Packed* in, int64_t cols, void* rows, size_t ws) {
  constexpr int kGroups = sizeof(Block::qs) / 4;
  for (int64_t b = 0; b < cols / kQK; ++b)
    for (int r = 0; r < 8; ++r) {
      auto& blk = plain<Block>(rows, ws, r, b);
      blk.d = in[b].d[r];
      deinterleave(reinterpret_cast<uint8_t*>(blk.qs),
                   reinterpret_cast<const uint8_t*>(in[b].qs[0]), r, kGroups);
    }
}

// Q4_K keeps its 12 packed scale bytes only implicitly: rebuild them from the unpacked
// 6-bit values (the inverse of get_scale_min_k4).
void pack_scales_k4(const uint8_t sc[8], const uint8_t mn[8], uint8_t q[12]) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
}

// Q4_K and Q5_K share scales, mins and nibbles; Q5_K adds the qh bits.
template <class Block, class Packed>
void pack_k4(const void* rows, size_t ws, int64_t cols, Packed* out) {
  for (int64_t b = 0; b < cols / kQK_K; ++b)
    for (int r = 0; r < 8; ++r) {
      const auto& blk = plain<Block>(rows, ws, r, b);
      out[b].d[r] = blk.d;
      out[b].dmin[r] = blk.dmin;
      for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, blk.scales, &s, &m);
        out[b].sc[j][r] = s;
        out[b].mn[j / 2][r][j & 1] = m;
      }
      for (int c = 0; c < 4; ++c) interleave(out[b].qs[c][0], blk.qs + 32 * c, r, 8);
      if constexpr (std::is_same_v<Block, BlockQ5_K>) interleave(out[b].qh[0], blk.qh, r, 8);
    }
}

template <class Block, class Packed>
void unpack_k4(const Packed* in, int64_t cols, void* rows, size_t ws) {
  for (int64_t b = 0; b < cols / kQK_K; ++b)
    for (int r = 0; r < 8; ++r) {
      auto& blk = plain<Block>(rows, ws, r, b);
      blk.d = in[b].d[r];
      blk.dmin = in[b].dmin[r];
      uint8_t sc[8], mn[8];
      for (int j = 0; j < 8; ++j) {
        sc[j] = in[b].sc[j][r];
        mn[j] = in[b].mn[j / 2][r][j & 1];
      }
      pack_scales_k4(sc, mn, blk.scales);
      for (int c = 0; c < 4; ++c) deinterleave(blk.qs + 32 * c, in[b].qs[c][0], r, 8);
      if constexpr (std::is_same_v<Block, BlockQ5_K>) deinterleave(blk.qh, in[b].qh[0], r, 8);
    }
}

}  // namespace

bool rows8_type(GgmlType t) {
  return t == GgmlType::Q4_0 || t == GgmlType::Q8_0 || t == GgmlType::Q4_K || t == GgmlType::Q5_K ||
         t == GgmlType::Q6_K;
}

size_t rows8_group_size(GgmlType t, int64_t cols) {
  check(t, cols);
  switch (t) {
    case GgmlType::Q4_0:
      return sizeof(BlockQ4_0x8) * static_cast<size_t>(cols / kQK);
    case GgmlType::Q8_0:
      return sizeof(BlockQ8_0x8) * static_cast<size_t>(cols / kQK);
    case GgmlType::Q5_K:
      return sizeof(BlockQ5_Kx8) * static_cast<size_t>(cols / kQK_K);
    case GgmlType::Q6_K:
      return sizeof(BlockQ6_Kx8) * static_cast<size_t>(cols / kQK_K);
    default:
      return sizeof(BlockQ4_Kx8) * static_cast<size_t>(cols / kQK_K);
  }
}

void pack_rows8(GgmlType t, const void* rows, size_t ws, int64_t cols, void* group) {
  check(t, cols);
  if (t == GgmlType::Q4_0) {
    pack_32<BlockQ4_0>(rows, ws, cols, static_cast<BlockQ4_0x8*>(group));
  } else if (t == GgmlType::Q8_0) {
    pack_32<BlockQ8_0>(rows, ws, cols, static_cast<BlockQ8_0x8*>(group));
  } else if (t == GgmlType::Q6_K) {
    auto* out = static_cast<BlockQ6_Kx8*>(group);
    for (int64_t b = 0; b < cols / kQK_K; ++b)
      for (int r = 0; r < 8; ++r) {
        const auto& blk = plain<BlockQ6_K>(rows, ws, r, b);
        out[b].d[r] = blk.d;
        for (int j = 0; j < 16; ++j) out[b].sc[j / 2][r][j & 1] = blk.scales[j];
        for (int h = 0; h < 2; ++h) {
          interleave(out[b].ql[h][0], blk.ql + 64 * h, r, 16);
          interleave(out[b].qh[h][0], blk.qh + 32 * h, r, 8);
        }
      }
  } else if (t == GgmlType::Q5_K) {
    pack_k4<BlockQ5_K>(rows, ws, cols, static_cast<BlockQ5_Kx8*>(group));
  } else {
    pack_k4<BlockQ4_K>(rows, ws, cols, static_cast<BlockQ4_Kx8*>(group));
  }
}

void unpack_rows8(GgmlType t, const void* group, int64_t cols, void* rows, size_t ws) {
  check(t, cols);
  if (t == GgmlType::Q4_0) {
    unpack_32<BlockQ4_0>(static_cast<const BlockQ4_0x8*>(group), cols, rows, ws);
  } else if (t == GgmlType::Q8_0) {
    unpack_32<BlockQ8_0>(static_cast<const BlockQ8_0x8*>(group), cols, rows, ws);
  } else if (t == GgmlType::Q6_K) {
    const auto* in = static_cast<const BlockQ6_Kx8*>(group);
    for (int64_t b = 0; b < cols / kQK_K; ++b)
      for (int r = 0; r < 8; ++r) {
        auto& blk = plain<BlockQ6_K>(rows, ws, r, b);
        blk.d = in[b].d[r];
        for (int j = 0; j < 16; ++j) blk.scales[j] = in[b].sc[j / 2][r][j & 1];
        for (int h = 0; h < 2; ++h) {
          deinterleave(blk.ql + 64 * h, in[b].ql[h][0], r, 16);
          deinterleave(blk.qh + 32 * h, in[b].qh[h][0], r, 8);
        }
      }
  } else if (t == GgmlType::Q5_K) {
    unpack_k4<BlockQ5_K>(static_cast<const BlockQ5_Kx8*>(group), cols, rows, ws);
  } else {
    unpack_k4<BlockQ4_K>(static_cast<const BlockQ4_Kx8*>(group), cols, rows, ws);
  }
}

}  // namespace qwen3
