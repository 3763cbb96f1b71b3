// Model path checks with user-facing messages: model_path.h.
#include "model_path.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

namespace qwen3::cli {
namespace {

namespace fs = std::filesystem;

const char* kWhat =
    "give a GGUF file, a Hugging Face model folder (config.json, tokenizer.json, "
    "*.safetensors), or hf://ORG/NAME[:QUANT] to download one";

}  // namespace

void check_model_path(const std::string& path, ModelUse use) {
  std::error_code ec;
  if (path.empty()) throw std::invalid_argument(std::string("no model given: ") + kWhat);
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    throw std::invalid_argument("model not found: '" + path + "' does not exist; " + kWhat);
  }
  if (fs::is_directory(st)) {
    const fs::path dir(path);
    if (fs::exists(dir / "config.json", ec)) return;
    if (use == ModelUse::kModel && fs::exists(dir / "openvino_model.xml", ec)) return;
    throw std::invalid_argument("'" + path +
                                "' is a folder without config.json, so not a Hugging Face "
                                "model folder (it needs config.json, tokenizer.json and "
                                "*.safetensors)");
  }
  if (use == ModelUse::kHfFolder) {
    throw std::invalid_argument("'" + path +
                                "' is a file, not a Hugging Face model folder (convert reads a "
                                "folder with config.json, tokenizer.json and *.safetensors)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::invalid_argument("cannot read the model '" + path + "': " + std::strerror(errno));
  }
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
    throw std::invalid_argument("'" + path +
                                "' is not a GGUF file (it does not start with 'GGUF') and not a "
                                "Hugging Face model folder; " +
                                kWhat);
  }
}

void check_model_args(const std::vector<std::string>& args) {
  static const std::set<std::string> model_commands = {"run", "chat", "serve", "bench", "logits"};
  if (args.empty() || !model_commands.count(args[0])) return;
  for (const auto& a : args) {
    if (a == "-h" || a == "--help" || a == "--backend" || a.rfind("--backend=", 0) == 0) return;
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "-m" || a == "--model") && i + 1 < args.size()) {
      check_model_path(args[i + 1], ModelUse::kModel);
      return;
    }
    if (a.rfind("--model=", 0) == 0) {
      check_model_path(a.substr(8), ModelUse::kModel);
      return;
    }
  }
}

}  // namespace qwen3::cli
