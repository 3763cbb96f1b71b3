// Writes safetensors files and random-weight Qwen3 checkpoints in the Hugging Face
// layout (config.json, generation_config.json, sharded *.safetensors + index,
// tokenizer files). Used by the tests and the conversion measurements; tensors are
// produced one at a time while writing, so a large shape never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gguf/ggml_types.h"
#include "model/hf_config.h"

namespace qwen3::hf {

struct SafetensorsSpec {
  std::string name;
  GgmlType type;               // F32, F16 or BF16
  std::vector<int64_t> shape;  // outermost first
  // Writes exactly nbytes bytes of little-endian elements into dst.
  std::function<void(void* dst, size_t nbytes)> fill;
};

// Throws std::runtime_error on I/O errors.
void write_safetensors(const std::string& path, const std::vector<SafetensorsSpec>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// config.json text for a Qwen3ForCausalLM of this shape (as the official releases write it).
std::string qwen3_config_json(const HfModelConfig& c);

struct RandomCheckpointOptions {
  GgmlType dtype = GgmlType::BF16;  // of every tensor
  int n_shards = 2;                 // 1 = a single model.safetensors without index
  uint64_t seed = 1;
  // Copy tokenizer.json and tokenizer_config.json from this folder ("" = none).
  std::string tokenizer_dir;
  bool write_lm_head_when_tied = false;  // some exports ship it anyway
  bool generation_config = true;         // Qwen3's generation_config.json
};

// The HF tensor names and shapes (outermost first) of a Qwen3 checkpoint, in the
// order the official shards hold them.
std::vector<std::pair<std::string, std::vector<int64_t>>> qwen3_hf_tensor_shapes(
    const HfModelConfig& c);

void write_random_hf_checkpoint(const std::string& folder, const HfModelConfig& c,
                                const RandomCheckpointOptions& opts = {});

}  // namespace qwen3::hf
