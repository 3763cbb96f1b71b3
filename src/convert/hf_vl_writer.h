// A Qwen3-VL GGUF pair (the `qwen3vl` text file and its mmproj, e.g. from `qwen3 gen-model
// --mmproj`) written back as the Hugging Face folder of Qwen3VLForConditionalGeneration:
// config.json (text_config, vision_config), preprocessor_config.json, one
// model.safetensors (`model.language_model.*`, `lm_head.weight` unless tied,
// `model.visual.*`) and the tokenizer files. `qwen3 gen-model --format hf --mmproj` uses
// it for random VL folders; `qwen3 convert --mmproj-out` turns such a folder back into the
// same pair (docs/vision.md, "From a Hugging Face folder").
#pragma once

#include <string>

namespace qwen3::hf {

// Tensors are copied as stored (F32 or F16 only; anything else is an error). Throws
// std::runtime_error with a clear message.
void write_hf_vl_folder(const std::string& text_gguf, const std::string& mmproj_gguf,
                        const std::string& folder, const std::string& tokenizer_dir);

}  // namespace qwen3::hf
