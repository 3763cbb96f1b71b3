#include "model/hf_config.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/file_bytes.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(const std::string& src, const std::string& what) {
  throw HfConfigError(src + ": " + what);
}

json parse_object(const std::string& text, const std::string& src) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(src, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(src, "must be a JSON object");
  return j;
}

bool present(const json& j, const char* key) {
  return j.contains(key) && !j[key].is_null();
}

int64_t get_int(const json& j, const char* key, const std::string& src, int64_t lo, int64_t hi) {
  if (!present(j, key)) fail(src, std::string("missing field '") + key + "'");
  const json& v = j[key];
  if (!v.is_number_integer()) fail(src, std::string("'") + key + "' must be an integer");
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    fail(src, std::string("'") + key + "' = " + std::to_string(x) + " is out of range [" +
                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

double get_num(const json& j, const char* key, const std::string& src) {
  const json& v = j[key];
  if (!v.is_number()) fail(src, std::string("'") + key + "' must be a number");
  return v.get<double>();
}

std::optional<double> opt_num(const json& j, const char* key, const std::string& src) {
  if (!present(j, key)) return std::nullopt;
  return get_num(j, key, src);
}

std::optional<int64_t> opt_int(const json& j, const char* key, const std::string& src) {
  if (!present(j, key)) return std::nullopt;
  if (!j[key].is_number_integer()) fail(src, std::string("'") + key + "' must be an integer");
  return j[key].get<int64_t>();
}

std::optional<int32_t> opt_token(const json& j, const char* key, const std::string& src) {
  auto v = opt_int(j, key, src);
  if (!v) return std::nullopt;
  if (*v < 0 || *v > INT32_MAX) fail(src, std::string("'") + key + "' is not a valid token id");
  return static_cast<int32_t>(*v);
}

// eos_token_id is an int or a list of ints.
std::vector<int32_t> token_list(const json& j, const char* key, const std::string& src) {
  std::vector<int32_t> out;
  if (!present(j, key)) return out;
  const json& v = j[key];
  auto one = [&](const json& x) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
      fail(src, std::string("'") + key + "' must hold token ids");
    out.push_back(x.get<int32_t>());
  };
  if (v.is_array())
    for (const auto& x : v) one(x);
  else
    one(v);
  return out;
}

std::string read_text(const fs::path& p) {
  std::optional<std::string> bytes = read_file_bytes(p);
  if (!bytes) throw HfConfigError(p.string() + ": cannot open");
  return std::move(*bytes);
}

}  // namespace

// Qwen3VLForConditionalGeneration: text_config read as a Qwen3ForCausalLM config.json
// (tie_word_embeddings may stand at the top level, as the releases write it), plus what
// llama.cpp's Qwen3VLTextModel writes: rope.dimension_sections (mrope_section padded with
// zeros to 4) and n_deepstack_layers (the number of deepstack_visual_indexes).
static HfModelConfig parse_vl_text(const json& j, const std::string& src) {
  if (!present(j, "text_config") || !j["text_config"].is_object())
    fail(src, "Qwen3VLForConditionalGeneration needs a 'text_config' object");
  json t = j["text_config"];
  t["architectures"] = json::array({"Qwen3ForCausalLM"});
  if (present(j, "tie_word_embeddings")) t["tie_word_embeddings"] = j["tie_word_embeddings"];
  const std::string tsrc = src + " text_config";
  std::vector<int32_t> sections;
  if (present(t, "rope_scaling") && t["rope_scaling"].is_object()) {
    json& rs = t["rope_scaling"];
    if (present(rs, "mrope_section")) {
      if (!rs["mrope_section"].is_array() || rs["mrope_section"].size() > 4)
        fail(tsrc, "'rope_scaling.mrope_section' must be an array of at most 4 integers");
      for (const auto& x : rs["mrope_section"]) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 1 << 16)
          fail(tsrc, "'rope_scaling.mrope_section' must hold integers >= 0");
        sections.push_back(x.get<int32_t>());
      }
    }
    if (!rs.contains("rope_type") && !rs.contains("type")) rs["rope_type"] = "default";
  }
  if (sections.empty()) fail(tsrc, "missing 'rope_scaling.mrope_section' (the M-RoPE sections)");
  HfModelConfig c = parse_hf_config(t.dump(), tsrc, HfConfigUse::kRun);
  int64_t sum = 0;
  for (int32_t s : sections) sum += s;
  if (sum > c.head_dim / 2)
    fail(tsrc, "'rope_scaling.mrope_section' sums to " + std::to_string(sum) +
                   ", more than head_dim / 2 = " + std::to_string(c.head_dim / 2));
  sections.resize(4, 0);
  c.architecture = "Qwen3VLForConditionalGeneration";
  c.vl = true;
  c.mrope_sections = sections;
  if (!present(j, "vision_config") || !j["vision_config"].is_object())
    fail(src, "Qwen3VLForConditionalGeneration needs a 'vision_config' object");
  const json& v = j["vision_config"];
  if (present(v, "deepstack_visual_indexes")) {
    if (!v["deepstack_visual_indexes"].is_array())
      fail(src, "'vision_config.deepstack_visual_indexes' must be an array");
    c.n_deepstack_layers = static_cast<int64_t>(v["deepstack_visual_indexes"].size());
  }
  return c;
}

