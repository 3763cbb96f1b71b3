// The paged key/value cache. KvPool: one allocation of fixed-size blocks (block_size
// positions each, every layer and KV head), reference-counted, with a prefix cache: a
// full block is keyed by a hash of all the tokens up to and including it, so sequences
// that share a token prefix (a system prompt, the earlier turns of a conversation) share
// its blocks read-only; blocks nobody holds stay cached, least recently used first out,
// until the pool needs them. KvSequence: one sequence's block table over a pool, grown as
// positions are written, copy-on-write for a shared block it writes into. KvCache: a
// private pool with one sequence holding n_ctx positions (the single-sequence path).
//
// The rows of one block, layer, K or V and KV head are one row group (KvPool::offset):
//   f16 / f32: keys dim-major (element d of row r at d * block_size + r), values row-major
//     (element d of row r at r * head_dim + d): kernels/attention_paged.h reads them so.
//   q8_0 (head_dim a multiple of 32; ggml's q8_0 per 32 consecutive elements of one row):
//     keys: int8 k[d * block_size + r], then the fp16 scales [d / 32][r] (at byte
//     block_size * head_dim of the row group); values: int8 v[r * head_dim + d], then the
//     fp16 scales [r][d / 32] (same place); the row group padded to 64 bytes. An element
//     is float(q) * float(scale), exact in float.
//
// Memory is reserved up front (one anonymous mapping, in transparent huge pages where the
// kernel allows) but only touched as positions are written. The pool and
// its sequences are not thread-safe: one owner serializes the calls (BatchEngine's lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "model/kv_type.h"

namespace qwen3 {

struct KvPoolStats {
  int blocks = 0;  // in the pool
  int used = 0;    // held by a sequence
  int cached = 0;  // held by nobody, still reusable as a prefix
  int free = 0;    // empty
  std::uint64_t evictions = 0;
};

class KvPool {
 public:
  KvPool(int n_layers, int n_head_kv, int head_dim, int block_size, int n_blocks, KvType type);

  int block_size() const { return block_size_; }
  int n_blocks() const { return n_blocks_; }
  int n_layers() const { return n_layers_; }
  int n_head_kv() const { return n_head_kv_; }
  int head_dim() const { return head_dim_; }
  KvType type() const { return type_; }
  std::size_t bytes() const { return block_bytes_ * static_cast<std::size_t>(n_blocks_); }
  std::size_t block_bytes() const { return block_bytes_; }
  // Bytes of one block of a pool of these sizes (every layer, K and V, every KV head).
  static std::size_t block_bytes_for(int n_layers, int n_head_kv, int head_dim, int block_size,
                                     KvType type);

  // Key and value rows of one token (n_head_kv * head_dim floats each) into row `row`
  // (0..block_size-1) of `block`, converted to the pool's type (the layout above).
  void store(int block, int row, int layer, const float* k, const float* v);
  // The same for one head h (head_dim floats): store() is these for every head, which
  // the forward pass calls as the heads' rows come out of the Q/K/V matmul.
  void store_k_head(int block, int row, int layer, int h, const float* k);
  void store_v_head(int block, int row, int layer, int h, const float* v);
  // The inverse of store(), as floats.
  void load(int block, int row, int layer, float* k, float* v) const;
  // The block_size key / value rows of head h of one layer (the row group: fp16, float or
  // q8_0 by type(), laid out as above).
  const void* k_rows(int block, int layer, int h) const {
    return data_.get() + offset(block, layer, 0, h);
  }
  const void* v_rows(int block, int layer, int h) const {
    return data_.get() + offset(block, layer, 1, h);
  }
  // Copies rows 0..n_rows-1 of every layer and head from block src to block dst.
  void copy_rows(int src, int dst, int n_rows);

  // Allocation. allocate(): an empty block, else the least recently used cached one
  // (dropped from the prefix cache); -1 when every block is held. The result has one
  // reference.
  int allocate();
  void retain(int block);
  void release(int block);  // last reference: cached if published, else free
  int refs(int block) const { return meta_[static_cast<std::size_t>(block)].refs; }
  bool published(int block) const { return meta_[static_cast<std::size_t>(block)].published; }
  // Blocks allocate() can still hand out (free + cached).
  int available() const { return n_free() + n_cached_; }

  // Prefix cache. hash: prefix_hash(parent, tokens) of a full block.
  int lookup(std::uint64_t hash, std::uint64_t parent, const std::int32_t* tokens) const;
  // The published block after `parent` whose first tokens match the most of
  // tokens[0..n) (n < block_size); *matched = how many (0 and -1 returned if none).
  int longest_continuation(std::uint64_t parent, const std::int32_t* tokens, int n,
                           int* matched) const;
  // Makes a full block findable by lookup(); false (nothing changes) if another block
  // already holds that prefix.
  bool publish(int block, std::uint64_t hash, std::uint64_t parent, const std::int32_t* tokens);
  static std::uint64_t prefix_hash(std::uint64_t parent, const std::int32_t* tokens, int n);
  static constexpr std::uint64_t kRootHash = 0x9e3779b97f4a7c15ull;

  KvPoolStats stats() const;

