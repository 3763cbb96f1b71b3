// The names of a KV cache's element type (the enum itself is kernels/kv_element.h, which
// the paged attention reads too), shared by the cache, the forward pass, the inference
// context and the engine options, so none needs the others' headers. The names ("f16", "f32", "q8_0") are defined here once: every option that takes a KV
// type (the `kv_type` pipeline property, `qwen3 ... --kv-type`) parses them with
// parse_kv_type and prints them with kv_type_name.
//   f16   the default: 2 bytes per element.
//   f32   4 bytes per element (tests, references).
//   q8_0  ggml's q8_0 (llama.cpp `-ctk q8_0 -ctv q8_0`): per 32 consecutive elements of
//         one head's row, int8 quants and one fp16 scale, 1.0625 bytes per element; the
//         attention dequantizes on load (model/kv_cache.h has the block layout).
#pragma once

#include <string>

#include "kernels/kv_element.h"  // enum class KvType

namespace qwen3 {

// "f16", "f32", "q8_0".
const char* kv_type_name(KvType t);
// The inverse of kv_type_name; std::invalid_argument naming the valid ones otherwise.
KvType parse_kv_type(const std::string& name);
// "f16|q8_0|f32": for option help texts and error messages.
const char* kv_type_names();

}  // namespace qwen3
