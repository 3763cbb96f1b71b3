#include "engine/stop_strings.h"

#include <algorithm>

namespace qwen3::engine {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopStringMatcher::push(std::string_view delta) {
  if (stopped_) return {};
  if (stops_.empty()) return std::string(delta);
  pending_.append(delta);
  // The stop string that completes first wins (as if the text came one byte at a time, so
  // the result does not depend on how it was split); on a tie the longer one.
  std::size_t best = std::string::npos, best_end = std::string::npos;
  for (const auto& s : stops_) {
    const std::size_t at = pending_.find(s);
    if (at == std::string::npos) continue;
    const std::size_t end = at + s.size();
    if (best == std::string::npos || end < best_end || (end == best_end && at < best)) {
      best = at;
      best_end = end;
      matched_ = s;
    }
  }
  if (best != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, best);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  std::size_t hold = 0;
  for (const auto& s : stops_) {
    const std::size_t max_len = std::min(s.size() - 1, pending_.size());
    for (std::size_t len = max_len; len > hold; --len)
      if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStringMatcher::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  pending_.clear();
  return out;
}

}  // namespace qwen3::engine
