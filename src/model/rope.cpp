// Rope: the NEOX / YaRN rotary table (see rope.h).
#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace qwen3 {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kBetaFast = 32.0, kBetaSlow = 1.0;  // llama.cpp's yarn_beta_fast / _slow

// The dimension whose wavelength turns n_rot times over orig_ctx positions.
double corr_dim(int n_dims, int orig_ctx, double n_rot, double base) {
  return n_dims * std::log(orig_ctx / (n_rot * 2 * kPi)) / (2 * std::log(base));
}
}  // namespace

void Rope::yarn_corr_dims(int head_dim, int orig_ctx, double theta, double beta_fast,
                          double beta_slow, double out[2]) {
  const double start = std::floor(corr_dim(head_dim, orig_ctx, beta_fast, theta));
  const double end = std::ceil(corr_dim(head_dim, orig_ctx, beta_slow, theta));
  out[0] = std::max(0.0, start);
  out[1] = std::min(static_cast<double>(head_dim - 1), end);
}

Rope::Rope(const Qwen3Config& c) : head_dim_(c.head_dim), inv_freq_(c.head_dim / 2) {
  const double theta = c.rope_theta;
  for (int i = 0; i < head_dim_ / 2; ++i)
    inv_freq_[static_cast<size_t>(i)] = std::pow(theta, -2.0 * i / head_dim_);
  if (!c.has_yarn()) return;
  const double factor = c.yarn_factor;
  double dims[2];
  yarn_corr_dims(head_dim_, c.yarn_orig_ctx, theta, kBetaFast, kBetaSlow, dims);
  for (int i = 0; i < head_dim_ / 2; ++i) {
    // ggml rope_yarn_ramp: 1 below the low dim (keep the original frequency), 0 above the
    // high one (interpolate fully), linear between.
    const double y = (i - dims[0]) / std::max(0.001, dims[1] - dims[0]);
    const double mix = 1.0 - std::min(1.0, std::max(0.0, y));
    const double extrap = inv_freq_[static_cast<size_t>(i)];
    inv_freq_[static_cast<size_t>(i)] = extrap / factor * (1.0 - mix) + extrap * mix;
  }
  mscale_ = 1.0 + 0.1 * std::log(factor);
}

void Rope::at(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const double a = static_cast<double>(pos) * inv_freq_[i];
    cos_out[i] = static_cast<float>(std::cos(a) * mscale_);
    sin_out[i] = static_cast<float>(std::sin(a) * mscale_);
  }
}

}  // namespace qwen3
