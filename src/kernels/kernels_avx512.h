// AVX-512 (F/BW/VL/DQ + VNNI) kernels (defined in *_avx512.cpp, built with those flags).
// Call only through the avx512 kernel table (isa_level() == Avx512).
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"

namespace qwen3::avx512 {

// The rows8 kernel of a type (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K; nullptr otherwise).
detail::Rows8Fn rows8_kernel(GgmlType t);

// Activation quantizers (the same bytes as the reference ones).
void quantize_act_q8(const float* x, detail::ActQ8* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace qwen3::avx512
