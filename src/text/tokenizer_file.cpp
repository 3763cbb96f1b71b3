// Tokenizer::from_file: decides what a path holds (GGUF by its magic, a folder, or a
// tokenizer.json) and reads it. A chat_template.jinja beside tokenizer.json (how newer
// Hugging Face repositories ship the template) wins over tokenizer_config.json's.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/file_bytes.h"
#include "gguf/gguf_reader.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::optional<std::string> bytes = read_file_bytes(p);
  if (!bytes) throw std::runtime_error("cannot open " + p.string());
  return std::move(*bytes);
}

bool has_gguf_magic(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string_view(magic, 4) == "GGUF";
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  if (!fs::exists(p, ec)) throw std::runtime_error("tokenizer: no such file or folder: " + path);
  fs::path json_path = p;
  if (fs::is_directory(p, ec)) {
    json_path = p / "tokenizer.json";
    if (!fs::exists(json_path, ec)) {
      throw std::runtime_error("tokenizer: folder " + path + " holds no tokenizer.json");
    }
  } else if (has_gguf_magic(p)) {
    return from_gguf(gguf::GgufFile::open(path));
  }
  const fs::path config_path = json_path.parent_path() / "tokenizer_config.json";
  std::string config = fs::exists(config_path, ec) ? read_text(config_path) : "";
  const fs::path jinja_path = json_path.parent_path() / "chat_template.jinja";
  if (fs::exists(jinja_path, ec)) {
    nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
    if (!config.empty()) {
      try {
        cfg = nlohmann::ordered_json::parse(config);
      } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(config_path.string() + ": not valid JSON: " + e.what());
      }
    }
    if (!cfg.is_object()) throw std::runtime_error(config_path.string() + ": not a JSON object");
    cfg["chat_template"] = read_text(jinja_path);
    config = cfg.dump();
  }
  try {
    return from_hf_json(read_text(json_path), config);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(json_path.string() + ": " + e.what());
  }
}

}  // namespace qwen3