HfModelConfig parse_hf_config(const std::string& text, const std::string& src, HfConfigUse use) {
  const json j = parse_object(text, src);
  const bool run = use == HfConfigUse::kRun;
  HfModelConfig c;
  const bool has_arch = present(j, "architectures") && j["architectures"].is_array() &&
                        !j["architectures"].empty() && j["architectures"][0].is_string();
  if (!has_arch && run) fail(src, "missing 'architectures' (expected [\"Qwen3ForCausalLM\"])");
  if (has_arch) c.architecture = j["architectures"][0].get<std::string>();
  if (run && c.architecture == "Qwen3VLForConditionalGeneration") return parse_vl_text(j, src);
  if (run && c.architecture != "Qwen3ForCausalLM" && c.architecture != "Qwen3MoeForCausalLM")
    fail(src, "architecture '" + c.architecture +
                  "' is not supported (Qwen3ForCausalLM and Qwen3MoeForCausalLM only)");
  if (present(j, "_name_or_path") && j["_name_or_path"].is_string())
    c.name_or_path = j["_name_or_path"].get<std::string>();

  constexpr int64_t kBig = int64_t(1) << 31;
  c.vocab_size = get_int(j, "vocab_size", src, 1, kBig);
  c.hidden_size = get_int(j, "hidden_size", src, 1, 1 << 20);
  c.intermediate_size = get_int(j, "intermediate_size", src, 1, 1 << 22);
  c.num_hidden_layers = get_int(j, "num_hidden_layers", src, 1, 4096);
  c.num_attention_heads = get_int(j, "num_attention_heads", src, 1, 4096);
  c.num_key_value_heads = present(j, "num_key_value_heads")
                              ? get_int(j, "num_key_value_heads", src, 1, 4096)
                              : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(src, "num_attention_heads must be a multiple of num_key_value_heads");
  if (present(j, "head_dim")) {
    c.head_dim = get_int(j, "head_dim", src, 2, 1 << 16);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      fail(src, "no 'head_dim' and hidden_size is not a multiple of num_attention_heads");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) fail(src, "'head_dim' must be even (rotary pairs)");
  c.max_position_embeddings = present(j, "max_position_embeddings")
                                  ? get_int(j, "max_position_embeddings", src, 1, kBig)
                                  : 32768;
  if (present(j, "rope_theta")) c.rope_theta = get_num(j, "rope_theta", src);
  if (!(c.rope_theta > 0)) fail(src, "'rope_theta' must be > 0");
  if (present(j, "rms_norm_eps")) c.rms_norm_eps = get_num(j, "rms_norm_eps", src);
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) fail(src, "'rms_norm_eps' must be in (0, 1)");
  if (present(j, "tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean())
      fail(src, "'tie_word_embeddings' must be a boolean");
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  if (present(j, "torch_dtype") && j["torch_dtype"].is_string())
    c.torch_dtype = j["torch_dtype"].get<std::string>();
  c.bos_token_id = opt_token(j, "bos_token_id", src);
  c.eos_token_ids = token_list(j, "eos_token_id", src);

  // Variations of the architecture this runtime does not implement.
  if (run && present(j, "attention_bias") && j["attention_bias"] == true)
    fail(src, "'attention_bias': true is not supported (Qwen3 has no attention bias)");
  if (run && present(j, "use_sliding_window") && j["use_sliding_window"] == true)
    fail(src, "'use_sliding_window': true is not supported");
  if (run && present(j, "hidden_act") && j["hidden_act"] != "silu")
    fail(src, "'hidden_act' must be \"silu\"");

  if (run ? c.architecture == "Qwen3MoeForCausalLM" : present(j, "num_experts")) {
    c.num_experts = get_int(j, "num_experts", src, 1, 4096);
    c.num_experts_per_tok = get_int(j, "num_experts_per_tok", src, 1, c.num_experts);
    c.moe_intermediate_size = get_int(j, "moe_intermediate_size", src, 1, 1 << 22);
    if (present(j, "norm_topk_prob")) {
      if (!j["norm_topk_prob"].is_boolean()) fail(src, "'norm_topk_prob' must be a boolean");
      c.norm_topk_prob = j["norm_topk_prob"].get<bool>();
    } else {
      c.norm_topk_prob = false;  // transformers' Qwen3MoeConfig default
    }
    if (run && present(j, "decoder_sparse_step") &&
        get_int(j, "decoder_sparse_step", src, 0, 4096) != 1)
      fail(src,
           "'decoder_sparse_step' other than 1 (dense MLP blocks between the MoE blocks) "
           "is not supported");
    if (run && present(j, "mlp_only_layers")) {
      if (!j["mlp_only_layers"].is_array()) fail(src, "'mlp_only_layers' must be an array");
      if (!j["mlp_only_layers"].empty())
        fail(src, "'mlp_only_layers' (dense MLP blocks in a MoE model) is not supported");
    }
    if (run && present(j, "shared_expert_intermediate_size") &&
        j["shared_expert_intermediate_size"] != 0)
      fail(src, "'shared_expert_intermediate_size': shared experts are not part of Qwen3 MoE");
  }

  if (run && present(j, "rope_scaling")) {
    const json& rs = j["rope_scaling"];
    if (!rs.is_object()) fail(src, "'rope_scaling' must be an object or null");
    RopeScaling s;
    const char* tkey = rs.contains("rope_type") ? "rope_type" : "type";
    if (!rs.contains(tkey) || !rs[tkey].is_string())
      fail(src, "'rope_scaling' needs a string 'rope_type'");
    s.type = rs[tkey].get<std::string>();
    if (s.type != "default") {
      if (s.type != "yarn")
        fail(src, "'rope_scaling' type '" + s.type + "' is not supported (only \"yarn\")");
      if (!present(rs, "factor") || !rs["factor"].is_number() || !(rs["factor"].get<double>() >= 1))
        fail(src, "'rope_scaling.factor' must be a number >= 1");
      s.factor = rs["factor"].get<double>();
      s.original_max_position_embeddings =
          present(rs, "original_max_position_embeddings")
              ? get_int(rs, "original_max_position_embeddings", src + " rope_scaling", 1, kBig)
              : c.max_position_embeddings;
      c.rope_scaling = s;
    }
  }
  return c;
}

HfModelConfig from_qwen3_config(const Qwen3Config& c) {
  HfModelConfig h;
  h.architecture = "Qwen3ForCausalLM";
  h.vocab_size = c.n_vocab;
  h.hidden_size = c.n_embd;
  h.intermediate_size = c.n_ff;
  h.num_hidden_layers = c.n_layers;
  h.num_attention_heads = c.n_head;
  h.num_key_value_heads = c.n_head_kv;
  h.head_dim = c.head_dim;
  h.max_position_embeddings = c.n_ctx_train;
  h.rope_theta = c.rope_theta;
  h.rms_norm_eps = c.rms_eps;
  h.tie_word_embeddings = c.tied_embeddings;
  if (c.is_moe()) {
    h.architecture = "Qwen3MoeForCausalLM";
    h.num_experts = c.n_expert;
    h.num_experts_per_tok = c.n_expert_used;
    h.moe_intermediate_size = c.n_ff_exp;
    h.norm_topk_prob = c.norm_topk_prob;
  }
  if (c.has_yarn()) h.rope_scaling = RopeScaling{"yarn", c.yarn_factor, c.yarn_orig_ctx};
  return h;
}

Qwen3Config to_qwen3_config(const HfModelConfig& c, const std::string& name) {
  Qwen3Config q;
  q.name = name;
  q.n_layers = static_cast<int>(c.num_hidden_layers);
  q.n_embd = static_cast<int>(c.hidden_size);
  q.n_head = static_cast<int>(c.num_attention_heads);
  q.n_head_kv = static_cast<int>(c.num_key_value_heads);
  q.head_dim = static_cast<int>(c.head_dim);
  q.n_ff = static_cast<int>(c.intermediate_size);
  q.n_vocab = static_cast<int>(c.vocab_size);
  q.n_ctx_train = static_cast<int>(c.max_position_embeddings);
  q.rope_theta = static_cast<float>(c.rope_theta);
  q.rms_eps = static_cast<float>(c.rms_norm_eps);
  q.tied_embeddings = c.tie_word_embeddings;
  if (c.is_moe()) {
    q.arch = "qwen3moe";
    q.n_expert = static_cast<int>(c.num_experts);
    q.n_expert_used = static_cast<int>(c.num_experts_per_tok);
    q.n_ff_exp = static_cast<int>(c.moe_intermediate_size);
    q.norm_topk_prob = c.norm_topk_prob;
  }
  if (c.rope_scaling && c.rope_scaling->factor > 1.0) {
    q.yarn_factor = static_cast<float>(c.rope_scaling->factor);
    q.yarn_orig_ctx = static_cast<int>(c.rope_scaling->original_max_position_embeddings);
  }
  return q;
}

HfGenerationDefaults parse_generation_config(const std::string& text, const std::string& src) {
  const json j = parse_object(text, src);
  HfGenerationDefaults g;
  if (present(j, "do_sample")) {
    if (!j["do_sample"].is_boolean()) fail(src, "'do_sample' must be a boolean");
    g.do_sample = j["do_sample"].get<bool>();
  }
  g.temperature = opt_num(j, "temperature", src);
  g.top_p = opt_num(j, "top_p", src);
  g.top_k = opt_int(j, "top_k", src);
  g.min_p = opt_num(j, "min_p", src);
  g.repetition_penalty = opt_num(j, "repetition_penalty", src);
  g.presence_penalty = opt_num(j, "presence_penalty", src);
  g.max_new_tokens = opt_int(j, "max_new_tokens", src);
  if (g.temperature && *g.temperature < 0) fail(src, "'temperature' must be >= 0");
  if (g.top_p && !(*g.top_p > 0 && *g.top_p <= 1)) fail(src, "'top_p' must be in (0, 1]");
  if (g.top_k && *g.top_k < 0) fail(src, "'top_k' must be >= 0");
  if (g.min_p && !(*g.min_p >= 0 && *g.min_p <= 1)) fail(src, "'min_p' must be in [0, 1]");
  if (g.repetition_penalty && !(*g.repetition_penalty > 0))
    fail(src, "'repetition_penalty' must be > 0");
  if (g.presence_penalty && !(std::fabs(*g.presence_penalty) <= 2))
    fail(src, "'presence_penalty' must be in [-2, 2]");
  if (g.max_new_tokens && *g.max_new_tokens < 0) fail(src, "'max_new_tokens' must be >= 0");
  g.bos_token_id = opt_token(j, "bos_token_id", src);
  g.pad_token_id = opt_token(j, "pad_token_id", src);
  g.eos_token_ids = token_list(j, "eos_token_id", src);
  return g;
}

ModelSamplingDefaults HfGenerationDefaults::engine_defaults() const {
  ModelSamplingDefaults d = as<ModelSamplingDefaults>();
  if (do_sample && !*do_sample) d.temperature = 0.0f;
  return d;
}

HfModelConfig read_hf_config(const std::string& folder, HfConfigUse use) {
  const fs::path p = fs::path(folder) / "config.json";
  return parse_hf_config(read_text(p), p.string(), use);
}

HfGenerationDefaults read_generation_config(const std::string& folder) {
  const fs::path p = fs::path(folder) / "generation_config.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};
  return parse_generation_config(read_text(p), p.string());
}

bool is_hf_model_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "config.json", ec);
}

}  // namespace qwen3::hf
