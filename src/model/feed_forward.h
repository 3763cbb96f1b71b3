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

#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/lora_apply.h"
#include "model/model_weights.h"
#include "model/qwen3_config.h"

namespace qwen3 {

// Router of one token: logits (n_expert) -> the k chosen experts (idx, most probable
// first) and their weights (softmax probabilities, divided by their sum if norm).
// Ties go to the lower expert index.
void moe_route(const float* logits, int n_expert, int k, bool norm, int* idx, float* weight);

class FeedForward {
 public:
  FeedForward(const Qwen3Config& c, int max_tokens);

  // xn: n rows of n_embd (the ffn_norm output). out: n rows of n_embd, overwritten with
  // the block's feed-forward output (before the residual add). n <= max_tokens.
  // lora: the batch's LoRA adapters for the dense projections of block `layer` (or null).
  void forward(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool,
               LoraBatch* lora = nullptr, int layer = 0);

  // After an MoE forward(): how many expert matrices triples the last call read.
  int experts_read() const { return experts_read_; }

 private:
  void dense(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool,
             LoraBatch* lora, int layer);
  void moe(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool);
  void decode(const LayerWeights& L, const float* xn, float* out, ThreadPool& pool);
  // gate_ = silu(gate_) * up_ over n rows of `width`.
  void swiglu(int n, int width, ThreadPool& pool);

  const Qwen3Config& c_;
  int experts_read_ = 0;
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
