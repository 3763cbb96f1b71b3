// The dims of the small models the tests generate, given once as one ordered list (layers,
// width, query heads, KV heads, head dim, MLP width, vocabulary, context) and set on a
// Qwen3Config (for `gen-model`-style GGUFs) or on a Hugging Face config.json
// (HfModelConfig, for random safetensors checkpoints and tensor-name maps): one table per
// config type says which field each dim is, instead of a field-by-field copy in every test.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/hf_config.h"
#include "model/qwen3_config.h"

namespace qwen3::test {

// {layers, embd, heads, kv_heads, head_dim, ff, vocab, context}.
using Dims = std::array<int64_t, 8>;

// obj.*fields[i] = dims[i] for every dim; the other fields of `obj` are kept.
template <class T, class F>
void set_dims(T& obj, const std::array<F T::*, 8>& fields, const Dims& dims) {
  for (std::size_t i = 0; i < dims.size(); ++i) obj.*fields[i] = static_cast<F>(dims[i]);
}

// The context is n_ctx_train.
inline void set_shape(Qwen3Config& c, const Dims& dims) {
  using Q = Qwen3Config;
  static constexpr std::array<int Q::*, 8> kFields = {&Q::n_layers,  &Q::n_embd,     &Q::n_head,
                                                      &Q::n_head_kv, &Q::head_dim,   &Q::n_ff,
                                                      &Q::n_vocab,   &Q::n_ctx_train};
  set_dims(c, kFields, dims);
}

// A dense model's config.json (the context is max_position_embeddings); the other fields
// keep HfModelConfig's defaults (no architecture, untied).
inline hf::HfModelConfig hf_shape(const Dims& dims) {
  using H = hf::HfModelConfig;
  static constexpr std::array<int64_t H::*, 8> kFields = {&H::num_hidden_layers,
                                                          &H::hidden_size,
                                                          &H::num_attention_heads,
                                                          &H::num_key_value_heads,
                                                          &H::head_dim,
                                                          &H::intermediate_size,
                                                          &H::vocab_size,
                                                          &H::max_position_embeddings};
  H c;
  set_dims(c, kFields, dims);
  return c;
}

}  // namespace qwen3::test
