// The element type of a KV cache: a fact of its own, shared by the cache, the forward
// pass, the inference context and the engine options, so none needs the others' headers.
#pragma once

namespace qwen3 {

enum class KvType { F16, F32 };

}  // namespace qwen3
