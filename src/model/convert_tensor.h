// Converts a tensor's rows between ggml types (F32/F16/BF16 sources; any type the
// kernels quantize to), one row at a time through F32, with the kernels' reference
// quantizers. Same type in and out is a plain copy, so BF16 -> BF16 stays bit-exact.
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"

namespace qwen3::hf {

// n_threads 0 = physical cores. Throws std::invalid_argument if row_len does not fit
// the destination block size or a type is not supported.
void convert_rows(GgmlType src_type, const void* src, GgmlType dst_type, void* dst, int64_t row_len,
                  int64_t n_rows, int n_threads = 0);

}  // namespace qwen3::hf
