// Element-wise and row operations of the forward pass. Each dispatches to AVX2 when
// use_avx2() and otherwise runs the scalar reference (the *_ref functions); rmsnorm,
// silu_mul, add, scale and rope_neox run 16-lane versions at the avx512 and amx levels,
// bit-identical to the AVX2 ones (kernels/ops_avx512.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace qwen3 {

// y = x / sqrt(mean(x^2) + eps) * w   (y may alias x)
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);
// x[i] = softmax(x)[i], in place; max-subtracted.
void softmax(float* x, int64_t n);
// out = silu(gate) * up, silu(g) = g / (1 + exp(-g))   (out may alias gate or up)
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
// y = a + b   (y may alias a or b)
void add(const float* a, const float* b, float* y, int64_t n);
// x *= s
void scale(float* x, float s, int64_t n);
// dot(a, b) in float
float dot_f32(const float* a, const float* b, int64_t n);

// Attention over one head of n rows of dim floats (the vision encoder; the model's
// attention over the paged KV cache is kernels/attention_paged.h):
// scores[j] = scale * dot(q, row j);  out[d] += sum_j p[j] * row_j[d].
void attn_scores_f32(const float* k, int64_t n, int dim, const float* q, float scale,
                     float* scores);
void attn_mix_f32(const float* v, int64_t n, int dim, const float* p, float* out);

// cos/sin of NEOX RoPE for one position: cos[i] = cos(pos * theta^(-2i/head_dim)), i < head_dim/2.
struct RopeTable {
  int head_dim = 0;
  std::vector<double> inv_freq;  // head_dim/2 frequencies (double: pos * freq must keep its phase)
  RopeTable(int head_dim, float theta);
  void at(int64_t pos, float* cos_out, float* sin_out) const;  // head_dim/2 each
};
// NEOX RoPE (rotate-half: element i pairs with i + head_dim/2), in place on n_heads
// heads of head_dim floats, for one position given its cos/sin (head_dim/2 each).
void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin);
// Convenience: computes the table entry for pos with theta and applies it.
void rope_neox(float* x, int n_heads, int head_dim, int64_t pos, float theta);

// Scalar references.
void rmsnorm_ref(const float* x, const float* w, float* y, int64_t n, float eps);
void softmax_ref(float* x, int64_t n);
void silu_mul_ref(const float* gate, const float* up, float* out, int64_t n);
void add_ref(const float* a, const float* b, float* y, int64_t n);
void scale_ref(float* x, float s, int64_t n);
float dot_f32_ref(const float* a, const float* b, int64_t n);
void rope_neox_ref(float* x, int n_heads, int head_dim, const float* cos, const float* sin);
void attn_scores_f32_ref(const float* k, int64_t n, int dim, const float* q, float scale,
                         float* scores);
void attn_mix_f32_ref(const float* v, int64_t n, int dim, const float* p, float* out);

}  // namespace qwen3
