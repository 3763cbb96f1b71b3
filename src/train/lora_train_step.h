// The training forward and backward pass of a Qwen3 model (dense or mixture of experts)
// with LoRA adapters (`qwen3 finetune`): the frozen base as loaded (quantized matrices through the
// forward pass's own matmul kernels), the LoRA update y = W x + s B (A x) on the chosen
// projections, and the gradient of the cross-entropy on the marked tokens with respect
// to every A and B, and nothing else.
//
// Memory: the forward keeps only each block's input (n x n_embd floats per layer); the
// backward recomputes one block's activations from it (one extra forward of compute) and
// goes back through it. The lm_head runs on the marked positions only, in chunks of
// rows, so the n x n_vocab logits are never held. dx = W^T dy uses TransposedWeights.
//
// Mixture-of-experts bases (adapters on q, k, v, o only, as inference allows): the
// feed-forward is the model's (the router's logits, moe_route's rule, the chosen experts'
// SwiGLU products grouped by expert through the same kernels, the weighted sum in top-k
// order), and its backward carries dx through every chosen expert (transposed one expert
// at a time into F32, see transposed_weights.h) and through the routing weights: with
// w = softmax of the chosen logits (norm_topk_prob) dz_i = w_i (dw_i - sum_j w_j dw_j) on
// the chosen experts; without it dz_i = p_i ([i chosen] dw_i - sum_j p_j dw_j) on all; the
// top-k choice itself is piecewise constant.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/model_weights.h"
#include "model/qwen3_model.h"
#include "model/rope.h"
#include "train/lora_params.h"
#include "train/transposed_weights.h"

namespace qwen3::train {

// One training sequence: token ids, and target[t] != 0 if token t is trained on (the
// loss of predicting ids[t] from ids[0..t-1]; target[0] is ignored).
struct TrainSequence {
  std::vector<int32_t> ids;
  std::vector<uint8_t> target;
  int n_targets() const {
    int n = 0;
    for (size_t t = 1; t < target.size() && t < ids.size(); ++t) n += target[t] != 0;
    return n;
  }
};

struct StepLoss {
  double loss_sum = 0;  // sum over the marked tokens of -log p(token)
  int n_tokens = 0;     // marked tokens
};

class LoraTrainStep {
 public:
  // build_transposes = false: forward only (loss(), logits()).
  LoraTrainStep(std::shared_ptr<const Qwen3Model> model, ThreadPool& pool,
                bool build_transposes = true);
  ~LoraTrainStep();

  // The loss of `seq` with the adapter `p` (nullptr: the base). If grad_scale != 0,
  // adds grad_scale * d(loss_sum)/d(A, B) to every parameter's gradient.
  StepLoss run(const TrainSequence& seq, LoraParams* p, float grad_scale);
  StepLoss loss(const TrainSequence& seq, const LoraParams* p) {
    return run(seq, const_cast<LoraParams*>(p), 0.0f);
  }
  // The logits of every position (n x n_vocab) with the adapter: the same model as the
  // inference engine's forward pass (tests).
  std::vector<float> logits(const std::vector<int32_t>& ids, const LoraParams* p);

  size_t transposed_bytes() const { return transposed_ ? transposed_->bytes : 0; }

  // Mixture of experts, after the last forward: the chosen experts (n_layers x n x k) and
  // the smallest gap over layers and tokens between a chosen expert's router logit and an
  // unchosen one's (how far the top-k choice is from flipping; tests).
  const std::vector<int>& routes() const { return routes_; }
  float router_margin() const { return router_margin_; }

 private:
  struct Acts;
  void forward_layer(int l, const float* x, int n, Acts& a, const LoraParams* p);
  void backward_layer(int l, const float* x, int n, Acts& a, LoraParams* p, float* dx);
  void forward_all(const std::vector<int32_t>& ids, const LoraParams* p);
  void moe_forward(const LayerWeights& L, int n, Acts& a);
  // dxn = d/d(xn2) of the MoE output, given its gradient dy.
  void moe_backward(const LayerWeights& L, int n, Acts& a, const float* dy, float* dxn);

  std::shared_ptr<const Qwen3Model> model_;
  ThreadPool& pool_;
  Rope rope_;
  std::unique_ptr<TransposedWeights> transposed_;
  std::unique_ptr<Acts> acts_;
  std::vector<float> layer_in_;  // (n_layers + 1) x n x n_embd: every block's input
  std::vector<float> rope_cos_, rope_sin_;
  std::vector<int> routes_;
  float router_margin_ = 0;
};

}  // namespace qwen3::train
