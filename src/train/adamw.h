// AdamW (decoupled weight decay, bias-corrected moments, as torch.optim.AdamW) over the
// LoRA matrices of `qwen3 finetune`, with optional clipping of the global gradient norm.
#pragma once

#include <cstdint>

#include "train/lora_params.h"

namespace qwen3::train {

struct AdamWOptions {
  float lr = 1e-4f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
  float max_grad_norm = 1.0f;  // 0 = no clipping
};

// Step `t` (1-based: the bias corrections use it) with the gradients in `p`; returns the
// gradient norm before clipping. Gradients are left as they were (zero them yourself).
double adamw_step(LoraParams& p, const AdamWOptions& o, int64_t t);

}  // namespace qwen3::train
