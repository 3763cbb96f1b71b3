#include "vision/vision_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"

namespace qwen3::vision {

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - mean;
    var += static_cast<double>(d) * d;
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * scale * w[i] + b[i];
}

float gelu_ggml(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  const float h = fp16_to_fp32(fp32_to_fp16(x));
  const float g =
      0.5f * h *
      (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
  return fp16_to_fp32(fp32_to_fp16(g));
}

namespace {
// gelu_ggml of every F16 value (ggml's own table): index = the F16 bits of x.
const float* gelu_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) {
      const float h = fp16_to_fp32(static_cast<uint16_t>(i));
      const float g =
          0.5f * h *
          (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
      t[i] = fp16_to_fp32(fp32_to_fp16(g));
    }
    return t;
  }();
  return table.data();
}
}  // namespace

#if QWEN3_ARCH_X86
namespace avx512 {  // vision_ops_avx512.cpp
void gelu_table_lookup(float* x, int64_t n, const float* table);
}
#endif

void gelu_inplace(float* x, int64_t n) {
  const float* table = gelu_table();
#if QWEN3_ARCH_X86
  if (avx512_family(isa_level())) {
    avx512::gelu_table_lookup(x, n, table);
    return;
  }
#endif
  uint16_t h[256];
  for (int64_t i0 = 0; i0 < n; i0 += 256) {
    const int64_t m = std::min<int64_t>(256, n - i0);
    float* v = x + i0;
    fp32_to_fp16_row(v, h, m);
    for (int64_t i = 0; i < m; ++i)
      v[i] = v[i] <= -10.0f ? 0.0f : v[i] >= 10.0f ? v[i] : table[h[i]];
  }
}

VisionRope::VisionRope(int hd, float base) : head_dim(hd) {
  theta_scale = std::pow(base, -2.0f / static_cast<float>(hd / 2));
}

void VisionRope::apply(float* x, int n_heads, int pos_y, int pos_x) const {
  const int half = head_dim / 2, quarter = head_dim / 4;
  float cs[1024], sn[1024];  // head_dim <= 2048 (checked by the encoder)
  // ggml multiplies the position by the running product: theta = p * scale^i, in float
  // (theta_t *= theta_scale each step, starting from p).
  float ty = static_cast<float>(pos_y), tx = static_cast<float>(pos_x);
  for (int i = 0; i < quarter; ++i) {
    cs[i] = std::cos(ty), sn[i] = std::sin(ty);
    cs[quarter + i] = std::cos(tx), sn[quarter + i] = std::sin(tx);
    ty *= theta_scale;
    tx *= theta_scale;
  }
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cs[i] - b * sn[i];
      v[i + half] = a * sn[i] + b * cs[i];
    }
  }
}

namespace {

// One axis of ggml's bilinear interpolation for output index i: the two input indices around
// i / scale, clamped to [0, n), and the weight of the second.
struct BilinearTap {
  int64_t lo, hi;
  float frac;
};

BilinearTap bilinear_tap(int i, float scale, int n) {
  const float p = static_cast<float>(i) / scale;
  int64_t lo = static_cast<int64_t>(std::floor(p)), hi = lo + 1;
  lo = std::max<int64_t>(0, std::min<int64_t>(lo, n - 1));
  hi = std::max<int64_t>(0, std::min<int64_t>(hi, n - 1));
  return {lo, hi, std::max(0.0f, std::min(p - static_cast<float>(lo), 1.0f))};
}

}  // namespace

std::vector<float> resize_position_grid(const float* grid, int n, int dim, int out_w, int out_h) {
  std::vector<float> out(static_cast<size_t>(out_w) * out_h * dim);
  if (out_w == n && out_h == n) {
    std::copy_n(grid, out.size(), out.data());
    return out;
  }
  // ggml_interpolate, GGML_SCALE_MODE_BILINEAR | GGML_SCALE_FLAG_ALIGN_CORNERS
  const float sf0 =
      out_w > 1 && n > 1 ? static_cast<float>(out_w - 1) / (n - 1) : static_cast<float>(out_w) / n;
  const float sf1 =
      out_h > 1 && n > 1 ? static_cast<float>(out_h - 1) / (n - 1) : static_cast<float>(out_h) / n;
  for (int i1 = 0; i1 < out_h; ++i1) {
    const BilinearTap ty = bilinear_tap(i1, sf1, n);
    const int64_t y0 = ty.lo, y1 = ty.hi;
    const float dy = ty.frac;
    for (int i0 = 0; i0 < out_w; ++i0) {
      const BilinearTap tx = bilinear_tap(i0, sf0, n);
      const int64_t x0 = tx.lo, x1 = tx.hi;
      const float dx = tx.frac;
      const float* a = grid + (y0 * n + x0) * dim;
      const float* b = grid + (y0 * n + x1) * dim;
      const float* c = grid + (y1 * n + x0) * dim;
      const float* d = grid + (y1 * n + x1) * dim;
      float* o = out.data() + (static_cast<size_t>(i1) * out_w + i0) * dim;
      for (int e = 0; e < dim; ++e)
        o[e] = a[e] * (1 - dx) * (1 - dy) + b[e] * dx * (1 - dy) + c[e] * (1 - dx) * dy +
               d[e] * dx * dy;
    }
  }
  return out;
}

}  // namespace qwen3::vision
