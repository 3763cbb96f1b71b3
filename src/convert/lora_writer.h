// Writes LoRA adapters: as a Hugging Face PEFT folder (adapter_config.json +
// adapter_model.safetensors) and as llama.cpp's LoRA GGUF (what convert_lora_to_gguf.py
// writes), and makes random-weight adapters for a base shape (tests and benchmarks:
// `qwen3 gen-lora`). A written adapter loads back to the same matrices and scales.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/ggml_types.h"
#include "model/lora_adapter.h"

namespace qwen3 {

struct RandomLoraOptions {
  int rank = 16;
  float alpha = 32.0f;
  bool rslora = false;              // scale alpha / sqrt(rank) instead of alpha / rank
  std::vector<LoraTarget> targets;  // empty = all seven
  std::vector<int> layers;          // empty = every layer
  uint64_t seed = 1;
  // The values are rounded through this type (F32, F16 or BF16), so files written in it
  // hold exactly the adapter's matrices.
  GgmlType dtype = GgmlType::F32;
  float strength = 0.5f;  // |s B A x| about this fraction of |W x|
};

// A random adapter for base shape `c` (A ~ 1/sqrt(in), B sized by `strength`); a pure
// function of the options. The adapter's path is `name`.
std::shared_ptr<LoraAdapter> random_lora_adapter(const Qwen3Config& c,
                                                 const RandomLoraOptions& opts,
                                                 const std::string& name = "random-lora");

// "q,k,v,o,gate,up,down" (or the PEFT names, or "all") -> targets; throws
// std::invalid_argument naming an unknown one.
std::vector<LoraTarget> parse_lora_targets(const std::string& list);

struct LoraWriteOptions {
  GgmlType dtype = GgmlType::F32;  // tensors' type: F32, F16 or BF16
  bool rslora = false;             // PEFT only: write use_rslora with alpha = scale*sqrt(r)
  std::string arch = "qwen3";      // GGUF general.architecture
  std::string base_model;          // PEFT base_model_name_or_path (informational)
};

// PEFT folder (created if missing). r is the largest rank; lora_alpha is chosen so that
// PEFT's scaling of the first pair is its scale; pairs whose scale differs get it folded
// into their B matrix.
void write_peft_adapter(const LoraAdapter& a, const std::string& folder,
                        const LoraWriteOptions& opts = {});
// llama.cpp LoRA GGUF: adapter.lora.alpha = the first pair's scale * rank; other pairs'
// differences folded into B (llama.cpp has one alpha per file).
void write_gguf_adapter(const LoraAdapter& a, const std::string& path,
                        const LoraWriteOptions& opts = {});

}  // namespace qwen3
