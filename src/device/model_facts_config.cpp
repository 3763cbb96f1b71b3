// ModelFacts from a Qwen3Config: only the struct's fields, so this needs no GGUF code.
#include "device/model_facts.h"
#include "model/qwen3_config.h"

namespace qwen3::device {

ModelFacts facts_from_config(const Qwen3Config& c) {
  ModelFacts f;
  f.name = c.name.empty() ? "qwen3" : c.name;
  f.n_layers = c.n_layers;
  f.n_kv_heads = c.n_head_kv;
  f.head_dim = c.head_dim;
  f.n_ctx_train = c.n_ctx_train;
  const double h = c.n_embd, q = c.q_dim(), kv = c.kv_dim();
  const double per_layer = h * q + 2 * h * kv + q * h + 3.0 * h * c.n_ff + 2 * h + 2.0 * c.head_dim;
  const double embed = double(c.n_vocab) * h * (c.tied_embeddings ? 1 : 2);
  f.params_billion = (c.n_layers * per_layer + embed + h) / 1e9;
  f.weights = WeightFormat::Gguf;
  return f;
}

}  // namespace qwen3::device
