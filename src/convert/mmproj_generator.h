// Random-weight Qwen3-VL mmproj GGUF files (`qwen3 gen-model --mmproj`), written with the
// keys and tensor names of llama.cpp's converter (conversion/qwen3vl.py) so that libmtmd
// loads the same file. Weights are a pure function of (seed, tensor name, index).
#pragma once

#include <cstdint>
#include <string>

#include "gguf/ggml_types.h"
#include "vision/vision_config.h"

namespace qwen3::vision {

struct MmprojOptions {
  VisionConfig config;
  GgmlType type = GgmlType::F32;  // F32 or F16 for the matrices (1-D tensors stay F32)
  uint64_t seed = 0;
};

void generate_random_mmproj(const MmprojOptions& opts, const std::string& path);

}  // namespace qwen3::vision