 private:
  struct Meta {
    int refs = 0;
    bool published = false;
    std::uint64_t hash = 0, parent = 0;
    int lru_prev = -1, lru_next = -1;  // in the cached list while refs == 0 && published
  };
  std::size_t offset(int block, int layer, int kv, int h) const {
    return static_cast<std::size_t>(block) * block_bytes_ +
           ((static_cast<std::size_t>(layer) * 2 + static_cast<std::size_t>(kv)) * n_head_kv_ +
            static_cast<std::size_t>(h)) *
               row_group_bytes_;
  }
  int n_free() const { return static_cast<int>(free_.size()); }
  void lru_push(int b);
  void lru_remove(int b);
  void unpublish(int b);

  int n_layers_, n_head_kv_, head_dim_, block_size_, n_blocks_;
  KvType type_;
  std::size_t esize_, row_group_bytes_, block_bytes_;
  struct Unmap {            // gives the pool's mapping back (kv_cache.cpp)
    std::size_t lead, len;  // the mapping starts lead bytes before the data
    void operator()(std::uint8_t* p) const;
  };
  std::unique_ptr<std::uint8_t, Unmap> data_;
  std::vector<Meta> meta_;
  std::vector<std::int32_t> tokens_;  // block_size per block: the tokens a published block holds
  std::vector<int> free_;             // a stack; block 0 on top first
  int lru_head_ = -1, lru_tail_ = -1, n_cached_ = 0;  // head = least recently used
  std::unordered_map<std::uint64_t, int> index_;
  std::unordered_multimap<std::uint64_t, int> children_;  // parent hash -> published blocks
  std::uint64_t evictions_ = 0;
};

// One sequence's block table over a KvPool: positions 0..n_past()-1 hold the keys and
// values of tokens()[0..n_past()).
class KvSequence {
 public:
  // max_tokens: the most positions this sequence may hold. publish: share its full blocks
  // through the pool's prefix cache.
  KvSequence(KvPool& pool, int max_tokens, bool publish = true);
  ~KvSequence();
  KvSequence(const KvSequence&) = delete;
  KvSequence& operator=(const KvSequence&) = delete;

  KvPool& pool() const { return pool_; }
  int max_tokens() const { return max_tokens_; }
  int n_past() const { return static_cast<int>(tokens_.size()); }
  const std::vector<std::int32_t>& tokens() const { return tokens_; }
  // Positions the allocated blocks can hold.
  int capacity() const { return static_cast<int>(blocks_.size()) * pool_.block_size(); }
  int block(int pos) const { return blocks_[static_cast<std::size_t>(pos / pool_.block_size())]; }
  const int* table() const { return blocks_.data(); }
  int n_blocks() const { return static_cast<int>(blocks_.size()); }

  // Takes cached blocks for the longest prefix of ids[0..n-1) (never the last id: its
  // logits must be computed) that continues the sequence in whole blocks, then, where
  // the ids part from every cached block, the rows of the first ids of a cached block
  // that continues the same prefix (copied into a block of its own); returns how many of
  // ids are now held (n_past() grew by that).
  int adopt(const std::int32_t* ids, int n);
  // Makes room for up to n more positions; returns how many fit (0..n) with the blocks
  // the pool could give. A shared or published block about to be written is copied first.
  int reserve(int n);
  // ids[0..n) were written at positions n_past().. (within capacity()): records them
  // and publishes the blocks they filled.
  void commit(const std::int32_t* ids, int n);
  // Keeps the first n positions; the blocks past them go back to the pool.
  void truncate(int n);
  void clear() { truncate(0); }

  // Allocates blocks for every position up to max_tokens without tokens (the
  // single-sequence path: forward() stores, the caller tracks positions).
  void reserve_all();

  // The hash the sequence's block chain starts from (KvPool::kRootHash by default). Blocks
  // are found and published only under the same root: sequences whose keys and values
  // differ for the same tokens (other LoRA adapters) use different roots. Only while the
  // sequence is empty (std::logic_error otherwise).
  void set_root(std::uint64_t root);
  std::uint64_t root() const { return root_; }

 private:
  void publish_full();

  KvPool& pool_;
  int max_tokens_;
  bool publish_;
  std::vector<int> blocks_;
  std::vector<std::int32_t> tokens_;
  std::uint64_t root_ = KvPool::kRootHash;
  std::vector<std::uint64_t> hashes_;  // of each full block, chained from root_
  std::vector<std::int32_t> scratch_;  // one block of tokens (adopt)
};

// A private pool with one sequence of n_ctx positions, all blocks allocated (pages still
// untouched until written): the cache of one conversation (InferenceContext, tests).
class KvCache {
 public:
  KvCache(int n_layers, int n_head_kv, int head_dim, int n_ctx, KvType type);
  KvSequence& seq() { return *seq_; }
  const KvSequence& seq() const { return *seq_; }
  KvType type() const { return pool_->type(); }
  int n_ctx() const { return n_ctx_; }
  std::size_t bytes() const { return pool_->bytes(); }

 private:
  int n_ctx_;
  std::unique_ptr<KvPool> pool_;
  std::unique_ptr<KvSequence> seq_;
};

// Positions per block of the pools the engine builds.
constexpr int kKvBlockSize = 16;

}  // namespace qwen3
