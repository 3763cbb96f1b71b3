// The rotary position table of a Qwen3 model: NEOX RoPE with theta = rope_theta, and with
// YaRN when the config has rope scaling (Qwen3's 131,072-token setting: factor 4 over the
// native 32,768). YaRN as llama.cpp applies it (ggml's rope_yarn with ext_factor 1,
// beta_fast 32, beta_slow 1): each frequency is blended between the original one and the
// one divided by the factor, by a linear ramp over the dimensions between the correction
// dims; cos and sin are multiplied by the attention magnitude factor 1 + 0.1 ln(factor)
// (so q.k grows by its square), the same as transformers' "yarn" rope_init.
#pragma once

#include <cstdint>
#include <vector>

#include "model/qwen3_config.h"

namespace qwen3 {

class Rope {
 public:
  explicit Rope(const Qwen3Config& c);
  // cos/sin (head_dim/2 each) of position pos, magnitude factor included; for rope_neox.
  void at(int64_t pos, float* cos_out, float* sin_out) const;

  int head_dim() const { return head_dim_; }
  double inv_freq(int i) const { return inv_freq_[static_cast<size_t>(i)]; }
  double mscale() const { return mscale_; }

  // ggml's YaRN correction range for these parameters: dims [lo, hi] (floor / ceil,
  // clamped to [0, head_dim - 1]).
  static void yarn_corr_dims(int head_dim, int orig_ctx, double theta, double beta_fast,
                             double beta_slow, double out[2]);

 private:
  int head_dim_;
  std::vector<double> inv_freq_;  // head_dim/2 (double: pos * freq must keep its phase)
  double mscale_ = 1.0;
};

}  // namespace qwen3
