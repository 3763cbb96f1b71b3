// The feed-forward half of a Qwen3 block for a batch of tokens: the dense SwiGLU MLP, or
// the Qwen3 mixture of experts as llama.cpp's build_moe_ffn computes it for qwen3moe
// (router logits -> softmax over all experts -> the top k -> weights renormalised to sum
// 1 -> sum of the chosen SwiGLU experts' outputs times their weights, in top-k order).
// One unit used by every forward pass (BatchForward, so InferenceContext and the
// continuous-batching engine alike). Buffers are sized once; forward() allocates nothing.
//
// Experts: the batch's tokens are grouped by expert, so each chosen expert's three
// matrices are read once per call however many tokens chose it, and experts nobody chose
// are not read at all (a decode step reads k of n_expert).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "model/lora_apply.h"
#include "model/model_weights.h"
#include "model/qwen3_config.h"

namespace qwen3 {

// Router of one token: logits (n_expert) -> the k chosen experts (idx, most probable
// first) and their weights (softmax probabilities, divided by their sum if norm).
// Ties go to the lower expert index.
void moe_route(const float* logits, int n_expert, int k, bool norm, int* idx, float* weight);
// The (token, slot) pairs t * k + j of n tokens (idx: n x k chosen experts) grouped by
// expert, tokens in batch order: expert e's pairs are list[start[e] .. start[e] + count[e]).
// count and start hold n_expert entries, list n * k.
void moe_group(const int* idx, int n, int k, int n_expert, int* count, int* start, int* list);
// out_t = sum_j weight_tj * slot_out_tj (slot_out: n * k rows of n_embd), in top-k order
// (llama.cpp's order), so a token's result depends on its own experts only.
void moe_combine(const float* slot_out, const float* weight, int n, int k, int n_embd, float* out);

class FeedForward {
 public:
  FeedForward(const Qwen3Config& c, int max_tokens);

  // xn: n rows of n_embd (the ffn_norm output). out: n rows of n_embd, overwritten with
  // the block's feed-forward output (before the residual add). n <= max_tokens.
  // lora: the batch's LoRA adapters for the dense projections of block `layer` (or null).
  // in.prep (with in.prep_ctx), if set: the per-token work that writes xn's rows, run
  // first (riding the gate/up matmul's pass in the dense block).
  void forward(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool,
               LoraBatch* lora = nullptr, int layer = 0, const MatmulExtra& in = {});

  // After an MoE forward(): how many expert matrices triples the last call read.
  int experts_read() const { return experts_read_; }

  // On (the default): the dense block's SwiGLU rides the gate/up matmul's pass (each row
  // range is finished by the thread that completes the second of its gate and up items);
  // off: a separate pass. Same bits either way.
  void set_fuse(bool on) { fuse_ = on; }

 private:
  void dense(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool,
             LoraBatch* lora, int layer, const MatmulExtra& in);
  void moe(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool);
  void decode(const LayerWeights& L, const float* xn, float* out, ThreadPool& pool);
  // gate_ = silu(gate_) * up_ over n rows of `width`.
  void swiglu(int n, int width, ThreadPool& pool);

  // MatmulExtra post of the gate/up matmul: SwiGLU of rows [r0, r1) once both are done.
  static void swiglu_post(void* ctx, int mat, int64_t r0, int64_t r1);

  const Qwen3Config& c_;
  int experts_read_ = 0;
  bool fuse_ = true;
  int n_tok_ = 0;  // the tokens of the dense call under way (swiglu_post)
  // Per 16-row range of n_ff: how many of its gate and up items are done (0..2).
  std::unique_ptr<std::atomic<int>[]> pairs_;
  size_t n_pairs_ = 0;
  std::vector<float> gate_, up_;  // dense: n x n_ff; MoE: n x n_ff_exp (one expert's rows)
  // MoE scratch.
  std::vector<float> logits_;       // n x n_expert
  std::vector<int> idx_;            // n x k chosen experts
  std::vector<float> weight_;       // n x k their weights
  std::vector<int> count_, start_;  // per expert: tokens that chose it, list offset
  std::vector<int> list_;           // n x k (token * k + slot), grouped by expert
  std::vector<float> xe_, de_;      // one expert's gathered inputs / outputs: n x n_embd
  std::vector<float> slot_out_;     // n x k x n_embd: each chosen expert's output
};

}  // namespace qwen3
