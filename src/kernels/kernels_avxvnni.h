// AVX-VNNI kernels (defined in *_avxvnni.cpp, built with -mavxvnni -mavx2 -mfma -mf16c).
// Call only through the avx_vnni kernel table (isa_level() == AvxVnni).
#pragma once

#include "gguf/ggml_types.h"
#include "kernels/matmul_internal.h"

namespace qwen3::avxvnni {

// The rows8 kernel of a type (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K; nullptr otherwise).
detail::Rows8Fn rows8_kernel(GgmlType t);

}  // namespace qwen3::avxvnni
