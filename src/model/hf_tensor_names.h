// Hugging Face Qwen3 tensor names <-> GGUF tensor names (llama.cpp's convention).
// Qwen3 uses NEOX (rotate-half) RoPE, so q/k weights are copied without the row
// permutation llama.cpp applies to LLaMA checkpoints.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qwen3::hf {

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; nullopt for a name
// that is not a Qwen3 weight.
std::optional<std::string> gguf_name_for(std::string_view hf_name);
// The inverse: "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight".
std::optional<std::string> hf_name_for(std::string_view gguf_name);

}  // namespace qwen3::hf
