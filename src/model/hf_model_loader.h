// Loads a Hugging Face Qwen3 folder (config.json, tokenizer.json, tokenizer_config.json,
// *.safetensors) as a Qwen3Model, optionally quantizing the matrices at load
// (ModelLoadOptions::quantize: Q8_0, Q4_0, or Q4_K for llama.cpp's Q4_K_M mix).
#pragma once

#include <memory>
#include <string>

#include "model/hf_config.h"
#include "model/qwen3_config.h"
#include "model/qwen3_model.h"

namespace qwen3::hf {

// Throws std::runtime_error (HfConfigError, SafetensorsError) with a clear message.
std::shared_ptr<Qwen3Model> load_hf_model(const std::string& folder,
                                          const ModelLoadOptions& opts = {});

// "q4_0", "q4_k", "q8_0" -> the type; "none" (or "") -> nullopt; anything else throws
// std::invalid_argument. For the --quantize option of the commands taking -m.
std::optional<GgmlType> parse_load_quantize(const std::string& s);

}  // namespace qwen3::hf
