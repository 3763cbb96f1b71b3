// UTF-8 helpers shared by the text layer. Invalid input is repaired the way the WHATWG
// Encoding Standard (and Rust's from_utf8_lossy) does it: each maximal invalid
// subsequence becomes one U+FFFD, so streaming and whole-string decoding agree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qwen3::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid(std::string_view s);

// `s` with every maximal invalid subsequence replaced by U+FFFD.
std::string sanitize(std::string_view s);

// Length of the longest prefix of `s` after which the rest is a well-formed but
// unfinished sequence (a lead byte plus too few continuation bytes). A streaming
// decoder emits the prefix and holds the rest until more bytes arrive.
size_t complete_prefix_length(std::string_view s);

// Decodes one code point from well-formed UTF-8 at s[i]; advances i.
char32_t next(std::string_view s, size_t& i);

void append(std::string& out, char32_t cp);

}  // namespace qwen3::utf8
