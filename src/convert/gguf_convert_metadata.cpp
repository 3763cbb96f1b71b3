#include "convert/gguf_convert_metadata.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <vector>

#include "text/tokenizer.h"

namespace qwen3::hf {
namespace {

using nlohmann::json;

constexpr uint32_t kQuantVersion = 2;  // GGML_QNT_VERSION
constexpr int32_t kTokenUnused = 5;    // gguf TokenType.UNUSED

// tokenizer_config.json special-token fields are a string or {"content": ...}.
std::optional<std::string> special_text(const json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return std::nullopt;
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

uint32_t u32(int64_t v, const char* what) {
  if (v < 0 || v > static_cast<int64_t>(UINT32_MAX))
    throw std::invalid_argument(std::string(what) + " does not fit a GGUF uint32");
  return static_cast<uint32_t>(v);
}

}  // namespace

void set_model_metadata(gguf::GgufWriter& w, const HfModelConfig& c, const std::string& name,
                        uint32_t file_type) {
  const std::string arch =
      c.vl ? (c.is_moe() ? "qwen3vlmoe" : "qwen3vl") : (c.is_moe() ? "qwen3moe" : "qwen3");
  const std::string a = arch + ".";  // llama.cpp's arch keys
  w.set_string("general.architecture", arch);
  w.set_string("general.type", "model");
  w.set_string("general.name", name);
  w.set_u32(a + "block_count", u32(c.num_hidden_layers, "num_hidden_layers"));
  w.set_u32(a + "context_length", u32(c.max_position_embeddings, "max_position_embeddings"));
  w.set_u32(a + "embedding_length", u32(c.hidden_size, "hidden_size"));
  w.set_u32(a + "feed_forward_length", u32(c.intermediate_size, "intermediate_size"));
  w.set_u32(a + "attention.head_count", u32(c.num_attention_heads, "num_attention_heads"));
  w.set_u32(a + "attention.head_count_kv", u32(c.num_key_value_heads, "num_key_value_heads"));
  w.set_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w.set_u32(a + "attention.key_length", u32(c.head_dim, "head_dim"));
  w.set_u32(a + "attention.value_length", u32(c.head_dim, "head_dim"));
  if (c.is_moe()) {
    w.set_u32(a + "expert_count", u32(c.num_experts, "num_experts"));
    w.set_u32(a + "expert_used_count", u32(c.num_experts_per_tok, "num_experts_per_tok"));
    w.set_u32(a + "expert_feed_forward_length",
              u32(c.moe_intermediate_size, "moe_intermediate_size"));
  }
  if (c.vl) {  // llama.cpp's Qwen3VLTextModel
    w.set_u32(a + "n_deepstack_layers", u32(c.n_deepstack_layers, "deepstack_visual_indexes"));
    w.set_int32_array(a + "rope.dimension_sections", c.mrope_sections);
  }
  if (c.rope_scaling) {
    w.set_string(a + "rope.scaling.type", c.rope_scaling->type);
    w.set_f32(a + "rope.scaling.factor", static_cast<float>(c.rope_scaling->factor));
    w.set_u32(
        a + "rope.scaling.original_context_length",
        u32(c.rope_scaling->original_max_position_embeddings, "original_max_position_embeddings"));
  }
  w.set_u32("general.file_type", file_type);
  w.set_u32("general.quantization_version", kQuantVersion);
}

void set_tokenizer_metadata(gguf::GgufWriter& w, const Tokenizer& tok, int64_t n_vocab,
                            const std::string& tokenizer_config_json, const HfModelConfig& c) {
  std::vector<std::string> tokens = tok.vocab_strings();
  std::vector<int32_t> types = tok.token_types();
  if (static_cast<int64_t>(tokens.size()) > n_vocab)
    throw std::runtime_error("the tokenizer has " + std::to_string(tokens.size()) +
                             " tokens, more than vocab_size " + std::to_string(n_vocab));
  // convert_hf_to_gguf.py pads the vocabulary to the embedding's row count.
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < n_vocab; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    types.push_back(kTokenUnused);
  }
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_int32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", tok.merges());

  json cfg = json::object();
  if (!tokenizer_config_json.empty()) {
    try {
      cfg = json::parse(tokenizer_config_json);
    } catch (const json::exception& e) {
      throw std::runtime_error(std::string("tokenizer_config.json is not valid JSON: ") + e.what());
    }
  }
  auto id_of = [&](const char* key) -> std::optional<int32_t> {
    auto text = special_text(cfg, key);
    if (!text) return std::nullopt;
    auto id = tok.token_id(*text);
    if (!id)
      throw std::runtime_error(std::string("tokenizer_config.json ") + key + " '" + *text +
                               "' is not a token of tokenizer.json");
    return id;
  };
  const int32_t eos = id_of("eos_token").value_or(tok.im_end_id());
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
  if (auto pad = id_of("pad_token")) w.set_u32("tokenizer.ggml.padding_token_id", *pad);
  if (auto bos = id_of("bos_token"))
    w.set_u32("tokenizer.ggml.bos_token_id", *bos);
  else if (c.bos_token_id)
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*c.bos_token_id));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  if (!tok.chat_template().empty()) w.set_string("tokenizer.chat_template", tok.chat_template());
}

void set_sampling_metadata(gguf::GgufWriter& w, const HfGenerationDefaults& g) {
  const ModelSamplingDefaults d = g.engine_defaults();  // do_sample false: temp 0
  if (d.top_k) w.set_i32("general.sampling.top_k", static_cast<int32_t>(*d.top_k));
  if (d.top_p) w.set_f32("general.sampling.top_p", *d.top_p);
  if (d.min_p) w.set_f32("general.sampling.min_p", *d.min_p);
  if (d.temperature) w.set_f32("general.sampling.temp", *d.temperature);
  if (d.repetition_penalty) w.set_f32("general.sampling.penalty_repeat", *d.repetition_penalty);
}

}  // namespace qwen3::hf
