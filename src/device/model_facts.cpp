#include "device/model_facts.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace qwen3::device {

std::string_view to_string(WeightFormat w) {
  switch (w) {
    case WeightFormat::Unknown:
      return "unknown";
    case WeightFormat::Int4:
      return "int4";
    case WeightFormat::Nf4:
      return "nf4";
    case WeightFormat::Int8:
      return "int8";
    case WeightFormat::Fp16:
      return "fp16";
    case WeightFormat::Gguf:
      return "gguf";
  }
  return "?";
}

namespace {

struct PresetRow {
  const char* name;
  double params;
  int layers;
};

// Qwen3 dense family: 8 KV heads of 128 for all sizes; 40,960 positions in config.json.
// Parameter counts are the model cards' totals.
constexpr PresetRow kPresets[] = {
    {"0.6b", 0.6, 28}, {"1.7b", 1.7, 28}, {"4b", 4.0, 36},
    {"8b", 8.2, 36},   {"14b", 14.8, 40}, {"32b", 32.8, 64},
};

double estimate_params(int layers, int hidden, int heads, int kv_heads, int head_dim, int ffn,
                       int vocab, bool tied) {
  const double q = double(heads) * head_dim, kv = double(kv_heads) * head_dim;
  const double attn = hidden * q + 2 * hidden * kv + q * hidden + 2.0 * head_dim;
  const double mlp = 3.0 * hidden * ffn;
  const double per_layer = attn + mlp + 2.0 * hidden;
  const double embed = double(vocab) * hidden * (tied ? 1 : 2);
  return (layers * per_layer + embed + hidden) / 1e9;
}

int get_int(const nlohmann::json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0)
    throw std::runtime_error(file + ": missing or invalid positive integer '" + key + "'");
  return static_cast<int>(it->get<int64_t>());
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(p.string() + ": invalid JSON: " + e.what());
  }
}

}  // namespace

std::vector<std::string> model_preset_names() {
  std::vector<std::string> out;
  for (const auto& r : kPresets) out.push_back(r.name);
  return out;
}

ModelFacts model_preset(std::string_view name) {
  for (const auto& r : kPresets) {
    if (name != r.name) continue;
    ModelFacts f;
    f.name = std::string("Qwen3-") + r.name;
    f.params_billion = r.params;
    f.n_layers = r.layers;
    f.n_kv_heads = 8;
    f.head_dim = 128;
    f.n_ctx_train = 40960;
    f.weights = WeightFormat::Int4;
    f.symmetric = true;
    f.group_size = r.params > 4.0 ? -1 : 128;
    return f;
  }
  std::string names;
  for (const auto& n : model_preset_names()) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown model preset '" + std::string(name) + "' (known: " + names +
                              ")");
}

ModelFacts facts_from_model_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path cfg_path = fs::path(dir) / "config.json";
  if (!fs::is_regular_file(cfg_path))
    throw std::runtime_error(dir + ": no config.json (expected a Hugging Face or OpenVINO " +
                             "model folder)");
  const nlohmann::json cfg = read_json(cfg_path);
  if (!cfg.is_object()) throw std::runtime_error(cfg_path.string() + ": not a JSON object");
  const std::string file = cfg_path.string();
  ModelFacts f;
  f.name = cfg.value("_name_or_path", fs::path(dir).filename().string());
  f.n_layers = get_int(cfg, "num_hidden_layers", file);
  const int hidden = get_int(cfg, "hidden_size", file);
  const int heads = get_int(cfg, "num_attention_heads", file);
  f.n_kv_heads =
      cfg.contains("num_key_value_heads") ? get_int(cfg, "num_key_value_heads", file) : heads;
  f.head_dim = cfg.contains("head_dim") ? get_int(cfg, "head_dim", file) : hidden / heads;
  f.n_ctx_train = get_int(cfg, "max_position_embeddings", file);
  const int ffn = get_int(cfg, "intermediate_size", file);
  const int vocab = get_int(cfg, "vocab_size", file);
  const bool tied = cfg.value("tie_word_embeddings", false);
  f.params_billion =
      estimate_params(f.n_layers, hidden, heads, f.n_kv_heads, f.head_dim, ffn, vocab, tied);

  // optimum-cli writes the weight compression it applied into openvino_config.json.
  const fs::path ov_path = fs::path(dir) / "openvino_config.json";
  if (fs::is_regular_file(ov_path)) {
    const nlohmann::json ov = read_json(ov_path);
    const nlohmann::json q =
        ov.is_object() ? ov.value("quantization_config", nlohmann::json()) : nlohmann::json();
    if (q.is_object()) {
      const std::string dtype = ov.value("dtype", std::string());
      const int bits = q.value("bits", 0);
      if (dtype == "nf4")
        f.weights = WeightFormat::Nf4;
      else if (bits == 4)
        f.weights = WeightFormat::Int4;
      else if (bits == 8)
        f.weights = WeightFormat::Int8;
      if (q.contains("sym") && q["sym"].is_boolean()) f.symmetric = q["sym"].get<bool>();
      if (q.contains("group_size") && q["group_size"].is_number_integer())
        f.group_size = q["group_size"].get<int>();
    }
  }
  return f;
}

void apply_quant_spec(ModelFacts& f, std::string_view spec) {
  if (spec == "int4-sym" || spec == "int4-asym") {
    f.weights = WeightFormat::Int4;
    f.symmetric = spec == "int4-sym";
  } else if (spec == "nf4") {
    f.weights = WeightFormat::Nf4;
    f.symmetric = true;
  } else if (spec == "int8") {
    f.weights = WeightFormat::Int8;
  } else if (spec == "fp16") {
    f.weights = WeightFormat::Fp16;
  } else {
    throw std::invalid_argument("unknown weight quantization '" + std::string(spec) +
                                "' (known: int4-sym, int4-asym, nf4, int8, fp16)");
  }
}

}  // namespace qwen3::device
