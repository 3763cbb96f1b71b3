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
  f.params_billion = c.n_params() / 1e9;
  f.weights = WeightFormat::Gguf;
  return f;
}

}  // namespace qwen3::device
