// The sampling defaults a model ships (see qwen3::ModelSamplingDefaults): read from a
// Hugging Face folder's generation_config.json or a GGUF's general.sampling.* keys.
#pragma once

#include <string>

#include "qwen3/generation_config.h"

namespace qwen3 {
namespace gguf {
class GgufFile;
}
namespace engine {

// A folder: generation_config.json (absent = no defaults; malformed = HfConfigError).
// A GGUF file: its general.sampling.* keys (values out of range = std::runtime_error).
// Anything else (a path a test backend invents, an unreadable file): no defaults; the
// backend's own load reports a missing or broken model.
ModelSamplingDefaults read_model_sampling_defaults(const std::string& model_path);
ModelSamplingDefaults gguf_sampling_defaults(const gguf::GgufFile& f);

}  // namespace engine
}  // namespace qwen3
