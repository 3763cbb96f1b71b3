// The encode/decode pipeline over a BpeVocab. Order as in Hugging Face tokenizers:
// added tokens are found on the raw text first, every remaining piece is NFC-normalized
// and pre-tokenized on its own, and each pre-token goes through BPE. Literal ranges
// (encode_with_literals) only stop added tokens from being found inside them.
#include "text/tokenizer.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "text/bpe_byte_level.h"
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
        by_text.push_back(i);
      }
    }
    for (size_t id = 0; id < vocab.bytes.size(); ++id) {
      if (vocab.types[id] == kTokenNormal) by_text.push_back(static_cast<int32_t>(id));
    }
    sort_by_text();
    compact();
    eos = find_text("<|endoftext|>");
    im_end = find_text("<|im_end|>");
    im_start = find_text("<|im_start|>");
  }

  // by_text in byte order of the texts; among equal texts the first pushed (added tokens
  // first) comes first. Most comparisons end on the first 8 bytes, held in the sort key
  // as a big-endian number, so the 151k texts are rarely read during the sort.
  void sort_by_text() {
    struct Key {
      uint64_t prefix;
      uint32_t order;
      int32_t id;
    };
    std::vector<Key> keys(by_text.size());
    for (size_t i = 0; i < by_text.size(); ++i) {
      const std::string& t = vocab.bytes[static_cast<size_t>(by_text[i])];
      uint64_t p = 0;
      for (size_t k = 0; k < 8; ++k)
        p = (p << 8) | (k < t.size() ? static_cast<unsigned char>(t[k]) : 0u);
      keys[i] = {p, static_cast<uint32_t>(i), by_text[i]};
    }
    std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      const int c =
          vocab.bytes[static_cast<size_t>(a.id)].compare(vocab.bytes[static_cast<size_t>(b.id)]);
      return c != 0 ? c < 0 : a.order < b.order;
    });
    for (size_t i = 0; i < keys.size(); ++i) by_text[i] = keys[i].id;
  }

  int32_t find_text(std::string_view t) const {
    auto it = std::lower_bound(
        by_text.begin(), by_text.end(), t,
        [&](int32_t id, std::string_view x) { return std::string_view(vocab.bytes[id]) < x; });
    return it != by_text.end() && vocab.bytes[*it] == t ? *it : -1;
  }

  // The byte-level spellings and the merge strings are only needed to write a GGUF
  // again; keep the ids of each merge and the few spellings that differ from
  // byte_level::encode(bytes), and rebuild both on demand (saves ~12 MB on Qwen3).
  void compact() {
    std::vector<std::pair<int32_t, int32_t>> pairs = model.merge_pairs(vocab.merges.size());
    // Every merge must read back as "left right" from the spellings that stay available.
    for (size_t r = 0; r < pairs.size(); ++r) {
      const auto [l, rt] = pairs[r];
      if (l < 0) return;  // a duplicate pair: keep everything as is
      const std::string_view m = vocab.merges[r], a = vocab.strings[l], b = vocab.strings[rt];
      if (m.size() != a.size() + 1 + b.size() || m.substr(0, a.size()) != a || m[a.size()] != ' ' ||
          m.substr(a.size() + 1) != b)
        return;
    }
    for (size_t id = 0; id < vocab.strings.size(); ++id)
      if (byte_level::encode(vocab.bytes[id]) != vocab.strings[id])
        odd_strings.emplace(static_cast<int32_t>(id), vocab.strings[id]);
    merge_pairs = std::move(pairs);
    n_strings = vocab.strings.size();
    std::vector<std::string>().swap(vocab.strings);
    std::vector<std::string>().swap(vocab.merges);
    compacted = true;
  }

  std::string spelling(int32_t id) const {
    auto it = odd_strings.find(id);
    return it != odd_strings.end() ? it->second : byte_level::encode(vocab.bytes[id]);
  }

  // Longest added token starting exactly at text[pos] and ending by `limit`; length 0
  // if none.
  std::pair<size_t, int32_t> match_added(std::string_view text, size_t pos, size_t limit) const {
    size_t best_len = 0;
    int32_t best_id = -1;
    for (const auto& [t, id] : added) {
      if (t.size() > best_len && pos + t.size() <= limit && text.compare(pos, t.size(), t) == 0) {
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
  std::vector<int32_t> by_text;  // ids of normal and added tokens, sorted by their text
  int32_t eos = -1, im_end = -1, im_start = -1;
  bool compacted = false;
  size_t n_strings = 0;
  std::vector<std::pair<int32_t, int32_t>> merge_pairs;
  std::unordered_map<int32_t, std::string> odd_strings;
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

// Added tokens are matched leftmost-longest, as Hugging Face does, but never inside or
// across a literal range; the plain text between two matches is one piece.
std::vector<int32_t> encode_core(const Tokenizer::Impl& im, std::string_view text,
                                 const TextRanges& literal) {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  if (im.added.empty()) {
    im.encode_plain(text, out);
    return out;
  }
  size_t seg = 0, next = 0;  // next: the first literal range not yet passed
  for (size_t pos = 0; pos < text.size();) {
    while (next < literal.size() &&
           (literal[next].end <= pos || literal[next].begin == literal[next].end))
      ++next;  // passed, or empty (an empty range holds no text to protect)
    const size_t limit = next < literal.size() ? literal[next].begin : text.size();
    if (pos >= limit) {  // inside a literal range: no special token starts here
      pos = literal[next].end;
      continue;
    }
    if (!im.first_bytes[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [len, id] = im.match_added(text, pos, limit);
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

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const Impl& im = checked(impl_);
  std::string repaired;
  if (!utf8::is_valid(text)) {
    repaired = utf8::sanitize(text);  // invalid bytes become U+FFFD
    text = repaired;
  }
  if (!parse_special) {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 1);
    im.encode_plain(text, out);
    return out;
  }
  return encode_core(im, text, {});
}

std::vector<int32_t> Tokenizer::encode_with_literals(std::string_view text,
                                                     const TextRanges& literal) const {
  const Impl& im = checked(impl_);
  for (size_t i = 0; i < literal.size(); ++i) {
    const TextRange& r = literal[i];
    if (r.begin > r.end || r.end > text.size() || (i > 0 && r.begin < literal[i - 1].end))
      throw std::invalid_argument("encode_with_literals: literal range " + std::to_string(i) +
                                  " [" + std::to_string(r.begin) + ", " + std::to_string(r.end) +
                                  ") is out of order or outside the text of " +
                                  std::to_string(text.size()) + " bytes");
  }
  if (utf8::is_valid(text)) return encode_core(im, text, literal);
  // Repair each piece between range boundaries on its own, so the ranges can be mapped
  // onto the repaired text (the same as repairing the whole text unless a boundary cuts
  // a character, which the template never does).
  std::string repaired;
  TextRanges moved;
  moved.reserve(literal.size());
  size_t at = 0;
  auto copy_to = [&](size_t end) {
    repaired += utf8::sanitize(text.substr(at, end - at));
    at = end;
  };
  for (const TextRange& r : literal) {
    copy_to(r.begin);
    const size_t b = repaired.size();
    copy_to(r.end);
    moved.push_back({b, repaired.size()});
  }
  copy_to(text.size());
  return encode_core(im, repaired, moved);
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
  const int32_t id = im.find_text(token_text);
  if (id < 0) return std::nullopt;
  return id;
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
std::vector<std::string> Tokenizer::vocab_strings() const {
  const Impl& im = checked(impl_);
  if (!im.compacted) return im.vocab.strings;
  std::vector<std::string> out(im.n_strings);
  for (size_t id = 0; id < out.size(); ++id) out[id] = im.spelling(static_cast<int32_t>(id));
  return out;
}
std::vector<std::string> Tokenizer::merges() const {
  const Impl& im = checked(impl_);
  if (!im.compacted) return im.vocab.merges;
  std::vector<std::string> out;
  out.reserve(im.merge_pairs.size());
  for (const auto& [l, r] : im.merge_pairs) out.push_back(im.spelling(l) + " " + im.spelling(r));
  return out;
}
const std::vector<int32_t>& Tokenizer::token_types() const {
  return checked(impl_).vocab.types;
}

}  // namespace qwen3
