// Causal attention of one query head over its key/value head, forward and backward, for
// the LoRA training pass: rows of q, k, v (and their gradients) are strided (one head of
// a row of all heads). The forward keeps the probabilities P (n x n, zero above the
// diagonal) for the backward. A portable build and an AVX2+FMA build of the same loops
// (train_attention_impl.h), chosen at run time as the kernels are.
#pragma once

#include <cstdint>

namespace qwen3::train {

struct AttnShape {
  int n = 0;              // tokens
  int hd = 0;             // head size
  int64_t q_stride = 0;   // floats between rows of q, dq, out, dout
  int64_t kv_stride = 0;  // floats between rows of k, v, dk, dv
  float scale = 1.0f;     // 1 / sqrt(hd)
};

// P[i][j] = softmax_j(scale q_i . k_j), j <= i; out_i = sum_j P[i][j] v_j.
void attn_head_forward(const float* q, const float* k, const float* v, const AttnShape& s, float* P,
                       float* out);
// Given dout: dq (written), dk and dv (accumulated: several query heads share them).
// scratch: n floats.
void attn_head_backward(const float* q, const float* k, const float* v, const float* P,
                        const float* dout, const AttnShape& s, float* dq, float* dk, float* dv,
                        float* scratch);

}  // namespace qwen3::train
