// AArch64 NEON kernels (defined in *_neon.cpp, built only for AArch64 with
// -march=armv8.2-a+dotprod, *_i8mm.cpp with +i8mm too). Call only through the neon kernel table
// (isa_level() == Neon, which requires the dot product extension), so a plain ARMv8.0 CPU never
// runs them.
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"

namespace qwen3::neon {

// The plain-row matmul tile of a type: NEON for F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K
// and Q6_K (for the integer ones the i8mm tiles where the CPU has i8mm), the scalar
// reference tile for the other types (Q4_1, Q5_0, Q5_1).
detail::TileFn tile(GgmlType t);
// The dot-product (SDOT) tiles alone, whether or not the CPU has i8mm.
detail::TileFn tile_dotprod(GgmlType t);
// The i8mm (SMMLA) tiles of Q4_0, Q8_0, Q4_K, Q5_K, Q6_K (nullptr for other types); in
// matmul_i8mm.cpp, built with +i8mm: call only if cpu_features().i8mm.
detail::TileFn tile_i8mm(GgmlType t);

// Activation quantizers (the same bytes as the reference ones).
void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace qwen3::neon
