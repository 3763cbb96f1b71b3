// What: a string read as one whole decimal integer (std::stoll's syntax), or nullopt.
// Why: the token-id lists of `detokenize --ids` and `logits --ids` each wrapped std::stoll in
// the same try / used-count check.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace qwen3::cli {

// nullopt when `s` is not a number, has anything after it, or is out of long long's range.
inline std::optional<long long> whole_int(const std::string& s) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != s.size()) return std::nullopt;
  return v;
}

}  // namespace qwen3::cli
