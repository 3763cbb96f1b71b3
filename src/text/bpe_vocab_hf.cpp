// tokenizer.json loader. Only the pipeline Qwen2/Qwen3 use is implemented; anything
// else is refused with a message rather than tokenized differently from the reference.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "text/bpe_byte_level.h"
#include "text/bpe_vocab.h"
#include "text/pretokenizer.h"

namespace qwen3 {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("tokenizer.json: " + what);
}

void check_normalizer(const json& n) {
  if (n.is_null()) return;
  const std::string type = n.value("type", "");
  if (type == "NFC") return;
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].size() == 1 &&
      n["normalizers"][0].value("type", "") == "NFC") {
    return;
  }
  fail("unsupported normalizer '" + n.dump() + "' (only NFC is implemented)");
}

void check_pre_tokenizer(const json& p) {
  const std::string hint = " (only the Qwen2 Split regex + ByteLevel pre-tokenizer is implemented)";
  if (!p.is_object() || p.value("type", "") != "Sequence" || !p.contains("pretokenizers")) {
    fail("unsupported pre_tokenizer" + hint);
  }
  const json& seq = p["pretokenizers"];
  if (!seq.is_array() || seq.size() != 2) fail("unsupported pre_tokenizer sequence" + hint);
  const json& split = seq[0];
  const json& bl = seq[1];
  if (split.value("type", "") != "Split" || !split.contains("pattern") ||
      !split["pattern"].contains("Regex") ||
      split["pattern"]["Regex"].get<std::string>() != kQwen2SplitRegex ||
      split.value("behavior", "") != "Isolated" || split.value("invert", false)) {
    fail("unsupported Split pre-tokenizer" + hint);
  }
  if (bl.value("type", "") != "ByteLevel" || bl.value("use_regex", true) ||
      bl.value("add_prefix_space", false)) {
    fail("unsupported ByteLevel pre-tokenizer settings" + hint);
  }
}

std::string chat_template_of(const std::string& config_json) {
  if (config_json.empty()) return "";
  json cfg;
  try {
    cfg = json::parse(config_json);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("tokenizer_config.json is not valid JSON: ") + e.what());
  }
  if (!cfg.is_object() || !cfg.contains("chat_template")) return "";
  const json& t = cfg["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {  // [{"name": ..., "template": ...}]: the one named "default"
    for (const json& e : t) {
      if (e.is_object() && e.value("name", "") == "default") return e.value("template", "");
    }
    if (!t.empty() && t[0].is_object()) return t[0].value("template", "");
  }
  return "";
}

}  // namespace

BpeVocab load_hf_vocab(const std::string& tokenizer_json, const std::string& config_json) {
  json j;
  try {
    j = json::parse(tokenizer_json);
  } catch (const json::exception& e) {
    fail(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) fail("no 'model' object");
  const json& model = j["model"];
  if (model.value("type", "BPE") != "BPE") fail("model type must be BPE");
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("model has no 'vocab' object");
  if (!model.contains("merges") || !model["merges"].is_array()) fail("model has no 'merges' list");
  check_normalizer(j.value("normalizer", json()));
  check_pre_tokenizer(j.value("pre_tokenizer", json()));

  const json& vocab = model["vocab"];
  const json added = j.value("added_tokens", json::array());
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) fail("vocab id of '" + it.key() + "' is not an integer");
    max_id = std::max<int64_t>(max_id, it.value().get<int64_t>());
  }
  for (const json& a : added) max_id = std::max<int64_t>(max_id, a.value("id", int64_t{-1}));
  if (max_id < 0 || max_id >= (int64_t{1} << 31) - 1) fail("vocab ids out of range");

  BpeVocab v;
  const auto n = static_cast<size_t>(max_id + 1);
  v.bytes.assign(n, "");
  v.strings.assign(n, "");
  v.types.assign(n, kTokenUnused);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const auto id = it.value().get<int64_t>();
    if (id < 0) fail("negative vocab id for '" + it.key() + "'");
    auto raw = byte_level::decode(it.key());
    if (!raw) fail("vocab token '" + it.key() + "' is not in byte-level form");
    v.bytes[id] = std::move(*raw);
    v.strings[id] = it.key();
    v.types[id] = kTokenNormal;
  }
  for (const json& a : added) {
    if (!a.contains("id") || !a.contains("content") || !a["content"].is_string()) {
      fail("added token without id/content");
    }
    const auto id = a["id"].get<int64_t>();
    if (id < 0) fail("negative added token id");
    const std::string content = a["content"].get<std::string>();
    v.bytes[id] = content;
    v.strings[id] = content;
    v.types[id] = a.value("special", false) || looks_like_control_token(content)
                      ? kTokenControl
                      : kTokenUserDefined;
  }
  for (size_t id = 0; id < n; ++id) {
    if (v.types[id] == kTokenUnused) v.strings[id] = "[PAD" + std::to_string(id) + "]";
  }

  const json& merges = model["merges"];
  v.merges.reserve(merges.size());
  for (const json& m : merges) {
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      fail("malformed merge entry " + m.dump());
    }
  }
  v.chat_template = chat_template_of(config_json);
  return v;
}

bool looks_like_control_token(const std::string& t) {
  return t.size() >= 4 && t.compare(0, 2, "<|") == 0 && t.compare(t.size() - 2, 2, "|>") == 0;
}

}  // namespace qwen3
