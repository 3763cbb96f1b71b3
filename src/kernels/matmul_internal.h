// The pieces matmul() is built from: the activation format each weight type pairs with,
// the tile functions (scalar reference versions here, AVX2 in kernels_avx2.h, ...) and
// the per-ISA-level kernel table that matmul() picks them from.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/cpu_features.h"
#include "kernels/quant.h"

namespace qwen3::detail {

// Computes y[t*ldy + r] = dot(weight row r, activation row t) for r < nr, t < nt.
// w: nr rows, ws bytes apart; x: nt activation rows (in act_type(W) format), xs bytes apart.
using TileFn = void (*)(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs,
                        int nt, float* y, int64_t ldy);

// Activations of the 32-element formats: like ggml's Q8_0/Q8_1 but with d kept in
// float and the integer sum of qs, so the unsigned-nibble kernels can subtract the
// weight offset exactly (q4_0: 8*sum) and Q4_1/Q5_1 get their min term without the
// fp16 rounding of Q8_1's s.
struct ActQ8 {
  float d;
  int32_t sum;
  int8_t qs[32];
};
static_assert(sizeof(ActQ8) == 40);

// What X is converted to for a weight type: float rows (F32/F16/BF16 weights),
// ActQ8 blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) or ggml's Q8_K (K-quants).
enum class ActFormat { F32, Q8, Q8K };
ActFormat act_format(GgmlType t);
size_t act_row_size(ActFormat f, int64_t cols);
// Scalar reference conversion of one row (round half to even, like the AVX2 version).
void quantize_act_ref(ActFormat f, const float* x, void* y, int64_t cols);
void quantize_act_q8_ref(const float* x, ActQ8* y, int64_t n);
TileFn tile_ref(GgmlType t);
TileFn tile_avx2(GgmlType t);

// Kernels of the rows8 layout (rows8.h): ng consecutive packed groups (gs bytes apart)
// of 8 rows times nt activation rows: y[t*ldy + 8*g + r] for g < ng, r < 8.
using Rows8Fn = void (*)(int64_t n, const void* groups, size_t gs, int64_t ng, const void* x,
                         size_t xs, int nt, float* y, int64_t ldy);

// What matmul runs at one ISA level. Chosen once per call from isa_level(); a level
// without its own version of a piece points at the level below's.
// A level's rows8 kernels that read a call's activations packed once into their own
// order (the amx prompt path, kernels_amx.h), shared by every work item and thread of a
// matmul_multi call instead of each kernel call packing them again.
using Rows8PackedFn = void (*)(int64_t n, const void* groups, size_t gs, int64_t ng, const void* x,
                               size_t xs, int nt, const void* packed, float* y, int64_t ldy);
struct PackedRows8 {
  int64_t tile_tokens;               // tokens per packed tile; calls of fewer do not pack
  Rows8PackedFn (*rows8)(GgmlType);  // nullptr: the type does not pack
  // Bytes of one packed tile of n columns of format f.
  size_t (*tile_bytes)(ActFormat f, int64_t n);
  // Packs tile `tile` of x (rows of format f, xs bytes apart) into packed + tile *
  // tile_bytes(f, n).
  void (*pack_tile)(ActFormat f, int64_t n, const void* x, size_t xs, int tile, void* packed);
};

struct IsaKernels {
  IsaLevel level;
  TileFn (*tile)(GgmlType);    // plain rows
  Rows8Fn (*rows8)(GgmlType);  // nullptr (scalar): groups are unpacked for tile_ref
  void (*quantize_act_q8)(const float* x, ActQ8* y, int64_t n);
  void (*quantize_q8_K)(const float* x, BlockQ8_K* y, int64_t n);
  const PackedRows8* packed = nullptr;  // none: every kernel call reads the rows as they are
};
const IsaKernels& isa_kernels(IsaLevel l);

// One dot product on the reference path.
float vec_dot_ref(GgmlType t, int64_t n, const void* w, const void* x);

}  // namespace qwen3::detail
