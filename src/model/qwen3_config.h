// Qwen3 model shapes: named presets (a data table, as in gemma.cpp's configs) and the
// config read from GGUF metadata, checked for consistency.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qwen3 {
namespace gguf {
class GgufFile;
}

struct Qwen3Config {
  std::string arch = "qwen3";
  std::string name;  // general.name or the preset name
  int n_layers = 0;
  int n_embd = 0;     // hidden size
  int n_head = 0;     // query heads
  int n_head_kv = 0;  // key/value heads (GQA)
  int head_dim = 0;
  int n_ff = 0;  // MLP intermediate size
  int n_vocab = 0;
  int n_ctx_train = 0;  // the model's maximum context
  float rope_theta = 1000000.0f;
  float rms_eps = 1e-6f;
  bool tied_embeddings = true;  // lm_head shares token_embd (no output.weight)
  // Mixture of experts (arch "qwen3moe"): every block's MLP is n_expert SwiGLU experts of
  // n_ff_exp rows, of which a softmax router picks n_expert_used per token. n_expert 0 =
  // the dense Qwen3 MLP of n_ff rows.
  int n_expert = 0;
  int n_expert_used = 0;
  int n_ff_exp = 0;
  bool norm_topk_prob = true;  // renormalise the chosen experts' weights to sum 1
  // YaRN context extension (rope_scaling type "yarn"): factor > 1 turns it on.
  float yarn_factor = 0.0f;  // 0 = no rope scaling
  int yarn_orig_ctx = 0;     // original_max_position_embeddings
  // The text half of Qwen3-VL (GGUF arch "qwen3vl" / "qwen3vlmoe", loaded as qwen3 /
  // qwen3moe: same tensors): DeepStack layers fed by the vision encoder (-1: not a VL
  // model) and the interleaved M-RoPE sections (t, h, w, unused). Text positions use one
  // value for all sections, which is plain NEOX RoPE: text-only prompts run unchanged.
  int vl_deepstack_layers = -1;
  std::vector<int> mrope_sections;
  bool is_vl() const { return vl_deepstack_layers >= 0; }

  int q_dim() const { return n_head * head_dim; }
  int kv_dim() const { return n_head_kv * head_dim; }
  bool is_moe() const { return n_expert > 0; }
  bool has_yarn() const { return yarn_factor > 1.0f; }
  // The longest context the model runs: n_ctx_train, or original context x factor with YaRN.
  int max_context() const;

  // Total parameter count estimated from the shapes (embedding, attention with q/k norms,
  // dense or expert MLPs with the router, norms, lm_head unless tied). The one estimator:
  // the device rules and the presets' model-card sizes both come from it.
  double n_params() const;

  // Throws std::invalid_argument naming the offending field.
  void validate() const;

  // Presets: "tiny", "0.6b", "1.7b", "4b", "8b", "14b", "32b", "tiny-moe", "30b-a3b",
  // "235b-a22b". Throws std::invalid_argument otherwise.
  static Qwen3Config preset(std::string_view name);
  static std::vector<std::string> preset_names();
  // The presets of released dense models ("0.6b" ... "32b"), without the test shapes.
  static std::vector<std::string> released_dense_preset_names();
  static Qwen3Config tiny();
  static Qwen3Config qwen3_0_6b();
  static Qwen3Config qwen3_1_7b();
  static Qwen3Config qwen3_4b();
  static Qwen3Config qwen3_8b();

  // From the qwen3.* or qwen3moe.* metadata keys. Other architectures -> std::runtime_error
  // "unsupported architecture". Shapes are checked against the tensors later by the loader;
  // tied_embeddings is derived from the absence of output.weight.
  static Qwen3Config from_gguf(const gguf::GgufFile& f);
};

}  // namespace qwen3
