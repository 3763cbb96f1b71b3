// Levenshtein distance, for "did you mean" suggestions on misspelt property names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3::device {

size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate (case-insensitive) if it is close enough to be a plausible typo:
// at most max(2, len/3) edits. Ties go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace qwen3::device
