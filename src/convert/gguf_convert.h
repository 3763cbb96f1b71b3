// Hugging Face Qwen3 folder -> GGUF, without Python: the metadata, tokenizer and
// tensor names llama.cpp's convert_hf_to_gguf.py writes for Qwen3, the chat template
// copied in, and the tensors converted one at a time while the file is written (peak
// memory is about one tensor, not the model).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/ggml_types.h"
#include "model/convert_types.h"

namespace qwen3 {
class LoraAdapter;
}

namespace qwen3::hf {

struct ConvertOptions {
  ConvertTarget target = ConvertTarget::F16;
  int n_threads = 0;  // 0 = physical cores
  // Called once per tensor as it is written: name, type, index (0-based), count.
  std::function<void(const std::string& name, GgmlType type, size_t index, size_t count)> progress;
  // LoRA adapters merged into the matrices they target, each with its user scale:
  // W + scale * s * B A computed in F32, then converted to the target type.
  std::vector<std::pair<std::shared_ptr<const LoraAdapter>, float>> lora;
};

struct ConvertResult {
  size_t n_tensors = 0;
  uint64_t bytes_in = 0;                   // tensor bytes read from the checkpoint
  uint64_t bytes_out = 0;                  // tensor bytes written
  std::map<std::string, int> type_counts;  // "Q4_K" -> number of tensors
};

// Throws (HfConfigError, SafetensorsError, std::runtime_error) with a clear message;
// the output file only appears once complete.
ConvertResult convert_hf_to_gguf(const std::string& folder, const std::string& out_path,
                                 const ConvertOptions& opts);

}  // namespace qwen3::hf
