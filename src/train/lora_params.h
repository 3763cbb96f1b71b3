// The trainable LoRA matrices of `qwen3 finetune`: one A (rank x in) / B (out x rank) pair
// per targeted projection and layer, with their gradients and AdamW moments. Starts as
// PEFT does (A uniform in +-1/sqrt(in), Kaiming-uniform with a = sqrt(5); B = 0, so the
// untrained adapter is the base model), or from a loaded adapter. Converts to the
// LoraAdapter the loaders, writers and forward pass use.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/lora_adapter.h"
#include "model/qwen3_config.h"

namespace qwen3::train {

struct LoraParam {
  int layer = 0;
  LoraTarget target = LoraTarget::kQ;
  LoraMatrices m;                     // a, b, rank, in, out, scale
  std::vector<float> ga, gb;          // gradients of a and b
  std::vector<float> ma, va, mb, vb;  // AdamW first and second moments
};

class LoraParams {
 public:
  // A fresh adapter on `targets` of every layer of `c`: scale alpha / rank. A
  // mixture-of-experts base takes the attention projections only (q, k, v, o), as inference.
  static LoraParams init(const Qwen3Config& c, int rank, float alpha,
                         const std::vector<LoraTarget>& targets, uint64_t seed);
  // The matrices of a loaded adapter (moments zero).
  static LoraParams from_adapter(const Qwen3Config& c, const LoraAdapter& a);

  // nullptr if (layer, t) is not trained.
  const LoraParam* find(int layer, LoraTarget t) const;
  LoraParam* find(int layer, LoraTarget t);

  std::vector<LoraParam>& params() { return params_; }
  const std::vector<LoraParam>& params() const { return params_; }
  int64_t n_parameters() const;
  void zero_grad();
  // sqrt of the sum of all squared gradients.
  double grad_norm() const;

  std::shared_ptr<LoraAdapter> to_adapter(const std::string& name) const;

 private:
  void index(int n_layers);
  std::vector<LoraParam> params_;
  std::vector<std::array<int, kNumLoraTargets>> slots_;
};

}  // namespace qwen3::train
