// AArch64 NEON kernels (defined in *_neon.cpp, built only for AArch64 with
// -march=armv8.2-a+dotprod). Call only through the neon kernel table (isa_level() ==
// Neon, which requires the dot product extension), so a plain ARMv8.0 CPU never runs them.
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"

namespace qwen3::neon {

// The plain-row matmul tile of a type: NEON for F32, F16, BF16, Q4_0, Q8_0, Q4_K and
// Q6_K, the scalar reference tile for the other types.
detail::TileFn tile(GgmlType t);

// Activation quantizers (the same bytes as the reference ones).
void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace qwen3::neon
