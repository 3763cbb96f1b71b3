#include "text/bpe_model.h"

#include <queue>
#include <stdexcept>

namespace qwen3 {

BpeModel::BpeModel(const BpeVocab& vocab) {
  std::unordered_map<std::string_view, int32_t> by_string;
  by_string.reserve(vocab.strings.size());
  for (size_t id = 0; id < vocab.strings.size(); ++id) {
    if (vocab.types[id] == kTokenNormal || vocab.types[id] == kTokenByte) {
      by_string.emplace(vocab.strings[id], static_cast<int32_t>(id));
    }
  }
  std::unordered_map<std::string_view, int32_t> by_bytes;
  for (size_t id = 0; id < vocab.bytes.size(); ++id) {
    if (vocab.types[id] == kTokenNormal && vocab.bytes[id].size() == 1) {
      by_bytes.emplace(vocab.bytes[id], static_cast<int32_t>(id));
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    auto it = by_bytes.find(std::string_view(&c, 1));
    if (it == by_bytes.end()) {
      throw std::runtime_error("tokenizer: the vocabulary has no token for byte " +
                               std::to_string(b));
    }
    byte_ids_[b] = it->second;
  }
  merges_.reserve(vocab.merges.size());
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& m = vocab.merges[rank];
    const size_t sp = m.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= m.size()) {
      throw std::runtime_error("tokenizer: malformed merge '" + m + "'");
    }
    const std::string left = m.substr(0, sp);
    const std::string right = m.substr(sp + 1);
    auto l = by_string.find(left);
    auto r = by_string.find(right);
    auto res = by_string.find(left + right);
    if (l == by_string.end() || r == by_string.end() || res == by_string.end()) {
      throw std::runtime_error("tokenizer: merge '" + m + "' names a token not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as both reference implementations do.
    merges_[key(l->second, r->second)] = {static_cast<int32_t>(rank), res->second};
  }
}

std::vector<std::pair<int32_t, int32_t>> BpeModel::merge_pairs(size_t n_ranks) const {
  std::vector<std::pair<int32_t, int32_t>> out(n_ranks, {-1, -1});
  for (const auto& [k, m] : merges_)
    if (m.rank >= 0 && static_cast<size_t>(m.rank) < n_ranks)
      out[static_cast<size_t>(m.rank)] = {static_cast<int32_t>(k >> 32),
                                          static_cast<int32_t>(k & 0xffffffffu)};
  return out;
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
  if (bytes.size() == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  if (bytes.size() > kMaxCachedWordBytes) {
    encode_word_uncached(bytes, out);
    return;
  }
  const std::string k(bytes);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(k);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  encode_word_uncached(bytes, out);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() < kCacheCapacity) {
    cache_.emplace(
        k, std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
  }
}

void BpeModel::encode_word_uncached(std::string_view bytes, std::vector<int32_t>& out) const {
  const int32_t n = static_cast<int32_t>(bytes.size());
  if (n == 0) return;
  // Symbols form a doubly linked list over positions; a merged symbol keeps the left
  // position, so (rank, position) in the heap orders ties leftmost first.
  std::vector<int32_t> id(n), prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    id[i] = byte_ids_[static_cast<unsigned char>(bytes[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank, pos, left, right, result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    auto it = merges_.find(key(id[pos], id[next[pos]]));
    if (it != merges_.end())
      heap.push({it->second.rank, pos, id[pos], id[next[pos]], it->second.result});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // Stale entries: the symbol at pos changed or its right neighbour did.
    if (id[c.pos] != c.left || next[c.pos] < 0 || id[next[c.pos]] != c.right) continue;
    const int32_t r = next[c.pos];
    id[c.pos] = c.result;
    id[r] = -1;  // removed
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(id[i]);
}

}  // namespace qwen3
