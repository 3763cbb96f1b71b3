#include "device/model_facts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "common/enum_names.h"
#include "model/hf_config.h"
#include "model/qwen3_config.h"

namespace qwen3::device {

constexpr NamedValue<WeightFormat> kWeightFormatNames[] = {
    {WeightFormat::Unknown, "unknown"}, {WeightFormat::Int4, "int4"}, {WeightFormat::Nf4, "nf4"},
    {WeightFormat::Int8, "int8"},       {WeightFormat::Fp16, "fp16"}, {WeightFormat::Gguf, "gguf"}};

std::string_view to_string(WeightFormat w) {
  return name_of(kWeightFormatNames, w, "?");
}

namespace {

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
  return Qwen3Config::released_dense_preset_names();
}

ModelFacts model_preset(std::string_view name) {
  const std::vector<std::string> names = model_preset_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown model preset '" + std::string(name) +
                                "' (known: " + known + ")");
  }
  // The shapes of the one preset table; the size rounded as the model cards give it
  // (0.6, 1.7, 4.0, 8.2, 14.8, 32.8).
  ModelFacts f = facts_from_config(Qwen3Config::preset(name));
  f.name = std::string("Qwen3-") + std::string(name);
  f.params_billion = std::round(f.params_billion * 10.0) / 10.0;
  f.weights = WeightFormat::Int4;
  f.symmetric = true;
  f.group_size = f.params_billion > 4.0 ? -1 : 128;
  return f;
}

ModelFacts facts_from_model_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path cfg_path = fs::path(dir) / "config.json";
  if (!fs::is_regular_file(cfg_path))
    throw std::runtime_error(dir + ": no config.json (expected a Hugging Face or OpenVINO " +
                             "model folder)");
  // The one config.json reader, asked for the shapes only (an export may describe a model
  // this runtime does not run itself).
  const hf::HfModelConfig cfg = hf::read_hf_config(dir, hf::HfConfigUse::kShapesOnly);
  ModelFacts f = facts_from_config(hf::to_qwen3_config(cfg));
  f.name = cfg.name_or_path.empty() ? fs::path(dir).filename().string() : cfg.name_or_path;
  f.weights = WeightFormat::Unknown;

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

std::optional<ModelFacts> describe_model(const std::string& path, const std::string& preset,
                                         const std::string& quant, std::optional<int> group_size) {
  if (!path.empty() && !preset.empty())
    throw std::invalid_argument("give either a model (-m) or a model preset, not both");
  std::optional<ModelFacts> m;
  if (!path.empty()) m = load_model_facts(path);
  if (!preset.empty()) m = model_preset(preset);
  if (!m && (!quant.empty() || group_size))
    throw std::invalid_argument(
        "a quantization and a group size describe a model: name the model or a model preset");
  if (m && !quant.empty()) apply_quant_spec(*m, quant);
  if (m && group_size) {
    if (*group_size == 0 || *group_size < -1)
      throw std::invalid_argument("the group size must be -1 (channel-wise) or positive");
    m->group_size = *group_size;
  }
  return m;
}

}  // namespace qwen3::device
