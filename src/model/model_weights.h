// The weights of a loaded Qwen3 model as the forward pass uses them: matrices in their
// stored (possibly quantized) type, norm weights as F32.
#pragma once

#include <vector>

#include "kernels/matmul.h"

namespace qwen3 {

// Weights of one transformer block. Norm weights are F32 (converted at load if needed).
struct LayerWeights {
  const float* attn_norm;  // n_embd
  WeightMatrix wq;         // q_dim x n_embd
  WeightMatrix wk;         // kv_dim x n_embd
  WeightMatrix wv;         // kv_dim x n_embd
  const float* q_norm;     // head_dim
  const float* k_norm;     // head_dim
  WeightMatrix wo;         // n_embd x q_dim
  const float* ffn_norm;   // n_embd
  WeightMatrix w_gate;     // n_ff x n_embd (dense models)
  WeightMatrix w_up;       // n_ff x n_embd
  WeightMatrix w_down;     // n_embd x n_ff
  // Mixture of experts (Qwen3Config::is_moe()): the router and one matrix per expert (a
  // slice of the GGUF's 3-D ffn_*_exps tensor, or a Hugging Face per-expert tensor).
  WeightMatrix router;                 // n_expert x n_embd (ffn_gate_inp)
  std::vector<WeightMatrix> exp_gate;  // n_expert of n_ff_exp x n_embd
  std::vector<WeightMatrix> exp_up;    // n_expert of n_ff_exp x n_embd
  std::vector<WeightMatrix> exp_down;  // n_expert of n_embd x n_ff_exp
};

struct ModelWeights {
  WeightMatrix token_embd;  // n_vocab x n_embd (rows are dequantized on lookup)
  const float* output_norm;
  WeightMatrix output;  // lm_head: token_embd itself when tied
  std::vector<LayerWeights> layers;
};

}  // namespace qwen3
