// A byte range [begin, end) of a text. The chat template reports with these which parts
// of a rendered prompt it copied from messages, tools or clients, and the tokenizer
// parses special-token text only outside them.
#pragma once

#include <cstddef>
#include <vector>

namespace qwen3 {

struct TextRange {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last byte
  bool operator==(const TextRange& o) const { return begin == o.begin && end == o.end; }
};

using TextRanges = std::vector<TextRange>;  // sorted by begin, non-overlapping

}  // namespace qwen3
