// The element type of a KV cache's rows: f16, f32 or ggml's q8_0. A kernels-level fact
// (the paged attention reads rows of each type), so it lives here; the model layer's
// kv_type.h adds the names users type (--kv-type, the kv_type property).
#pragma once

namespace qwen3 {

enum class KvType { F16, F32, Q8_0 };

}  // namespace qwen3
