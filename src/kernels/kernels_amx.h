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

}  // namespace qwen3::amx
