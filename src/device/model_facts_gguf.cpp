// ModelFacts from a GGUF file or a model folder given as -m.
#include <filesystem>
#include <stdexcept>

#include "device/model_facts.h"
#include "gguf/gguf_reader.h"
#include "model/qwen3_config.h"

namespace qwen3::device {

ModelFacts facts_from_gguf(const std::string& path) {
  return facts_from_gguf(gguf::GgufFile::open(path), path);
}

ModelFacts facts_from_gguf(const gguf::GgufFile& f, const std::string& path) {
  ModelFacts facts = facts_from_config(Qwen3Config::from_gguf(f));
  if (const auto* t = f.tensor("blk.0.attn_q.weight"))
    facts.weight_type = std::string(ggml_type_info(t->type).name);
  if (facts.name.empty() || facts.name == "qwen3")
    facts.name = std::filesystem::path(path).filename().string();
  return facts;
}

ModelFacts load_model_facts(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return facts_from_model_folder(path);
  if (!fs::is_regular_file(path, ec)) throw std::runtime_error(path + ": no such file or folder");
  return facts_from_gguf(path);
}

}  // namespace qwen3::device
