// The encode/decode pipeline over a BpeVocab. Order as in Hugging Face tokenizers:
// added tokens are found on the raw text first, every remaining piece is NFC-normalized
// and pre-tokenized on its own, and each pre-token goes through BPE.
#include "text/tokenizer.h"

#include <stdexcept>
#include <unordered_map>

#include "text/bpe_model.h"
#include "text/bpe_vocab.h"
#include "text/pretokenizer.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace qwen3 {

struct Tokenizer::Impl {
  explicit Impl(BpeVocab v) : vocab(std::move(v)), model(vocab) {
    for (size_t id = 0; id < vocab.bytes.size(); ++id) {
      const auto i = static_cast<int32_t>(id);
      if (vocab.is_added(i)) {
        if (vocab.bytes[id].empty()) continue;
        added.emplace_back(vocab.bytes[id], i);
        first_bytes[static_cast<unsigned char>(vocab.bytes[id][0])] = true;
        by_text.emplace(vocab.bytes[id], i);
      }
    }
    for (size_t id = 0; id < vocab.bytes.size(); ++id) {
      if (vocab.types[id] == kTokenNormal)
        by_text.emplace(vocab.bytes[id], static_cast<int32_t>(id));
    }
    auto find = [&](const char* t) {
      auto it = by_text.find(t);
      return it == by_text.end() ? -1 : it->second;
    };
    eos = find("<|endoftext|>");
    im_end = find("<|im_end|>");
    im_start = find("<|im_start|>");
  }

  // Leftmost-longest added token starting exactly at text[pos]; length 0 if none.
  std::pair<size_t, int32_t> match_added(std::string_view text, size_t pos) const {
    size_t best_len = 0;
    int32_t best_id = -1;
    for (const auto& [t, id] : added) {
      if (t.size() > best_len && text.compare(pos, t.size(), t) == 0) {
        best_len = t.size();
        best_id = id;
      }
    }
    return {best_len, best_id};
  }

  void encode_plain(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return;
    const std::string norm = unicode::nfc(text);
    const std::string_view s = norm;
    for (const Piece& p : pretokenize_qwen2(s)) {
      model.encode_word(s.substr(p.begin, p.end - p.begin), out);
    }
  }

  void check_id(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= vocab.bytes.size()) {
      throw std::out_of_range("token id " + std::to_string(id) + " is out of range [0, " +
                              std::to_string(vocab.bytes.size()) + ")");
    }
  }

  BpeVocab vocab;
  BpeModel model;
  std::vector<std::pair<std::string, int32_t>> added;
  bool first_bytes[256] = {};
  std::unordered_map<std::string, int32_t> by_text;
  int32_t eos = -1, im_end = -1, im_start = -1;
};

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_hf_json(const std::string& tokenizer_json,
                                  const std::string& tokenizer_config_json) {
  Tokenizer t;
  t.impl_ = std::make_shared<const Impl>(load_hf_vocab(tokenizer_json, tokenizer_config_json));
  return t;
}

Tokenizer Tokenizer::from_gguf(const gguf::GgufFile& f) {
  Tokenizer t;
  t.impl_ = std::make_shared<const Impl>(load_gguf_vocab(f));
  return t;
}

namespace {
const Tokenizer::Impl& checked(const std::shared_ptr<const Tokenizer::Impl>& p) {
  if (!p) throw std::logic_error("Tokenizer used before it was loaded");
  return *p;
}
}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const Impl& im = checked(impl_);
  std::string repaired;
  if (!utf8::is_valid(text)) {
    repaired = utf8::sanitize(text);  // invalid bytes become U+FFFD
    text = repaired;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  if (!parse_special || im.added.empty()) {
    im.encode_plain(text, out);
    return out;
  }
  size_t seg = 0;
  for (size_t pos = 0; pos < text.size();) {
    if (!im.first_bytes[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [len, id] = im.match_added(text, pos);
    if (len == 0) {
      ++pos;
      continue;
    }
    im.encode_plain(text.substr(seg, pos - seg), out);
    out.push_back(id);
    pos += len;
    seg = pos;
  }
  im.encode_plain(text.substr(seg), out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  const Impl& im = checked(impl_);
  std::string bytes;
  for (int32_t id : ids) {
    im.check_id(id);
    if (skip_special && im.vocab.types[id] == kTokenControl) continue;
    bytes += im.vocab.bytes[id];
  }
  return utf8::is_valid(bytes) ? bytes : utf8::sanitize(bytes);
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  const Impl& im = checked(impl_);
  im.check_id(id);
  return im.vocab.bytes[id];
}

bool Tokenizer::is_special(int32_t id) const {
  const Impl& im = checked(impl_);
  im.check_id(id);
  return im.vocab.is_added(id);
}

bool Tokenizer::is_control(int32_t id) const {
  const Impl& im = checked(impl_);
  im.check_id(id);
  return im.vocab.types[id] == kTokenControl;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token_text) const {
  const Impl& im = checked(impl_);
  auto it = im.by_text.find(std::string(token_text));
  if (it == im.by_text.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::n_vocab() const {
  return static_cast<int32_t>(checked(impl_).vocab.bytes.size());
}
const std::string& Tokenizer::chat_template() const {
  return checked(impl_).vocab.chat_template;
}
int32_t Tokenizer::eos_id() const {
  return checked(impl_).eos;
}
int32_t Tokenizer::im_end_id() const {
  return checked(impl_).im_end;
}
int32_t Tokenizer::im_start_id() const {
  return checked(impl_).im_start;
}
const std::vector<std::string>& Tokenizer::vocab_strings() const {
  return checked(impl_).vocab.strings;
}
const std::vector<std::string>& Tokenizer::merges() const {
  return checked(impl_).vocab.merges;
}
const std::vector<int32_t>& Tokenizer::token_types() const {
  return checked(impl_).vocab.types;
}

}  // namespace qwen3
