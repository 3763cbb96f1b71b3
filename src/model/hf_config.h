// A Hugging Face model folder's config.json and generation_config.json, read and
// checked. Only Qwen3ForCausalLM and Qwen3MoeForCausalLM are accepted (and, for conversion,
// the text half of Qwen3VLForConditionalGeneration); fields this runtime cannot
// honour (attention bias, sliding window, a non-SiLU activation) are clear errors.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/qwen3_config.h"
#include "qwen3/sampling.h"

namespace qwen3::hf {

class HfConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// config.json "rope_scaling" (YaRN for the 131,072-token context).
struct RopeScaling {
  std::string type;  // "yarn" ("rope_type" or the older "type")
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
};

struct HfModelConfig {
  std::string architecture;  // "Qwen3ForCausalLM"
  std::string name_or_path;  // "_name_or_path" (transformers writes the hub id), or empty
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_attention_heads when absent
  int64_t max_position_embeddings = 0;
  double rope_theta = 1e6;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  std::string torch_dtype;  // "bfloat16", "float16", "float32" or empty
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;
  std::optional<RopeScaling> rope_scaling;
  // Qwen3MoeForCausalLM (num_experts > 0): every block's MLP is a mixture of experts
  // (decoder_sparse_step 1, no mlp_only_layers: what the released MoE models use and
  // what llama.cpp's qwen3moe runs; other layouts are an error).
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = true;
  bool is_moe() const { return num_experts > 0; }
  // Qwen3VLForConditionalGeneration: the fields above come from config.json's text_config
  // (the language model, `model.language_model.*`; `model.visual.*` is the mmproj's), and
  // the text GGUF is llama.cpp's architecture qwen3vl with these two facts.
  bool vl = false;
  int64_t n_deepstack_layers = 0;       // len(vision_config.deepstack_visual_indexes)
  std::vector<int32_t> mrope_sections;  // text_config.rope_scaling.mrope_section, padded to 4
};

// Sampling defaults the model's authors ship (generation_config.json), as the JSON holds
// them (qwen3/sampling.h); absent values stay empty so the engine keeps its own defaults.
struct HfGenerationDefaults : SamplingDefaults<double, int64_t> {
  std::optional<bool> do_sample;
  std::optional<int64_t> max_new_tokens;
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> pad_token_id;
  std::vector<int32_t> eos_token_ids;

  // As the engine reads them: floats, and do_sample false = temperature 0 (transformers
  // then decodes greedily whatever the temperature).
  ModelSamplingDefaults engine_defaults() const;
};

// What parse_hf_config insists on. kRun: a model this runtime runs (Qwen3ForCausalLM or
// Qwen3MoeForCausalLM, nothing it cannot honour). kShapesOnly: just the shapes, for the
// device rules, which also describe exports whose config.json has no "architectures" or
// fields this runtime does not implement; MoE fields are read when num_experts is there.
enum class HfConfigUse { kRun, kShapesOnly };

HfModelConfig parse_hf_config(const std::string& json_text,
                              const std::string& source = "config.json",
                              HfConfigUse use = HfConfigUse::kRun);
HfGenerationDefaults parse_generation_config(const std::string& json_text,
                                             const std::string& source = "generation_config.json");

// From a model folder. generation_config.json is optional (empty defaults if absent).
HfModelConfig read_hf_config(const std::string& folder, HfConfigUse use = HfConfigUse::kRun);

// The engine-facing shape of a checked config.json.
Qwen3Config to_qwen3_config(const HfModelConfig& c, const std::string& name = "");
// The inverse: the config.json shape of an engine config (random checkpoints, tests).
HfModelConfig from_qwen3_config(const Qwen3Config& c);
HfGenerationDefaults read_generation_config(const std::string& folder);

// True if `path` is a folder holding config.json (a Hugging Face model folder).
bool is_hf_model_folder(const std::string& path);

}  // namespace qwen3::hf
