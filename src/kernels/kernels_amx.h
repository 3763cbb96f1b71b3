// AMX (AVX-512 + AMX-TILE + AMX-INT8) kernels (defined in *_amx.cpp, built with those
// flags). Call only through the amx kernel table (isa_level() == Amx): the process must
// hold the tile data permission, which cpu_features() requests at detection.
#pragma once

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"

namespace qwen3::amx {

// The rows8 kernel of a type (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K; nullptr otherwise): AMX-INT8
// tiles for every 16 tokens of a call; calls of fewer than 16 tokens (Q8_0 32) and the
// last nt % 16 tokens go to rows8_few_kernel, an odd last group to the avx512 kernel.
// Bit-identical to the avx512 kernel.
detail::Rows8Fn rows8_kernel(GgmlType t);

// The few-token rows8 kernel of a type (matmul_rows8_amx_few.cpp; the same five types,
// nullptr otherwise): AMX-INT8 tiles with one row per token for calls of 9..16 tokens
// (Q8_0, Q5_K; Q6_K from 11, Q4_0 from 13; Q4_K never), the avx512 kernel for other
// token counts and an odd last group. Bit-identical to the avx512 kernel; rows8_kernel
// sends it its calls of fewer than 16 tokens (Q8_0 32).
detail::Rows8Fn rows8_few_kernel(GgmlType t);

// The prompt path's packed activations (the amx table's detail::PackedRows8): a matmul of
// 16 or more tokens copies its activation rows once into tile order (each 16-token A tile
// of a 32-weight slice as 512 contiguous bytes, then the tokens' scales block by block),
// shared by every work item and thread of the call, instead of each rows8 call packing
// the whole input again for its few groups (the pack was ~13 % of a 1024x3072 x 128-token
// matmul on one thread and more for the small items of a 2-thread model pass).
constexpr int64_t kPackTokens = 16;  // tokens per packed tile, and the fewest that pack
// Bytes of one packed 16-token tile of n columns in activation format f (Q8 or Q8K): the
// n / 32 A tiles of 512 bytes, then 16 float scales per activation block.
size_t packed_tile_bytes(detail::ActFormat f, int64_t n);
// Packs tokens 16 * tile .. 16 * tile + 15 of x (rows of format f, xs bytes apart, token 0
// first) into packed + tile * packed_tile_bytes(f, n). The rows must exist (tile < nt / 16).
void pack_act_tile(detail::ActFormat f, int64_t n, const void* x, size_t xs, int tile,
                   void* packed);
// The rows8 kernel of rows8_kernel with the activations also given packed (all nt / 16
// tiles, pack_act_tile): the same outputs, byte for byte. nullptr for a type without one.
detail::Rows8PackedFn rows8_packed_kernel(GgmlType t);

}  // namespace qwen3::amx
