// LoraBatch: runs of tokens sharing a LoraSet, and the unmerged update of one projection
// (see lora_apply.h).
#include "model/lora_apply.h"

#include "kernels/matmul.h"

namespace qwen3 {

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

void LoraBatch::apply(int layer, LoraTarget t, const float* x, int in, float* y, int out,
                      ThreadPool& pool) {
  if (!active_) return;
  for (const Run& run : runs_) {
    if (!run.set) continue;
    const int n = run.end - run.begin;
    const float* xr = x + static_cast<size_t>(run.begin) * static_cast<size_t>(in);
    float* yr = y + static_cast<size_t>(run.begin) * static_cast<size_t>(out);
    for (const LoraSet::Entry& e : run.set->entries) {
      if (!e.adapter || e.scale == 0.0f) continue;
      const LoraMatrices* m = e.adapter->find(layer, t);
      if (!m) continue;
      const size_t ax_n = static_cast<size_t>(n) * static_cast<size_t>(m->rank);
      const size_t d_n = static_cast<size_t>(n) * static_cast<size_t>(out);
      if (ax_.size() < ax_n) ax_.resize(ax_n);
      if (delta_.size() < d_n) delta_.resize(d_n);
      matmul(m->A(), xr, n, ax_.data(), pool);
      const float s = e.scale * m->scale;
      for (size_t i = 0; i < ax_n; ++i) ax_[i] *= s;
      matmul(m->B(), ax_.data(), n, delta_.data(), pool);
      for (size_t i = 0; i < d_n; ++i) yr[i] += delta_[i];
    }
  }
}

}  // namespace qwen3
