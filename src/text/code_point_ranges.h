// Sets of Unicode code points as sorted, disjoint, inclusive [first, second] ranges.
// The GBNF compiler (character classes) and the regex translator (classes, negation,
// subtraction) both work on them; one implementation serves both.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace qwen3::text {

inline constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;

using CodePointRanges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

// Sorted, with overlapping and adjacent ranges merged.
CodePointRanges normalize_ranges(CodePointRanges r);
// Every code point 0..kMaxCodePoint not in r (r must be normalized).
CodePointRanges complement_ranges(const CodePointRanges& r);
// a minus b, normalized.
CodePointRanges subtract_ranges(const CodePointRanges& a, const CodePointRanges& b);

}  // namespace qwen3::text
