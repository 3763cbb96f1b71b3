// GGUF tokenizer metadata loader (tokenizer.ggml.*, as convert_hf_to_gguf.py writes
// Qwen2/Qwen3: model "gpt2", pre "qwen2", byte-level tokens, merges "a b").
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "text/bpe_byte_level.h"
#include "text/bpe_vocab.h"

namespace qwen3 {
namespace {
[[noreturn]] void fail(const gguf::GgufFile& f, const std::string& what) {
  throw std::runtime_error(f.path() + ": tokenizer metadata: " + what);
}
}  // namespace

BpeVocab load_gguf_vocab(const gguf::GgufFile& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(f, "tokenizer.ggml.model is missing");
  if (*model != "gpt2") fail(f, "tokenizer model '" + *model + "' is not supported (need gpt2)");
  const auto pre = f.get_string("tokenizer.ggml.pre");
  if (pre && *pre != "qwen2") {
    fail(f, "pre-tokenizer '" + *pre + "' is not supported (need qwen2)");
  }
  BpeVocab v;
  v.strings = f.get_string_array("tokenizer.ggml.tokens");
  if (v.strings.empty()) fail(f, "tokenizer.ggml.tokens is missing or empty");
  const std::vector<int64_t> types = f.get_int_array("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() != v.strings.size()) {
    fail(f, "tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                std::to_string(v.strings.size()) + " tokens");
  }
  const size_t n = v.strings.size();
  v.bytes.resize(n);
  v.types.resize(n);
  for (size_t id = 0; id < n; ++id) {
    const int64_t t = types.empty() ? int64_t{kTokenNormal} : types[id];
    if (t < kTokenNormal || t > kTokenByte) {
      fail(f, "token " + std::to_string(id) + " has unknown type " + std::to_string(t));
    }
    v.types[id] = static_cast<int32_t>(t);
    if (t == kTokenControl || t == kTokenUserDefined) {
      v.bytes[id] = v.strings[id];  // added tokens are stored as their text
    } else if (t == kTokenUnused) {
      v.bytes[id].clear();
    } else {
      auto raw = byte_level::decode(v.strings[id]);
      if (!raw) fail(f, "token " + std::to_string(id) + " is not in byte-level form");
      v.bytes[id] = std::move(*raw);
    }
  }
  v.merges = f.get_string_array("tokenizer.ggml.merges");
  if (v.merges.empty()) fail(f, "tokenizer.ggml.merges is missing or empty");
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");
  return v;
}

}  // namespace qwen3
