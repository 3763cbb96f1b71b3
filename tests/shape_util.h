// The dims of the small models the tests generate, given once as one ordered list (layers,
// width, query heads, KV heads, head dim, MLP width, vocabulary, context) and set on a
// Qwen3Config (for `gen-model`-style GGUFs) or on a Hugging Face config.json
// (HfModelConfig, for random safetensors checkpoints and tensor-name maps), or read back
// from a config.json to compare in one assertion: one table per config type says which
// field each dim is, instead of a field-by-field copy in every test.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/hf_config.h"
#include "model/qwen3_config.h"

namespace qwen3::test {

// {layers, embd, heads, kv_heads, head_dim, ff, vocab, context}.
using Dims = std::array<int64_t, 8>;

// Which field of each config type each dim is.
inline constexpr std::array<int Qwen3Config::*, 8> kQwen3Fields = {
    &Qwen3Config::n_layers, &Qwen3Config::n_embd, &Qwen3Config::n_head,  &Qwen3Config::n_head_kv,
    &Qwen3Config::head_dim, &Qwen3Config::n_ff,   &Qwen3Config::n_vocab, &Qwen3Config::n_ctx_train};
inline constexpr std::array<int64_t hf::HfModelConfig::*, 8> kHfFields = {
    &hf::HfModelConfig::num_hidden_layers,
    &hf::HfModelConfig::hidden_size,
    &hf::HfModelConfig::num_attention_heads,
    &hf::HfModelConfig::num_key_value_heads,
    &hf::HfModelConfig::head_dim,
    &hf::HfModelConfig::intermediate_size,
    &hf::HfModelConfig::vocab_size,
    &hf::HfModelConfig::max_position_embeddings};

// obj.*fields[i] = dims[i] for every dim; the other fields of `obj` are kept.
template <class T, class F>
void set_dims(T& obj, const std::array<F T::*, 8>& fields, const Dims& dims) {
  for (std::size_t i = 0; i < dims.size(); ++i) obj.*fields[i] = static_cast<F>(dims[i]);
}

// The dims of `obj`, in Dims order.
template <class T, class F>
Dims dims_of(const T& obj, const std::array<F T::*, 8>& fields) {
  Dims d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = obj.*fields[i];
  return d;
}

// The context is n_ctx_train.
inline void set_shape(Qwen3Config& c, const Dims& dims) {
  set_dims(c, kQwen3Fields, dims);
}

// A dense model's config.json (the context is max_position_embeddings); the other fields
// keep HfModelConfig's defaults (no architecture, untied).
inline hf::HfModelConfig hf_shape(const Dims& dims) {
  hf::HfModelConfig c;
  set_dims(c, kHfFields, dims);
  return c;
}

// The dims a config.json states.
inline Dims hf_dims(const hf::HfModelConfig& c) {
  return dims_of(c, kHfFields);
}

}  // namespace qwen3::test
