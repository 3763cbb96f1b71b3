// The Qwen3 forward pass over a batch of tokens that may belong to different sequences at
// different positions: each token carries its sequence (an index into the paged KV
// sequences given to the call) and its position, and attends over its own sequence's
// blocks only. Decode
// steps of many sequences and prompt chunks therefore share every weight read of the
// matmuls. The activation buffers are sized once for max_tokens; forward() allocates
// nothing. Each token's results depend on its own sequence only, never on the rest of
// the batch, bit for bit wherever the matrices are in the rows8 layout (every matrix of a
// real Qwen3 model once repacked). Matrices left plain (QWEN3_NO_REPACK, row counts not a
// multiple of 8 such as the tiny test preset's lm_head) switch micro-kernels at 4 tokens,
// so their results may differ from a batch of another size in the last bits.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/kv_cache.h"
#include "model/lora_apply.h"
#include "model/mrope.h"
#include "model/rope.h"

namespace qwen3 {

class Qwen3Model;
struct Qwen3Config;
struct ModelWeights;

struct BatchToken {
  std::int32_t id = 0;
  int seq = 0;          // index into the sequences of the forward() call
  int pos = 0;          // position in its sequence; 0..pos-1 must be cached already or
                        // come earlier in the same batch
  bool logits = false;  // produce this token's logits row
  const LoraSet* lora = nullptr;  // LoRA adapters this token runs with (nullptr = base)
  // Qwen3-VL models (model/mrope.h): the M-RoPE position and, for an image token, its
  // encoder row (input embedding + DeepStack slices). nullptr: rotary position `pos`.
  const VlInput* vl = nullptr;
};

// Where the time of forward() calls goes, summed over the calls while set (a profiling
// aid: bench/batch_step_bench.cpp). Milliseconds of wall time, or with thread_cpu of the
// calling thread's CPU time (meaningful with one thread: robust on a busy machine).
struct ForwardProfile {
  bool thread_cpu = false;
  std::uint64_t calls = 0, tokens = 0;
  double embed = 0;      // embedding rows, RoPE tables, checks
  double per_token = 0;  // norms, q/k norms + RoPE + cache stores, residual adds
  double qkv = 0;        // the fused Q/K/V matmul
  double attention = 0;  // batch_attention
  double wo = 0;         // the output projection
  double ffn = 0;        // the feed-forward block (gate/up, SwiGLU, down)
  double lm_head = 0;    // final norm + lm_head
  double total = 0;
};

class BatchForward {
 public:
  // max_tokens: the most tokens one forward() takes; max_ctx: the largest cache it sees.
  // n_threads 0 = the model's default.
  BatchForward(std::shared_ptr<const Qwen3Model> model, int max_tokens, int max_ctx,
               int n_threads = 0);
  ~BatchForward();
  BatchForward(const BatchForward&) = delete;
  BatchForward& operator=(const BatchForward&) = delete;

  // Runs tokens[0..n) through the model, storing each token's keys/values in
  // seqs[token.seq] at token.pos (its block must be allocated: pos < capacity()). Writes
  // one row of n_vocab logits per token with logits set, in batch order. Throws
  // std::invalid_argument on a bad id, sequence, position or batch size (before touching
  // any cache).
  void forward(const BatchToken* tokens, int n, KvSequence* const* seqs, int n_seqs, float* logits);

  // Adds the phases' time of every later forward() to *p (nullptr: off, the default).
  void set_profile(ForwardProfile* p) { prof_ = p; }

  // Off: the work between the matmuls runs as separate per-token passes instead of
  // riding the matmuls' passes (the fused default). Same results, bit for bit: for tests
  // and benchmarks of the fusion.
  void set_fuse(bool on) {
    fuse_ = on;
    ffn_.set_fuse(on);
  }

  // The caller expects no forward() for a while: the pool's idle workers sleep now
  // (ThreadPool::rest).
  void rest_threads() { pool_.rest(); }

  int max_tokens() const { return max_tokens_; }
  int max_ctx() const { return max_ctx_; }
  int n_threads() const { return pool_.size(); }
  const Qwen3Model& model() const { return *model_; }

 private:
  void check(const BatchToken* tokens, int n, KvSequence* const* seqs, int n_seqs) const;

  std::shared_ptr<const Qwen3Model> model_;
  const Qwen3Config& c_;
  const ModelWeights& w_;
  int max_tokens_, max_ctx_;
  ThreadPool pool_;
  Rope rope_;  // NEOX RoPE, YaRN-scaled when the model says so
  std::vector<AttentionScratch> scratch_;
  std::vector<AttentionToken> att_toks_;
  // Activations, max_tokens rows each.
  std::vector<float> x_, xn_, q_, k_, v_, att_, tmp_, rope_cos_, rope_sin_;
  std::vector<int> out_row_;  // per token of a call: its logits row, or -1
  FeedForward ffn_;           // the MLP or mixture of experts, with its own buffers
  LoraBatch lora_;            // the tokens' LoRA adapters (model/lora_apply.h)
  ForwardProfile* prof_ = nullptr;
  bool fuse_ = true;
};

}  // namespace qwen3
