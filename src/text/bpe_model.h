// Byte-level BPE by merge rank: the lowest-ranked adjacent pair merges first, the
// leftmost on ties (as the Hugging Face Rust and JS implementations do). A heap makes a
// word of n bytes cost O(n log n); results for short words are cached. The merge table
// is a flat open-addressing map (one probe per pair, no node per merge): building it for
// Qwen3's 151,387 merges is part of every model load.
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

  // (left, right) -> merge, linear probing over a power-of-two table at most 3/4 full.
  class MergeTable {
   public:
    void reserve(size_t n);
    const Merge* find(uint64_t k) const;
    void assign(uint64_t k, Merge m);  // a repeated key takes the new value
    template <class F>
    void for_each(F&& f) const {
      for (const Slot& s : slots_)
        if (s.key != kEmpty) f(s.key, s.merge);
    }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of valid ids has this key
    struct Slot {
      uint64_t key = kEmpty;
      Merge merge{};
    };
    size_t slot_of(uint64_t k) const;
    std::vector<Slot> slots_;
    size_t mask_ = 0, size_ = 0;
  };

  std::array<int32_t, 256> byte_ids_{};
  MergeTable merges_;

  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kCacheCapacity = 1 << 16;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace qwen3
