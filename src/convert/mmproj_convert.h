// Hugging Face Qwen3-VL folder (Qwen3VLForConditionalGeneration: config.json with
// vision_config and text_config, `model.visual.*` tensors) -> the mmproj GGUF that
// llama.cpp's `convert_hf_to_gguf.py --mmproj` writes (conversion/qwen3vl.py,
// Qwen3VLVisionModel): the same tensor names, types and clip.* keys as
// `qwen3 gen-model --mmproj` (mmproj_generator.h, one source for both). Facts:
// docs/vision.md ("From a Hugging Face folder").
#pragma once

#include <cstddef>
#include <string>

#include "gguf/ggml_types.h"
#include "vision/vision_config.h"

namespace qwen3::hf {

// The encoder shape of a Qwen3-VL folder (config.json, preprocessor_config.json for the
// normalisation; 0.5 when absent). Throws std::runtime_error naming the bad field, or
// when the folder has no vision_config.
vision::VisionConfig read_hf_vision_config(const std::string& folder);

// Writes the mmproj of the folder's vision tower; file_type F32 or F16 (matrices; 1-D
// tensors and the position embedding stay F32). Returns the number of tensors. Throws
// with a clear message for a missing, extra or misshapen tensor before writing anything.
size_t convert_hf_to_mmproj(const std::string& folder, const std::string& out_path,
                            GgmlType file_type, int n_threads = 0);

}  // namespace qwen3::hf
