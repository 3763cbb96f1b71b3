// LoraBatch: runs of tokens sharing a LoraSet, and the unmerged update of a group of
// projections in two passes of the thread pool (see lora_apply.h).
#include "model/lora_apply.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace qwen3 {

namespace {

struct GroupTargets {
  LoraTarget first;
  int count;
};

GroupTargets group_targets(LoraGroup g) {
  switch (g) {
    case LoraGroup::kQkv:
      return {LoraTarget::kQ, 3};
    case LoraGroup::kO:
      return {LoraTarget::kO, 1};
    case LoraGroup::kGateUp:
      return {LoraTarget::kGate, 2};
    default:
      return {LoraTarget::kDown, 1};
  }
}

// Rows of A per work item: the A products are short (rank rows), so a few rows already
// stream a few KiB of A.
constexpr int kARows = 8;
// B^T columns per work item: whole column blocks (kLoraCols), about kItemsPerThread
// items per thread, as in matmul (a thread slowed by other load takes fewer).
constexpr int kItemsPerThread = 8;

// Items [0, n) claimed from a shared counter by the pool's threads.
template <class F>
void run_items(ThreadPool& pool, size_t n, F&& fn) {
  if (n == 0) return;
  if (n == 1 || pool.size() <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  pool.parallel_for(std::min<int64_t>(pool.size(), static_cast<int64_t>(n)),
                    [&](int64_t, int64_t, int) {
                      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
                    });
}

}  // namespace

void LoraBatch::add_token(const LoraSet* set) {
  const LoraSet* s = set && set->active() ? set : nullptr;
  const int t = runs_.empty() ? 0 : runs_.back().end;
  if (!runs_.empty() && runs_.back().set == s) {
    ++runs_.back().end;
    return;
  }
  runs_.push_back({t, t + 1, s});
  active_ = active_ || s != nullptr;
}

bool LoraBatch::plan(int layer, LoraGroup g, const float* x, int in, float* const* y,
                     const int* out, int threads, bool split_b) {
  terms_.clear();
  a_items_.clear();
  b_items_.clear();
  b_proj_.clear();
  if (!active_) return false;
  const GroupTargets gt = group_targets(g);
  size_t ax_total = 0;
  int64_t b_cols = 0;  // output columns with an update, over the runs and projections
  for (const Run& run : runs_) {
    if (!run.set) continue;
    const int n = run.end - run.begin;
    const float* xr = x + static_cast<size_t>(run.begin) * static_cast<size_t>(in);
    for (int i = 0; i < gt.count; ++i) {
      const auto tgt = static_cast<LoraTarget>(static_cast<int>(gt.first) + i);
      const size_t first = terms_.size();
      for (const LoraSet::Entry& e : run.set->entries) {
        if (!e.adapter || e.scale == 0.0f) continue;
        LoraView v;
        if (!e.adapter->view(layer, tgt, &v)) continue;
        terms_.push_back({v, e.scale * v.scale, xr,
                          y[i] + static_cast<size_t>(run.begin) * static_cast<size_t>(out[i]), n,
                          out[i], ax_total});
        ax_total += static_cast<size_t>(n) * static_cast<size_t>(v.rank);
      }
      if (terms_.size() > first) {
        // Recorded as one B item over all the columns; split below.
        b_items_.push_back({static_cast<int>(first), static_cast<int>(terms_.size()), 0, out[i]});
        b_proj_.push_back(i);
        b_cols += out[i];
      }
    }
  }
  if (terms_.empty()) return false;
  if (ax_.size() < ax_total) ax_.resize(ax_total);
  for (size_t t = 0; t < terms_.size(); ++t)
    for (int k = 0; k < terms_[t].v.rank; k += kARows)
      a_items_.push_back({static_cast<int>(t), k, std::min(terms_[t].v.rank, k + kARows)});
  if (!split_b) return true;
  const int64_t spread = static_cast<int64_t>(kItemsPerThread) * std::max(1, threads);
  const int cols = static_cast<int>(
      std::max<int64_t>(kLoraCols, (b_cols + spread - 1) / spread + kLoraCols - 1) / kLoraCols *
      kLoraCols);
  const size_t whole = b_items_.size();
  for (size_t i = 0; i < whole; ++i) {
    const BItem w = b_items_[i];  // a copy: push_back may move the items
    b_items_[i].c1 = std::min(w.c1, cols);
    for (int c = cols; c < w.c1; c += cols)
      b_items_.push_back({w.term0, w.term1, c, std::min(w.c1, c + cols)});
  }
  return true;
}

void LoraBatch::run_a(const LoraKernels& k, const AItem& it) {
  const Term& tm = terms_[static_cast<size_t>(it.term)];
  k.a(tm.v, it.k0, it.k1, tm.x, tm.n, tm.v.in, tm.s, ax_.data() + tm.ax, tm.v.rank);
}

void LoraBatch::run_b(const LoraKernels& k, const BItem& it) {
  for (int t = it.term0; t < it.term1; ++t) {
    const Term& tm = terms_[static_cast<size_t>(t)];
    k.b(tm.v, it.c0, it.c1, ax_.data() + tm.ax, tm.n, tm.v.rank, tm.y, tm.out);
  }
}

void LoraBatch::apply(int layer, LoraGroup g, const float* x, int in, float* const* y,
                      const int* out, ThreadPool& pool) {
  if (!plan(layer, g, x, in, y, out, pool.size())) return;
  const LoraKernels& k = lora_kernels();
  run_items(pool, a_items_.size(), [&](size_t i) { run_a(k, a_items_[i]); });
  run_items(pool, b_items_.size(), [&](size_t i) { run_b(k, b_items_[i]); });
}

void LoraBatch::pre_item(void* ctx, int64_t i) {
  auto* self = static_cast<LoraBatch*>(ctx);
  self->run_a(lora_kernels(), self->a_items_[static_cast<size_t>(i)]);
}

void LoraBatch::post_rows(void* ctx, int mat, int64_t r0, int64_t r1) {
  auto* self = static_cast<LoraBatch*>(ctx);
  const LoraKernels& k = lora_kernels();
  for (size_t j = 0; j < self->b_proj_.size(); ++j) {
    if (self->b_proj_[j] != mat) continue;
    BItem it = self->b_items_[j];
    it.c0 = static_cast<int>(r0);
    it.c1 = static_cast<int>(r1);
    self->run_b(k, it);
  }
  if (self->then_.post) self->then_.post(self->then_.ctx, mat, r0, r1);
}

void LoraBatch::matmul(int layer, LoraGroup g, const WeightMatrix* const* W, float* const* Y,
                       int n_mat, const float* x, int n, ThreadPool& pool,
                       const MatmulExtra& then) {
  if (n_mat != group_targets(g).count)
    throw std::invalid_argument("LoraBatch::matmul: wrong number of matrices for the group");
  if (then.pre != nullptr && then.n_pre > 0)
    throw std::invalid_argument("LoraBatch::matmul: the caller's work has no pre items");
  int out[4] = {0, 0, 0, 0};
  for (int i = 0; i < n_mat; ++i) out[i] = static_cast<int>(W[i]->rows);
  if (!plan(layer, g, x, static_cast<int>(W[0]->cols), Y, out, pool.size(), false)) {
    matmul_multi(W, Y, n_mat, x, n, pool, then);
    return;
  }
  then_ = then;
  MatmulExtra extra;
  extra.row_align = then.row_align;
  extra.prep = then.prep;  // the caller's input rows come first (their own items)
  extra.prep_ctx = then.prep_ctx;
  extra.n_pre = static_cast<int64_t>(a_items_.size());
  extra.pre = &LoraBatch::pre_item;
  extra.post = &LoraBatch::post_rows;
  extra.ctx = this;
  matmul_multi(W, Y, n_mat, x, n, pool, extra);
}

void LoraBatch::apply_ref(int layer, LoraGroup g, const float* x, int in, float* const* y,
                          const int* out) {
  if (!plan(layer, g, x, in, y, out, 1)) return;
  const LoraKernels& k = lora_kernels_ref();
  for (const AItem& it : a_items_) run_a(k, it);
  for (const BItem& it : b_items_) run_b(k, it);
}

}  // namespace qwen3
