// GPT-2's byte <-> unicode mapping: tokenizer.json and GGUF spell every byte of a
// regular token as a printable code point (space is 'Ġ' U+0120, newline 'Ċ' U+010A).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qwen3::byte_level {

// The code point that stands for byte b.
char32_t byte_to_char(unsigned char b);

// The raw bytes of a byte-level token string; nullopt if it holds a code point that
// is not in the mapping (the token is then not a byte-level token).
std::optional<std::string> decode(std::string_view token);

// The byte-level spelling of raw bytes.
std::string encode(std::string_view bytes);

}  // namespace qwen3::byte_level
