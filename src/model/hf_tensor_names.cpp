#include "model/hf_tensor_names.h"

#include <cctype>

namespace qwen3::hf {
namespace {

struct Pair {
  std::string_view hf;
  std::string_view gguf;
};

// Whole-model tensors.
constexpr Pair kGlobal[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// Per-layer tensors, after "model.layers.N." / "blk.N.".
constexpr Pair kLayer[] = {
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate.weight", "ffn_gate_inp.weight"},  // MoE router
};

// MoE experts: "mlp.experts.E.gate_proj.weight" <-> "ffn_gate.E.weight" (one tensor per
// expert, as llama.cpp's older per-expert GGUF names; `qwen3 convert` merges them into
// the 3-D ffn_gate_exps.weight).
constexpr Pair kExpert[] = {
    {"gate_proj.weight", "gate"},
    {"up_proj.weight", "up"},
    {"down_proj.weight", "down"},
};

// Splits "<prefix>N.<rest>" into N and rest; N plain decimal without leading zeros.
bool split_layer(std::string_view name, std::string_view prefix, std::string_view* num,
                 std::string_view* rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  size_t i = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i == 0 || i > 9 || i >= name.size() || name[i] != '.') return false;
  if (i > 1 && name[0] == '0') return false;
  *num = name.substr(0, i);
  *rest = name.substr(i + 1);
  return true;
}

std::optional<std::string> map(std::string_view name, bool to_gguf) {
  for (const auto& p : kGlobal)
    if (name == (to_gguf ? p.hf : p.gguf)) return std::string(to_gguf ? p.gguf : p.hf);
  std::string_view num, rest;
  const std::string_view from_prefix = to_gguf ? "model.layers." : "blk.";
  const std::string_view to_prefix = to_gguf ? "blk." : "model.layers.";
  if (!split_layer(name, from_prefix, &num, &rest)) return std::nullopt;
  for (const auto& p : kLayer)
    if (rest == (to_gguf ? p.hf : p.gguf))
      return std::string(to_prefix) + std::string(num) + "." + std::string(to_gguf ? p.gguf : p.hf);
  const std::string layer = std::string(to_prefix) + std::string(num) + ".";
  std::string_view e, tail;
  if (to_gguf) {
    if (!split_layer(rest, "mlp.experts.", &e, &tail)) return std::nullopt;
    for (const auto& p : kExpert)
      if (tail == p.hf)
        return layer + "ffn_" + std::string(p.gguf) + "." + std::string(e) + ".weight";
    return std::nullopt;
  }
  for (const auto& p : kExpert) {
    const std::string prefix = "ffn_" + std::string(p.gguf) + ".";
    if (split_layer(rest, prefix, &e, &tail) && tail == "weight")
      return layer + "mlp.experts." + std::string(e) + "." + std::string(p.hf);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> gguf_name_for(std::string_view hf_name) {
  return map(hf_name, true);
}
std::optional<std::string> hf_name_for(std::string_view gguf_name) {
  return map(gguf_name, false);
}

}  // namespace qwen3::hf
