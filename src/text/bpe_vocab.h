// Everything a byte-level BPE tokenizer file holds, in one plain struct that both
// loaders (tokenizer.json and GGUF metadata) fill, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qwen3 {
namespace gguf {
class GgufFile;
}

// Token types as GGUF (llama.cpp) numbers them.
enum TokenType : int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,      // special tokens: skipped by decode(skip_special = true)
  kTokenUserDefined = 4,  // added tokens that are not control tokens (<think>, <tool_call>)
  kTokenUnused = 5,       // holes in the id space; never produced, decode to nothing
  kTokenByte = 6,
};

struct BpeVocab {
  std::vector<std::string> bytes;    // per id: the raw bytes (added tokens: their text)
  std::vector<std::string> strings;  // per id: the byte-level spelling GGUF stores
  std::vector<int32_t> types;        // per id: TokenType
  std::vector<std::string> merges;   // "left right" in byte-level spelling, by rank
  std::string chat_template;

  bool is_added(int32_t id) const {
    return types[id] == kTokenControl || types[id] == kTokenUserDefined;
  }
};

// Parses a Hugging Face tokenizer.json (+ tokenizer_config.json for the chat template).
// Throws std::runtime_error naming what is missing or unsupported.
BpeVocab load_hf_vocab(const std::string& tokenizer_json, const std::string& config_json);

// Reads the tokenizer.ggml.* metadata as llama.cpp's convert_hf_to_gguf.py writes it.
BpeVocab load_gguf_vocab(const gguf::GgufFile& f);

// llama.cpp's rule for added tokens: control if marked special or spelled <|...|>.
bool looks_like_control_token(const std::string& text);

}  // namespace qwen3
