// Qwen3 byte-level BPE tokenizer: exact port of the Hugging Face tokenizer.json
// pipeline (added tokens -> NFC -> split regex -> GPT-2 byte mapping -> BPE by rank).
// Invalid UTF-8 in encode() input is replaced by U+FFFD (one per maximal invalid
// subsequence, as WHATWG/Unicode recommend) before normalization. encode_with_literals
// keeps special-token text plain inside given ranges (message text in a chat prompt).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/text_range.h"

namespace qwen3 {
namespace gguf {
class GgufFile;
}

class Tokenizer {
 public:
  // path: a tokenizer.json, a folder holding tokenizer.json (+ tokenizer_config.json for
  // the chat template), or a .gguf file. Throws std::runtime_error with a clear message.
  static Tokenizer from_file(const std::string& path);
  static Tokenizer from_hf_json(const std::string& tokenizer_json_text,
                                const std::string& tokenizer_config_json_text = "");
  static Tokenizer from_gguf(const gguf::GgufFile& f);  // tokenizer.ggml.* metadata

  Tokenizer();
  ~Tokenizer();
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // parse_special: special-token text (<|im_end|>, <think>, ...) becomes its id; false
  // for text nobody may inject structure with (what users, tools or clients write).
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  // A rendered chat prompt: special-token text becomes its id only where it lies entirely
  // outside `literal` (sorted, non-overlapping byte ranges of `text`: what the template
  // copied from messages, tools or clients; see text::render_chat_marked). The text
  // between two recognised special tokens is normalized and pre-tokenized as one piece,
  // as encode() does, so when no literal range holds special-token text the ids equal
  // encode(text, true). Throws std::invalid_argument for unsorted or out-of-range ranges.
  std::vector<int32_t> encode_with_literals(std::string_view text, const TextRanges& literal) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // The raw bytes a token stands for (special tokens: their text). Throws on a bad id.
  const std::string& token_bytes(int32_t id) const;
  bool is_special(int32_t id) const;  // one of the added/special tokens
  // A control token (type 3: <|...|> or marked special); decode(skip_special) drops these,
  // while <think>, <tool_call> and the other user-defined added tokens stay.
  bool is_control(int32_t id) const;
  // Exact token lookup: special tokens by their text, regular tokens by their raw bytes.
  std::optional<int32_t> token_id(std::string_view token_text) const;
  int32_t n_vocab() const;  // size of the id space (151669 for Qwen3's tokenizer.json)
  const std::string& chat_template() const;  // may be empty
  int32_t eos_id() const;                    // <|endoftext|>
  int32_t im_end_id() const;                 // <|im_end|>
  int32_t im_start_id() const;               // <|im_start|>

  // Data needed to write the tokenizer into a GGUF: tokens in byte-level-unicode form,
  // merges "a b", token types (1 normal, 3 control, 4 user-defined).
  std::vector<std::string> vocab_strings() const;  // rebuilt on each call (kept compact)
  std::vector<std::string> merges() const;
  const std::vector<int32_t>& token_types() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;  // immutable once built, so copies share it
};

// Streaming detokenizer: feed ids, get text that is always whole UTF-8; holds an
// incomplete sequence until completed; flush() at the end turns leftovers into U+FFFD.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tok, bool skip_special = false);
  std::string push(int32_t id);
  std::string flush();

 private:
  const Tokenizer* tok_;
  bool skip_special_;
  std::string pending_;  // bytes of an unfinished UTF-8 sequence
};

}  // namespace qwen3
