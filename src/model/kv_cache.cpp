// KvPool, KvSequence and KvCache: the paged KV cache with its prefix cache (see kv_cache.h).
#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include <sys/mman.h>

#include "kernels/attention_paged.h"
#include "kernels/fp16.h"
#include "kernels/mix64.h"
#include "model/qwen3_model.h"

namespace qwen3 {
namespace {

// The pool's bytes: an anonymous mapping, so pages stay untouched (not resident) until
// written, aligned to 2 MiB and advised for transparent huge pages. A block (1.75 MiB for
// a 0.6B model: every layer and head) is then one or two page faults when first written
// instead of ~450, and attention walks a sequence's blocks through a few TLB entries
// instead of one per 4 KiB row group.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

}  // namespace

void KvPool::Unmap::operator()(std::uint8_t* p) const {
  if (p) munmap(p - lead, len);
}

// ---- KvPool ----

namespace {

std::size_t element_bytes(KvType t) {
  return t == KvType::F32 ? 4 : t == KvType::F16 ? 2 : 1;
}

// Bytes of one row group (block_size rows of one layer, K or V, KV head): the layout in
// kv_cache.h.
std::size_t row_group_bytes(int head_dim, int block_size, KvType type) {
  const std::size_t elems = static_cast<std::size_t>(block_size) * head_dim;
  if (type != KvType::Q8_0) return elems * element_bytes(type);
  const std::size_t scales = static_cast<std::size_t>(block_size) * (head_dim / 32) * 2;
  return (elems + scales + 63) / 64 * 64;
}

}  // namespace

std::size_t KvPool::block_bytes_for(int n_layers, int n_head_kv, int head_dim, int block_size,
                                    KvType type) {
  return static_cast<std::size_t>(n_layers) * 2 * n_head_kv *
         row_group_bytes(head_dim, block_size, type);
}

KvPool::KvPool(int n_layers, int n_head_kv, int head_dim, int block_size, int n_blocks, KvType type)
    : n_layers_(n_layers),
      n_head_kv_(n_head_kv),
      head_dim_(head_dim),
      block_size_(block_size),
      n_blocks_(n_blocks),
      type_(type),
      esize_(element_bytes(type)) {
  if (n_layers <= 0 || n_head_kv <= 0 || head_dim <= 0 || block_size <= 0 || n_blocks <= 0)
    throw std::invalid_argument("KvPool: every size must be positive");
  if (type == KvType::Q8_0 && head_dim % 32 != 0)
    throw std::invalid_argument(
        "KvPool: a q8_0 KV cache needs a head dim that is a multiple "
        "of 32, the model's is " +
        std::to_string(head_dim));
  row_group_bytes_ = row_group_bytes(head_dim, block_size, type);
  block_bytes_ = block_bytes_for(n_layers, n_head_kv, head_dim, block_size, type);
  const std::size_t len = bytes() + kHugePage;
  void* map = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<std::uint8_t*>(map);
  const std::size_t lead =
      (kHugePage - reinterpret_cast<std::uintptr_t>(base) % kHugePage) % kHugePage;
  data_ = std::unique_ptr<std::uint8_t, Unmap>(base + lead, Unmap{lead, len});
#ifdef MADV_HUGEPAGE
  madvise(base + lead, len - lead, MADV_HUGEPAGE);
#endif
  meta_.resize(static_cast<std::size_t>(n_blocks));
  tokens_.resize(static_cast<std::size_t>(n_blocks) * block_size);
  free_.reserve(static_cast<std::size_t>(n_blocks));
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
  index_.reserve(static_cast<std::size_t>(n_blocks));
  children_.reserve(static_cast<std::size_t>(n_blocks));
}

void KvPool::store(int block, int row, int layer, const float* k, const float* v) {
  for (int h = 0; h < n_head_kv_; ++h) {
    store_k_head(block, row, layer, h, k + static_cast<std::size_t>(h) * head_dim_);
    store_v_head(block, row, layer, h, v + static_cast<std::size_t>(h) * head_dim_);
  }
}

void KvPool::store_k_head(int block, int row, int layer, int h, const float* kh) {
  // Keys dim-major (element d of row r at d * block_size + r): the layout
  // attention_paged reads (kernels/attention_paged.h).
  const std::size_t bs = static_cast<std::size_t>(block_size_);
  std::uint8_t* kd = data_.get() + offset(block, layer, 0, h);
  if (type_ == KvType::F16) {
    auto* kt = reinterpret_cast<std::uint16_t*>(kd) + row;
    std::uint16_t conv[512];  // one row through the SIMD converter, then scattered
    if (head_dim_ <= 512) {
      fp32_to_fp16_row(kh, conv, head_dim_);
      for (int d = 0; d < head_dim_; ++d) kt[d * bs] = conv[d];
    } else {
      for (int d = 0; d < head_dim_; ++d) kt[d * bs] = fp32_to_fp16(kh[d]);
    }
  } else if (type_ == KvType::Q8_0) {
    // ggml's q8_0 of the row (kernels/attention_paged.h), up to 512 dims at a time, then
    // scattered into the dim-major quants and the [group][row] scales.
    std::int8_t q[512];
    std::uint16_t sc[16];
    auto* kt = reinterpret_cast<std::int8_t*>(kd) + row;
    auto* st = reinterpret_cast<std::uint16_t*>(kd + bs * head_dim_) + row;
    for (int d0 = 0; d0 < head_dim_; d0 += 512) {
      const int n = std::min(512, head_dim_ - d0);
      quantize_kv_q8_0(kh + d0, n, q, sc);
      for (int g = 0; g < n / 32; ++g) st[static_cast<std::size_t>(d0 / 32 + g) * bs] = sc[g];
      for (int i = 0; i < n; ++i) kt[static_cast<std::size_t>(d0 + i) * bs] = q[i];
    }
  } else {
    float* kt = reinterpret_cast<float*>(kd) + row;
    for (int d = 0; d < head_dim_; ++d) kt[d * bs] = kh[d];
  }
}

void KvPool::store_v_head(int block, int row, int layer, int h, const float* vh) {
  // Values row-major.
  const std::size_t at = static_cast<std::size_t>(row) * head_dim_ * esize_;
  std::uint8_t* vd = data_.get() + offset(block, layer, 1, h) + at;
  if (type_ == KvType::F16) {
    fp32_to_fp16_row(vh, reinterpret_cast<std::uint16_t*>(vd), head_dim_);
  } else if (type_ == KvType::Q8_0) {
    // Quants and the row's scales in place (row-major, [row][group]).
    auto* st = reinterpret_cast<std::uint16_t*>(data_.get() + offset(block, layer, 1, h) +
                                                static_cast<std::size_t>(block_size_) * head_dim_) +
               static_cast<std::size_t>(row) * (head_dim_ / 32);
    quantize_kv_q8_0(vh, head_dim_, reinterpret_cast<std::int8_t*>(vd), st);
  } else {
    std::memcpy(vd, vh, head_dim_ * sizeof(float));
  }
}

void KvPool::load(int block, int row, int layer, float* k, float* v) const {
  for (int h = 0; h < n_head_kv_; ++h) {
    const std::uint8_t* kd = data_.get() + offset(block, layer, 0, h);
    const std::uint8_t* vd = data_.get() + offset(block, layer, 1, h);
    float* kh = k + static_cast<std::size_t>(h) * head_dim_;
    float* vh = v + static_cast<std::size_t>(h) * head_dim_;
    for (int d = 0; d < head_dim_; ++d) {  // the attention reference's element readers
      kh[d] = paged_key_at(type_, kd, block_size_, row, d, head_dim_);
      vh[d] = paged_value_at(type_, vd, block_size_, row, d, head_dim_);
    }
  }
}

void KvPool::copy_rows(int src, int dst, int n_rows) {
  if (n_rows <= 0) return;
  const std::size_t n = static_cast<std::size_t>(n_rows) * esize_;
  const std::size_t col = static_cast<std::size_t>(block_size_) * esize_;
  const std::size_t elems = static_cast<std::size_t>(block_size_) * head_dim_;
  const int groups = head_dim_ / 32;
  for (int l = 0; l < n_layers_; ++l)
    for (int h = 0; h < n_head_kv_; ++h) {
      // Keys: the first n_rows of each dimension's column; values: the first n_rows rows.
      std::uint8_t* kd = data_.get() + offset(dst, l, 0, h);
      const std::uint8_t* ks = data_.get() + offset(src, l, 0, h);
      for (int d = 0; d < head_dim_; ++d) std::memcpy(kd + d * col, ks + d * col, n);
      std::uint8_t* vd = data_.get() + offset(dst, l, 1, h);
      const std::uint8_t* vs = data_.get() + offset(src, l, 1, h);
      std::memcpy(vd, vs, n * head_dim_);
      if (type_ == KvType::Q8_0) {
        // The scales: keys' [group][row] (the first n_rows of each group's column),
        // values' [row][group] (the first n_rows rows).
        const std::size_t sb = static_cast<std::size_t>(n_rows) * 2;
        for (int g = 0; g < groups; ++g)
          std::memcpy(kd + elems + g * block_size_ * 2, ks + elems + g * block_size_ * 2, sb);
        std::memcpy(vd + elems, vs + elems, sb * groups);
      }
    }
}

void KvPool::lru_push(int b) {
  Meta& m = meta_[static_cast<std::size_t>(b)];
  m.lru_prev = lru_tail_;
  m.lru_next = -1;
  if (lru_tail_ >= 0)
    meta_[static_cast<std::size_t>(lru_tail_)].lru_next = b;
  else
    lru_head_ = b;
  lru_tail_ = b;
  ++n_cached_;
}

void KvPool::lru_remove(int b) {
  Meta& m = meta_[static_cast<std::size_t>(b)];
  if (m.lru_prev >= 0)
    meta_[static_cast<std::size_t>(m.lru_prev)].lru_next = m.lru_next;
  else
    lru_head_ = m.lru_next;
  if (m.lru_next >= 0)
    meta_[static_cast<std::size_t>(m.lru_next)].lru_prev = m.lru_prev;
  else
    lru_tail_ = m.lru_prev;
  m.lru_prev = m.lru_next = -1;
  --n_cached_;
}

void KvPool::unpublish(int b) {
  Meta& m = meta_[static_cast<std::size_t>(b)];
  if (!m.published) return;
  auto it = index_.find(m.hash);
  if (it != index_.end() && it->second == b) index_.erase(it);
  auto [lo, hi] = children_.equal_range(m.parent);
  for (auto c = lo; c != hi; ++c)
    if (c->second == b) {
      children_.erase(c);
      break;
    }
  m.published = false;
}

int KvPool::longest_continuation(std::uint64_t parent, const std::int32_t* tokens, int n,
                                 int* matched) const {
  int best = -1, best_len = 0;
  auto [lo, hi] = children_.equal_range(parent);
  for (auto c = lo; c != hi; ++c) {
    const std::int32_t* held = tokens_.data() + static_cast<std::size_t>(c->second) * block_size_;
    int k = 0;
    while (k < n && k < block_size_ && held[k] == tokens[k]) ++k;
    if (k > best_len) {
      best = c->second;
      best_len = k;
    }
  }
  *matched = best_len;
  return best;
}

int KvPool::allocate() {
  int b = -1;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (lru_head_ >= 0) {
    b = lru_head_;
    lru_remove(b);
    unpublish(b);
    ++evictions_;
  } else {
    return -1;
  }
  meta_[static_cast<std::size_t>(b)].refs = 1;
  return b;
}

void KvPool::retain(int block) {
  Meta& m = meta_.at(static_cast<std::size_t>(block));
  if (m.refs == 0) {
    if (!m.published) throw std::logic_error("KvPool::retain of a free block");
    lru_remove(block);
  }
  ++m.refs;
}

void KvPool::release(int block) {
  Meta& m = meta_.at(static_cast<std::size_t>(block));
  if (m.refs <= 0) throw std::logic_error("KvPool::release of an unheld block");
  if (--m.refs > 0) return;
  if (m.published)
    lru_push(block);
  else
    free_.push_back(block);
}

std::uint64_t KvPool::prefix_hash(std::uint64_t parent, const std::int32_t* tokens, int n) {
  std::uint64_t h = mix64(parent + 0x632be59bd9b4e019ull);
  for (int i = 0; i < n; ++i) h = mix64(h ^ (static_cast<std::uint64_t>(tokens[i]) + 0x9e37ull));
  return h;
}

int KvPool::lookup(std::uint64_t hash, std::uint64_t parent, const std::int32_t* tokens) const {
  auto it = index_.find(hash);
  if (it == index_.end()) return -1;
  const int b = it->second;
  const Meta& m = meta_[static_cast<std::size_t>(b)];
  if (m.parent != parent) return -1;
  const std::int32_t* held = tokens_.data() + static_cast<std::size_t>(b) * block_size_;
  if (!std::equal(tokens, tokens + block_size_, held)) return -1;
  return b;
}

bool KvPool::publish(int block, std::uint64_t hash, std::uint64_t parent,
                     const std::int32_t* tokens) {
  Meta& m = meta_.at(static_cast<std::size_t>(block));
  if (m.published || m.refs <= 0) return false;
  if (!index_.emplace(hash, block).second) return false;
  children_.emplace(parent, block);
  m.published = true;
  m.hash = hash;
  m.parent = parent;
  std::copy_n(tokens, block_size_, tokens_.data() + static_cast<std::size_t>(block) * block_size_);
  return true;
}

KvPoolStats KvPool::stats() const {
  KvPoolStats s;
  s.blocks = n_blocks_;
  s.free = n_free();
  s.cached = n_cached_;
  s.used = n_blocks_ - s.free - s.cached;
  s.evictions = evictions_;
  return s;
}

// ---- KvSequence ----

KvSequence::KvSequence(KvPool& pool, int max_tokens, bool publish)
    : pool_(pool), max_tokens_(max_tokens), publish_(publish) {
  if (max_tokens <= 0) throw std::invalid_argument("KvSequence: max_tokens must be positive");
  const std::size_t n_blocks =
      static_cast<std::size_t>((max_tokens + pool.block_size() - 1) / pool.block_size());
  blocks_.reserve(n_blocks);
  hashes_.reserve(n_blocks);
  tokens_.reserve(static_cast<std::size_t>(max_tokens));
  scratch_.resize(static_cast<std::size_t>(pool.block_size()));
}

KvSequence::~KvSequence() {
  for (int b : blocks_) pool_.release(b);
}

int KvSequence::adopt(const std::int32_t* ids, int n) {
  const int bs = pool_.block_size();
  std::vector<std::int32_t>& blk = scratch_;
  int taken = 0;
  for (;;) {
    const int np = n_past();
    const int b = np / bs, start = b * bs;
    const int need = start + bs - np;  // ids that complete block b
    if (taken + need > n - 1 || start + bs > max_tokens_) break;
    std::copy(tokens_.begin() + start, tokens_.end(), blk.begin());
    std::copy_n(ids + taken, need, blk.begin() + (np - start));
    const std::uint64_t parent = b == 0 ? root_ : hashes_[static_cast<std::size_t>(b - 1)];
    const std::uint64_t h = KvPool::prefix_hash(parent, blk.data(), bs);
    const int found = pool_.lookup(h, parent, blk.data());
    if (found < 0) break;
    if (static_cast<std::size_t>(b) < blocks_.size()) {
      if (blocks_[static_cast<std::size_t>(b)] != found) {
        pool_.retain(found);
        pool_.release(blocks_[static_cast<std::size_t>(b)]);
        blocks_[static_cast<std::size_t>(b)] = found;
      }
    } else {
      pool_.retain(found);
      blocks_.push_back(found);
    }
    tokens_.insert(tokens_.end(), ids + taken, ids + taken + need);
    hashes_.push_back(h);
    taken += need;
  }
  // Where the ids part from every cached block: a cached block after the same prefix whose
  // first ids are the same holds their rows too. Copied (the rest of that block is not
  // ours), when the sequence ends on a block boundary with no block allocated past it.
  const int np = n_past();
  const int want = std::min(n - 1 - taken, bs - 1);
  const std::size_t b = static_cast<std::size_t>(np / bs);
  if (want > 0 && np % bs == 0 && blocks_.size() == b && np + want <= max_tokens_) {
    const std::uint64_t parent = b == 0 ? root_ : hashes_[b - 1];
    int k = 0;
    const int src = pool_.longest_continuation(parent, ids + taken, want, &k);
    if (src >= 0) {
      pool_.retain(src);  // allocate() must not evict it
      const int dst = pool_.allocate();
      if (dst >= 0) {
        pool_.copy_rows(src, dst, k);
        blocks_.push_back(dst);
        tokens_.insert(tokens_.end(), ids + taken, ids + taken + k);
        taken += k;
      }
      pool_.release(src);
    }
  }
  return taken;
}

int KvSequence::reserve(int n) {
  const int bs = pool_.block_size();
  const int np = n_past();
  const int want = std::min(n, max_tokens_ - np);
  if (want <= 0) return 0;
  const std::size_t b = static_cast<std::size_t>(np / bs);
  if (b < blocks_.size()) {
    const int held = blocks_[b];
    if (pool_.refs(held) > 1 || pool_.published(held)) {  // copy on write
      const int copy = pool_.allocate();
      if (copy < 0) return 0;
      pool_.copy_rows(held, copy, np % bs);
      pool_.release(held);
      blocks_[b] = copy;
    }
  }
  while (capacity() < np + want) {
    const int nb = pool_.allocate();
    if (nb < 0) break;
    blocks_.push_back(nb);
  }
  return std::min(want, capacity() - np);
}

void KvSequence::commit(const std::int32_t* ids, int n) {
  if (n < 0 || n_past() + n > capacity())
    throw std::logic_error("KvSequence::commit past the reserved blocks");
  tokens_.insert(tokens_.end(), ids, ids + n);
  publish_full();
}

void KvSequence::publish_full() {
  const int bs = pool_.block_size();
  while (hashes_.size() < tokens_.size() / static_cast<std::size_t>(bs)) {
    const std::size_t b = hashes_.size();
    const std::uint64_t parent = b == 0 ? root_ : hashes_[b - 1];
    const std::int32_t* toks = tokens_.data() + b * static_cast<std::size_t>(bs);
    const std::uint64_t h = KvPool::prefix_hash(parent, toks, bs);
    hashes_.push_back(h);
    if (publish_ && !pool_.published(blocks_[b])) pool_.publish(blocks_[b], h, parent, toks);
  }
}

void KvSequence::truncate(int n) {
  if (n < 0 || n > n_past())
    throw std::out_of_range("truncate(" + std::to_string(n) + "): the cache holds " +
                            std::to_string(n_past()) + " tokens");
  const int bs = pool_.block_size();
  tokens_.resize(static_cast<std::size_t>(n));
  hashes_.resize(std::min(hashes_.size(), static_cast<std::size_t>(n / bs)));
  const std::size_t keep = static_cast<std::size_t>((n + bs - 1) / bs);
  while (blocks_.size() > keep) {
    pool_.release(blocks_.back());
    blocks_.pop_back();
  }
}

void KvSequence::set_root(std::uint64_t root) {
  if (n_past() > 0 || !blocks_.empty())
    throw std::logic_error("KvSequence::set_root on a sequence that holds tokens");
  root_ = root;
}

void KvSequence::reserve_all() {
  while (capacity() < max_tokens_) {
    const int nb = pool_.allocate();
    if (nb < 0) throw std::length_error("KvSequence: the pool has no block left");
    blocks_.push_back(nb);
  }
}

// ---- KvCache ----

KvCache::KvCache(int n_layers, int n_head_kv, int head_dim, int n_ctx, KvType type)
    : n_ctx_(n_ctx),
      pool_(std::make_unique<KvPool>(n_layers, n_head_kv, head_dim, kKvBlockSize,
                                     (n_ctx + kKvBlockSize - 1) / kKvBlockSize, type)),
      seq_(std::make_unique<KvSequence>(*pool_, n_ctx, false)) {
  seq_->reserve_all();
}

}  // namespace qwen3
