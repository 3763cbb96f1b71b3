// The Qwen2/Qwen3 pre-tokenizer: splits normalized text into the pieces BPE works on,
// exactly as the tokenizer.json Split regex does
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// but hand-written: one linear pass, no backtracking engine, no recursion, so 100k
// spaces or 50k letters cost the same per byte as ordinary text.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace qwen3 {

// The regex as tokenizer.json spells it (used to check a loaded tokenizer).
inline constexpr std::string_view kQwen2SplitRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct Piece {
  size_t begin;  // byte offsets into the text
  size_t end;
};

// Splits well-formed UTF-8 into pieces that cover the text without gaps.
std::vector<Piece> pretokenize_qwen2(std::string_view text);

}  // namespace qwen3
