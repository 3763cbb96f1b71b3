#include "text/bpe_model.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>

#include "kernels/mix64.h"

namespace qwen3 {

namespace {

// Linear probing stays short up to 3/4 full; a smaller table is fewer fresh pages.
bool fits(size_t n, size_t size) {
  return 4 * n <= 3 * size;
}
size_t table_size(size_t n) {  // the smallest power of two that n fits
  size_t size = 16;
  while (!fits(n, size)) size *= 2;
  return size;
}

// The normal and byte tokens by their byte-level spelling: the merges name tokens that
// way. Each slot holds the id and 32 bits of the hash, so a probe reads a spelling only
// when the hashes agree. The first id of a spelling wins, as with unordered_map::emplace.
class SpellingIndex {
 public:
  explicit SpellingIndex(const BpeVocab& vocab) : vocab_(vocab) {
    slots_.assign(table_size(vocab.strings.size()), kEmpty);
    mask_ = slots_.size() - 1;
    for (size_t id = 0; id < vocab.strings.size(); ++id)
      if (vocab.types[id] == kTokenNormal || vocab.types[id] == kTokenByte)
        insert(static_cast<int32_t>(id));
  }

  int32_t find(std::string_view s) const {
    const size_t h = std::hash<std::string_view>{}(s);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const uint64_t e = slots_[i];
      if (e == kEmpty) return -1;
      const auto id = static_cast<int32_t>(e & 0xffffffffu);
      if (static_cast<uint32_t>(e >> 32) == tag && vocab_.strings[static_cast<size_t>(id)] == s)
        return id;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void insert(int32_t id) {
    const std::string& s = vocab_.strings[static_cast<size_t>(id)];
    if (find(s) >= 0) return;
    const size_t h = std::hash<std::string_view>{}(s);
    size_t i = h & mask_;
    while (slots_[i] != kEmpty) i = (i + 1) & mask_;
    slots_[i] = (static_cast<uint64_t>(h >> 32) << 32) | static_cast<uint32_t>(id);
  }
  const BpeVocab& vocab_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

}  // namespace

void BpeModel::MergeTable::reserve(size_t n) {
  slots_.assign(table_size(n), Slot{});
  mask_ = slots_.size() - 1;
  size_ = 0;
}

size_t BpeModel::MergeTable::slot_of(uint64_t k) const {
  size_t i = mix64(k) & mask_;
  while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask_;
  return i;
}

const BpeModel::Merge* BpeModel::MergeTable::find(uint64_t k) const {
  if (slots_.empty()) return nullptr;
  const Slot& s = slots_[slot_of(k)];
  return s.key == k ? &s.merge : nullptr;
}

void BpeModel::MergeTable::assign(uint64_t k, Merge m) {
  if (!fits(size_ + 1, slots_.size())) {  // grow: keep the table at most 3/4 full
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(old.size(), 8));  // room for as many entries as slots: 2x
    for (const Slot& s : old)
      if (s.key != kEmpty) assign(s.key, s.merge);
  }
  Slot& s = slots_[slot_of(k)];
  if (s.key == kEmpty) ++size_;
  s.key = k;
  s.merge = m;
}

BpeModel::BpeModel(const BpeVocab& vocab) {
  const SpellingIndex by_string(vocab);
  byte_ids_.fill(-1);
  for (size_t id = 0; id < vocab.bytes.size(); ++id)
    if (vocab.types[id] == kTokenNormal && vocab.bytes[id].size() == 1) {
      int32_t& slot = byte_ids_[static_cast<unsigned char>(vocab.bytes[id][0])];
      if (slot < 0) slot = static_cast<int32_t>(id);  // the first id of a byte wins
    }
  for (int b = 0; b < 256; ++b)
    if (byte_ids_[b] < 0)
      throw std::runtime_error("tokenizer: the vocabulary has no token for byte " +
                               std::to_string(b));
  merges_.reserve(vocab.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string_view m = vocab.merges[rank];
    const size_t sp = m.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= m.size()) {
      throw std::runtime_error("tokenizer: malformed merge '" + std::string(m) + "'");
    }
    const std::string_view left = m.substr(0, sp), right = m.substr(sp + 1);
    joined.assign(left).append(right);
    const int32_t l = by_string.find(left), r = by_string.find(right), res = by_string.find(joined);
    if (l < 0 || r < 0 || res < 0) {
      throw std::runtime_error("tokenizer: merge '" + std::string(m) +
                               "' names a token not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as both reference implementations do.
    merges_.assign(key(l, r), {static_cast<int32_t>(rank), res});
  }
}

std::vector<std::pair<int32_t, int32_t>> BpeModel::merge_pairs(size_t n_ranks) const {
  std::vector<std::pair<int32_t, int32_t>> out(n_ranks, {-1, -1});
  merges_.for_each([&](uint64_t k, const Merge& m) {
    if (m.rank >= 0 && static_cast<size_t>(m.rank) < n_ranks)
      out[static_cast<size_t>(m.rank)] = {static_cast<int32_t>(k >> 32),
                                          static_cast<int32_t>(k & 0xffffffffu)};
  });
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
    if (const Merge* m = merges_.find(key(id[pos], id[next[pos]])))
      heap.push({m->rank, pos, id[pos], id[next[pos]], m->result});
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
