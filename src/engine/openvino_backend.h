// The "openvino" backend: a GenerationBackend over device::openvino::OpenVinoLlm (the one
// unit that touches OpenVINO GenAI). Our tokenizer and chat template make the prompt ids
// (the export folder carries tokenizer.json and tokenizer_config.json beside the IRs), the
// device generates, and its token ids go through our stream parser. Registered only in
// builds with OpenVINO GenAI (QWEN3_HAVE_OPENVINO); elsewhere this declares nothing usable.
#pragma once

#include <memory>

#include "engine/backend.h"

namespace qwen3::engine {

#ifdef QWEN3_HAVE_OPENVINO
// opts.model_path: an optimum-cli export folder; opts.device: NPU, GPU or CPU;
// opts.device_properties: the tier's OpenVINO properties; opts.profile: their profile.
std::unique_ptr<Backend> make_openvino_backend(const BackendOptions& opts);
#endif

}  // namespace qwen3::engine
