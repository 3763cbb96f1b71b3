// The run-time LoRA hook of the forward pass: after a targeted projection y = W x of a
// batch's tokens, adds s * B (A x) of each adapter of each token's LoraSet. Tokens of one
// batch may run with different sets (per-request adapters in the batching engine):
// consecutive tokens with the same set form one run, and each run's rows go through the
// adapter's two small F32 matmuls together. Tokens without an active set are left
// untouched, so a batch without adapters computes exactly the base model. The scratch
// buffers grow to the largest batch once; afterwards nothing is allocated.
#pragma once

#include <vector>

#include "kernels/thread_pool.h"
#include "model/lora_adapter.h"

namespace qwen3 {

class LoraBatch {
 public:
  // Starts a batch; then add_token() once per token in batch order (nullptr = base).
  void clear() {
    runs_.clear();
    active_ = false;
  }
  void add_token(const LoraSet* set);
  // True if some token of the batch has an active set (else apply() does nothing).
  bool active() const { return active_; }

  // x: the batch's rows of `in` floats (the projection's input); y: its rows of `out`
  // floats (the projection's output), updated in place for tokens with adapters.
  void apply(int layer, LoraTarget t, const float* x, int in, float* y, int out, ThreadPool& pool);

 private:
  struct Run {
    int begin, end;
    const LoraSet* set;
  };
  std::vector<Run> runs_;
  bool active_ = false;
  std::vector<float> ax_, delta_;  // scratch: rows x rank, rows x out
};

}  // namespace qwen3
