// The weights of a Hugging Face Qwen3 folder as a TensorSource under GGUF names, so
// the model loads them like a GGUF. Zero-copy from the mapped safetensors unless a
// quantization target is given, in which case the matrices are converted once, at
// open, with the same per-tensor types `qwen3 convert` would write.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/convert_types.h"
#include "model/hf_config.h"
#include "model/safetensors_checkpoint.h"
#include "model/tensor_source.h"

namespace qwen3::hf {

class HfTensorSource : public TensorSource {
 public:
  // Throws SafetensorsError / std::runtime_error on unreadable files, a tensor that is
  // not part of Qwen3ForCausalLM, or a missing lm_head in an untied model.
  static std::shared_ptr<HfTensorSource> open(const std::string& folder, const HfModelConfig& cfg,
                                              std::optional<ConvertTarget> quantize = std::nullopt,
                                              int n_threads = 0);

  bool find(std::string_view gguf_name, TensorView* out) const override;
  std::vector<std::string> names() const override { return names_; }
  std::string describe() const override { return folder_; }

 private:
  HfTensorSource() = default;
  std::string folder_;
  std::unique_ptr<SafetensorsCheckpoint> ck_;
  std::unordered_map<std::string, TensorView> views_;
  std::vector<std::string> names_;           // GGUF names in checkpoint order
  std::vector<std::vector<uint8_t>> owned_;  // converted tensors
};

}  // namespace qwen3::hf
