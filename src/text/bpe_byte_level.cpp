#include "text/bpe_byte_level.h"

#include <array>

#include "text/utf8.h"

namespace qwen3::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int, 324> to_byte{};  // indexed by code point; -1 = not a mapped char
};

// Printable Latin-1 bytes map to themselves; the other 68 bytes map, in order, to
// U+0100 upwards (the mapping of GPT-2's bytes_to_unicode()).
const Tables& tables() {
  static const Tables t = [] {
    Tables r;
    r.to_byte.fill(-1);
    char32_t next_free = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t ch = printable ? static_cast<char32_t>(b) : next_free++;
      r.to_char[b] = ch;
      r.to_byte[ch] = b;
    }
    return r;
  }();
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) {
  return tables().to_char[b];
}

std::optional<std::string> decode(std::string_view token) {
  if (!utf8::is_valid(token)) return std::nullopt;
  const Tables& t = tables();
  std::string out;
  out.reserve(token.size());
  size_t i = 0;
  while (i < token.size()) {
    const char32_t cp = utf8::next(token, i);
    if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(t.to_byte[cp]));
  }
  return out;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) utf8::append(out, byte_to_char(b));
  return out;
}

}  // namespace qwen3::byte_level
