// Set operations on code-point ranges (see code_point_ranges.h).
#include "text/code_point_ranges.h"

#include <algorithm>

namespace qwen3::text {

CodePointRanges normalize_ranges(CodePointRanges r) {
  std::sort(r.begin(), r.end());
  CodePointRanges out;
  for (const auto& p : r) {
    if (!out.empty() && p.first <= out.back().second + 1)
      out.back().second = std::max(out.back().second, p.second);
    else
      out.push_back(p);
  }
  return out;
}

CodePointRanges complement_ranges(const CodePointRanges& r) {
  CodePointRanges out;
  std::uint32_t next = 0;
  for (const auto& p : r) {
    if (p.first > next) out.emplace_back(next, p.first - 1);
    next = p.second + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

CodePointRanges subtract_ranges(const CodePointRanges& a, const CodePointRanges& b) {
  const CodePointRanges nb = complement_ranges(normalize_ranges(b));
  CodePointRanges out;
  for (const auto& x : a)
    for (const auto& y : nb) {
      const std::uint32_t lo = std::max(x.first, y.first), hi = std::min(x.second, y.second);
      if (lo <= hi) out.emplace_back(lo, hi);
    }
  return normalize_ranges(out);
}

}  // namespace qwen3::text
