// The run-time LoRA hook of the forward pass: after the projections of a group that
// shares its input (q/k/v, o, gate/up, down) computed y = W x for a batch's tokens, adds
// s * B (A x) of each adapter of each token's LoraSet. Tokens of one batch may run with
// different sets (per-request adapters in the batching engine): consecutive tokens with
// the same set form one run. All the A products of a group (every run, adapter and
// target) go through one pass of the thread pool, then all its B products through a
// second one (the kernels of model/lora_kernels.h): two hand-offs per group instead of
// two per adapter and projection. Tokens without an active set are left untouched, so a
// batch without adapters computes exactly the base model. The scratch buffers grow to
// the largest batch once; afterwards nothing is allocated.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "model/lora_adapter.h"

namespace qwen3 {

// Projections that read the same input, in LoraTarget order.
enum class LoraGroup : uint8_t { kQkv, kO, kGateUp, kDown };

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

  // x: the batch's rows of `in` floats (the group's input); y[i]: the rows of out[i]
  // floats of the group's i-th projection (q, k, v / o / gate, up / down), updated in
  // place for tokens with adapters.
  void apply(int layer, LoraGroup g, const float* x, int in, float* const* y, const int* out,
             ThreadPool& pool);
  // The group's products and their updates in one pass of the thread pool: Y[i] = W[i] x
  // for the batch's n rows of x (W[i]: q, k, v / o / gate, up / down, n_mat = the group's
  // size), plus the adapters' s * B (A x) for tokens with a set. The A products ride
  // matmul_multi's pass as work items handed out first, each B product runs right after
  // the work item that wrote its rows (kernels/matmul.h MatmulExtra): no hand-off beyond
  // the base's. Bit-identical to matmul_multi then apply(), for any pool size; with no
  // adapter for these tokens, exactly matmul_multi. `then`: the caller's own work riding
  // the pass (its prep of x's rows, its post on the fresh rows after the adapters' update
  // of them, row_align; no pre).
  void matmul(int layer, LoraGroup g, const WeightMatrix* const* W, float* const* Y, int n_mat,
              const float* x, int n, ThreadPool& pool, const MatmulExtra& then = {});
  // The same with one thread and the scalar reference kernels (tests).
  void apply_ref(int layer, LoraGroup g, const float* x, int in, float* const* y, const int* out);

 private:
  struct Run {
    int begin, end;
    const LoraSet* set;
  };
  // One adapter on one projection of one run; terms of a run and projection are
  // consecutive, in the set's order.
  struct Term {
    LoraView v;
    float s;         // user scale times the adapter's
    const float* x;  // the run's first input row
    float* y;        // the run's first output row
    int n;           // the run's tokens
    int out;         // y's row width
    size_t ax;       // offset of the run's n x rank values s * A x in ax_
  };
  struct AItem {
    int term, k0, k1;
  };
  struct BItem {
    int term0, term1, c0, c1;
  };
  // Fills terms_, a_items_, b_items_ (whole projections: one per run and projection,
  // their column ranges split for `threads` unless split_b is false) and sizes ax_;
  // false if nothing to do.
  bool plan(int layer, LoraGroup g, const float* x, int in, float* const* y, const int* out,
            int threads, bool split_b = true);
  void run_a(const LoraKernels& k, const AItem& it);
  void run_b(const LoraKernels& k, const BItem& it);
  // MatmulExtra's callbacks (ctx = this).
  static void pre_item(void* ctx, int64_t i);
  static void post_rows(void* ctx, int mat, int64_t r0, int64_t r1);

  std::vector<Run> runs_;
  bool active_ = false;
  std::vector<Term> terms_;
  std::vector<AItem> a_items_;
  std::vector<BItem> b_items_;
  std::vector<int> b_proj_;  // matmul(): the projection of each whole b_items_ entry
  std::vector<float> ax_;    // scratch: the terms' s * A x
  MatmulExtra then_;         // matmul(): the caller's post, chained after the B products
};

}  // namespace qwen3
