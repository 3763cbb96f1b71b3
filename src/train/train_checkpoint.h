// Checkpoints of `qwen3 finetune` (--resume): the LoRA matrices with their AdamW moments
// and the position in the run (optimizer steps, sequences consumed), in one binary file
// written atomically (a temporary file renamed over the old one).
#pragma once

#include <cstdint>
#include <string>

#include "train/lora_params.h"

namespace qwen3::train {

struct TrainProgress {
  int64_t step = 0;       // optimizer steps done
  int64_t sequences = 0;  // training sequences consumed (epochs x dataset size + index)
};

void save_checkpoint(const std::string& path, const LoraParams& p, const TrainProgress& pr);
// Throws std::runtime_error naming the file for a missing, truncated or foreign file, or
// one whose matrices do not fit the base model `c`.
LoraParams load_checkpoint(const std::string& path, const Qwen3Config& c, TrainProgress* pr);

}  // namespace qwen3::train
