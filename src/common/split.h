// What: a string cut at every separator character, empty pieces included.
// Why: one tokenizer for the comma- and newline-separated option values (LoRA targets,
// adapter lists, device chains) instead of a position loop in each parser. Header-only and
// standard-library only, so every layer may include it.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3 {

// "a,,b" -> {"a", "", "b"}; "" -> {""}; "a," -> {"a", ""}.
inline std::vector<std::string> split_on(std::string_view s, char sep) {
  std::vector<std::string> pieces;
  for (size_t pos = 0;;) {
    const size_t end = std::min(s.find(sep, pos), s.size());
    pieces.emplace_back(s.substr(pos, end - pos));
    if (end == s.size()) return pieces;
    pos = end + 1;
  }
}

}  // namespace qwen3
