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

// Row operations (ops_avx512.cpp): the bits of the AVX2 versions, 16 lanes a step.
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);
void scale(float* x, float s, int64_t n);
void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin);

}  // namespace qwen3::avx512
