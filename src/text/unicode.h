// Unicode properties and normalization for the tokenizer, from utf8proc (Unicode 15.0
// in Debian 12's utf8proc 2.8), so categories and NFC come from one consistent version.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qwen3::unicode {

// The classes the Qwen2 split regex distinguishes.
enum class CharClass : uint8_t {
  kLetter,      // \p{L}
  kNumber,      // \p{N}
  kSpace,       // U+0020 (the regex names it with a literal ' ')
  kNewline,     // \r or \n
  kWhitespace,  // any other White_Space code point (what onig's and the reference's \s match)
  kOther,       // everything else
};

CharClass classify(char32_t cp);

inline bool is_whitespace(CharClass c) {
  return c == CharClass::kSpace || c == CharClass::kNewline || c == CharClass::kWhitespace;
}

// NFC of well-formed UTF-8 (call utf8::sanitize first). Throws std::runtime_error if
// utf8proc rejects the input.
std::string nfc(std::string_view valid_utf8);

}  // namespace qwen3::unicode
