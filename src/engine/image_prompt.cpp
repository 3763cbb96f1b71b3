// Images in a chat prompt: image_prompt.h.
#include "engine/image_prompt.h"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace qwen3::engine {
namespace {

constexpr const char* kVisionText = "<|vision_start|><|image_pad|><|vision_end|>";

bool in_any_message(const ChatHistory& h, const std::string& s) {
  for (const auto& m : h.messages)
    if (m.content.find(s) != std::string::npos || m.reasoning_content.find(s) != std::string::npos)
      return true;
  return h.tools_json.find(s) != std::string::npos ||
         h.extra_context_json.find(s) != std::string::npos;
}

}  // namespace

std::vector<const ChatImage*> history_images(const ChatHistory& history) {
  std::vector<const ChatImage*> out;
  for (const auto& m : history.messages) {
    std::vector<const ChatImage*> mine;
    for (const auto& im : m.images) mine.push_back(&im);
    std::stable_sort(mine.begin(), mine.end(),
                     [](const ChatImage* a, const ChatImage* b) { return a->offset < b->offset; });
    out.insert(out.end(), mine.begin(), mine.end());
  }
  return out;
}

ImageMarkers insert_image_markers(const ChatHistory& history) {
  ImageMarkers r;
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  do {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    r.prefix = std::string("<image-") + buf + ":";
  } while (in_any_message(history, r.prefix));
  r.history = history;
  int k = 0;
  for (auto& m : r.history.messages) {
    if (m.images.empty()) continue;
    std::vector<const ChatImage*> mine;
    for (const auto& im : m.images) mine.push_back(&im);
    std::stable_sort(mine.begin(), mine.end(),
                     [](const ChatImage* a, const ChatImage* b) { return a->offset < b->offset; });
    std::string text;
    std::size_t at = 0;
    for (const ChatImage* im : mine) {
      const std::size_t off = std::min(im->offset, m.content.size());
      text.append(m.content, at, off - at);
      at = off;
      text += r.prefix + std::to_string(k++) + ">";
    }
    text.append(m.content, at, std::string::npos);
    m.content = std::move(text);
    m.images.clear();
  }
  return r;
}

std::vector<int> replace_image_markers(const std::string& prefix, std::string& text,
                                       TextRanges& literal) {
  struct Hit {
    std::size_t begin, end;
    int image;
  };
  std::vector<Hit> hits;
  for (std::size_t p = text.find(prefix); p != std::string::npos; p = text.find(prefix, p + 1)) {
    std::size_t q = p + prefix.size();
    int k = 0;
    std::size_t digits = 0;
    while (q < text.size() && text[q] >= '0' && text[q] <= '9' && digits < 6) {
      k = k * 10 + (text[q++] - '0');
      ++digits;
    }
    if (digits == 0 || q >= text.size() || text[q] != '>') continue;
    hits.push_back({p, q + 1, k});
  }
  if (hits.empty()) return {};
  const std::string vision = kVisionText;
  // New position of an old offset outside every marker: shifted by the markers before it.
  auto moved = [&](std::size_t old) {
    std::ptrdiff_t shift = 0;
    for (const Hit& h : hits) {
      if (h.end > old) break;
      shift +=
          static_cast<std::ptrdiff_t>(vision.size()) - static_cast<std::ptrdiff_t>(h.end - h.begin);
    }
    return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(old) + shift);
  };
  TextRanges out;
  for (const TextRange& r : literal) {
    // Cut each literal range around the markers inside it.
    std::size_t b = r.begin;
    for (const Hit& h : hits) {
      if (h.end <= b || h.begin >= r.end) continue;
      if (h.begin > b) out.push_back({moved(b), moved(h.begin)});
      b = h.end;
    }
    if (b < r.end) out.push_back({moved(b), moved(r.end)});
  }
  std::string t;
  std::size_t at = 0;
  std::vector<int> order;
  for (const Hit& h : hits) {
    t.append(text, at, h.begin - at);
    t += vision;
    at = h.end;
    order.push_back(h.image);
  }
  t.append(text, at, std::string::npos);
  text = std::move(t);
  literal = std::move(out);
  return order;
}

std::vector<std::int32_t> expand_image_runs(const std::vector<std::int32_t>& ids,
                                            std::int32_t pad_id, const std::vector<int>& order,
                                            const std::vector<std::vector<std::int32_t>>& runs) {
  std::vector<std::int32_t> out;
  std::size_t next = 0;
  for (std::int32_t id : ids) {
    if (id != pad_id) {
      out.push_back(id);
      continue;
    }
    if (next >= order.size()) throw std::logic_error("more image pads than images in the prompt");
    const auto& run = runs.at(static_cast<std::size_t>(order[next++]));
    out.insert(out.end(), run.begin(), run.end());
  }
  if (next != order.size()) throw std::logic_error("fewer image pads than images in the prompt");
  return out;
}

}  // namespace qwen3::engine
