// The AMX prompt kernels' packed activations: a matmul of 16 or more tokens on the amx
// level copies its activation rows once into tile order (each 16-token A tile of a
// 32-weight slice as 512 contiguous bytes, then the tokens' scales block by block), shared
// by every work item and thread of the call, instead of each rows8 call packing the whole
// input again for its few groups (the pack was ~13 % of a 1024x3072 x 128-token matmul on
// one thread and more for the small items of a 2-thread model pass). Defined in
// matmul_rows8_amx.cpp; call only at the amx level (see kernels_amx.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"

namespace qwen3::amx {

// Bytes of one packed 16-token tile of n columns in activation format f (Q8 or Q8K): the
// n / 32 A tiles of 512 bytes, then 16 float scales per activation block.
size_t packed_tile_bytes(detail::ActFormat f, int64_t n);

// Packs tokens 16 * tile .. 16 * tile + 15 of x (rows of format f, xs bytes apart, token 0
// first) into packed + tile * packed_tile_bytes(f, n). The rows must exist (tile < nt / 16).
void pack_act_tile(detail::ActFormat f, int64_t n, const void* x, size_t xs, int tile,
                   void* packed);

// The rows8 kernel of amx::rows8_kernel with the activations also given packed (all nt / 16
// tiles, pack_act_tile): the same outputs, byte for byte.
using Rows8PackedFn = void (*)(int64_t n, const void* groups, size_t gs, int64_t ng, const void* x,
                               size_t xs, int nt, const void* packed, float* y, int64_t ldy);
// nullptr for a type without an amx rows8 kernel.
Rows8PackedFn rows8_packed_kernel(GgmlType t);

}  // namespace qwen3::amx
