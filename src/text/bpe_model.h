// Byte-level BPE by merge rank: the lowest-ranked adjacent pair merges first, the
// leftmost on ties (as the Hugging Face Rust and JS implementations do). A heap makes a
// word of n bytes cost O(n log n); results for short words are cached.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/bpe_vocab.h"

namespace qwen3 {

class BpeModel {
 public:
  // Throws std::runtime_error if a byte has no token or a merge names unknown tokens.
  explicit BpeModel(const BpeVocab& vocab);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized piece (raw bytes) to `out`. Thread-safe.
  void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;

  // The same without the cache (for tests that check the cache changes nothing).
  void encode_word_uncached(std::string_view bytes, std::vector<int32_t>& out) const;

  // (left id, right id) of each merge rank; {-1, -1} for a rank a later duplicate of the
  // same pair replaced.
  std::vector<std::pair<int32_t, int32_t>> merge_pairs(size_t n_ranks) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  std::array<int32_t, 256> byte_ids_{};
  std::unordered_map<uint64_t, Merge> merges_;

  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kCacheCapacity = 1 << 16;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace qwen3
