#include "engine/model_defaults.h"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "model/hf_config.h"

namespace qwen3::engine {
namespace {

void check(bool ok, const std::string& where, const char* what) {
  if (!ok) throw std::runtime_error(where + ": " + what);
}

}  // namespace

ModelSamplingDefaults gguf_sampling_defaults(const gguf::GgufFile& f) {
  ModelSamplingDefaults d;
  const std::string& where = f.path();
  if (auto v = f.get_float("general.sampling.temp")) {
    check(std::isfinite(*v) && *v >= 0, where, "general.sampling.temp must be >= 0");
    d.temperature = static_cast<float>(*v);
  }
  if (auto v = f.get_int("general.sampling.top_k")) {
    check(*v >= 0 && *v <= 1 << 30, where, "general.sampling.top_k must be >= 0");
    d.top_k = static_cast<int>(*v);
  }
  if (auto v = f.get_float("general.sampling.top_p")) {
    check(*v > 0 && *v <= 1, where, "general.sampling.top_p must be in (0, 1]");
    d.top_p = static_cast<float>(*v);
  }
  if (auto v = f.get_float("general.sampling.min_p")) {
    check(*v >= 0 && *v <= 1, where, "general.sampling.min_p must be in [0, 1]");
    d.min_p = static_cast<float>(*v);
  }
  if (auto v = f.get_float("general.sampling.penalty_repeat")) {
    check(std::isfinite(*v) && *v > 0, where, "general.sampling.penalty_repeat must be > 0");
    d.repetition_penalty = static_cast<float>(*v);
  }
  return d;
}

ModelSamplingDefaults read_model_sampling_defaults(const std::string& model_path) {
  std::error_code ec;
  if (hf::is_hf_model_folder(model_path)) {
    return hf::read_generation_config(model_path).engine_defaults();
  }
  if (!std::filesystem::is_regular_file(model_path, ec)) return {};
  std::optional<gguf::GgufFile> f;
  try {
    f.emplace(gguf::GgufFile::open(model_path));
  } catch (const std::exception&) {
    return {};  // not a GGUF: the backend decides what the file is
  }
  return gguf_sampling_defaults(*f);
}

}  // namespace qwen3::engine
