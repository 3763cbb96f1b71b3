// The row operations of the Qwen3-VL vision encoder that the text model does not have:
// LayerNorm with bias, GELU (tanh form, as ggml's CPU evaluates it), the 2-D vision RoPE
// and the bilinear (align-corners) resize of the learned position grid. Scalar code except
// the GELU table lookup (AVX-512 in vision_ops_avx512.cpp); the matrix products are in
// vision_gemm.h. Facts: docs/vision.md.
#pragma once

#include <cstdint>
#include <vector>

namespace qwen3::vision {

// y = (x - mean) / sqrt(var + eps) * w + b over n values (y may alias x).
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps);

// ggml_gelu on the CPU: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) looked up through an
// F16 table (x rounded to F16, the result rounded to F16; x <= -10 -> 0, x >= 10 -> x).
float gelu_ggml(float x);
void gelu_inplace(float* x, int64_t n);

// Angles of the 2-D rotary embedding for one head size: for pair i < head_dim/2,
// i < head_dim/4 rotates by y * theta_i, the rest by x * theta_(i - head_dim/4), with
// theta_j = 10000^(-2j/(head_dim/2)) computed as ggml does (repeated float products).
struct VisionRope {
  int head_dim = 0;
  float theta_scale = 1.0f;  // base^(-2/(head_dim/2))
  explicit VisionRope(int head_dim, float base = 10000.0f);
  // In place on n_heads heads of head_dim floats (element i pairs with i + head_dim/2).
  void apply(float* x, int n_heads, int pos_y, int pos_x) const;
};

// The n x n grid of dim-float rows resized to out_w x out_h (bilinear, align_corners),
// row (y * out_w + x). A copy when the size is unchanged.
std::vector<float> resize_position_grid(const float* grid, int n, int dim, int out_w, int out_h);

}  // namespace qwen3::vision
