// Which backend serves a Pipeline, and why: --device CPU|GPU|NPU|AUTO resolved to a
// backend, with the AUTO chain (NPU with the model's profile -> NPU conservative -> GPU
// -> native CPU) recording why each earlier tier failed, in words a user can act on
// ("this build has no OpenVINO: rebuild with ...", "NPU driver not found", "compile
// failed: ...; try --profile conservative"). Kept apart from the Pipeline so the server
// and `qwen3 devices` can show the same chain.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/device_fallback.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::engine {

// The Pipeline properties this unit reads (and the native backend must not see):
//   "profile"        NPU/GPU profile for an explicit --device: conservative, balanced
//                    (default), aggressive
//   "device_config"  a JSON file of OpenVINO properties (`qwen3 device-config` output);
//                    replaces the profile
//   "cpu_model"      GGUF or HF folder the native CPU engine loads (AUTO's CPU tier and
//                    the hand-off); default: the model path itself
bool is_device_choice_property(const std::string& key);

struct DeviceChoice {
  std::unique_ptr<Backend> backend;
  std::string tier;                   // "NPU balanced", "GPU balanced", "CPU"
  std::vector<TierFailure> failures;  // AUTO: the tiers tried before, in order
};

// device: CPU, GPU, NPU or AUTO (any case). backend_name: a registered backend that
// replaces the device's own ("replay" in tests), "" for the device's. Throws
// std::invalid_argument with the actionable reason for an explicit device that cannot
// run, NoTierAvailable when every AUTO tier fails.
DeviceChoice open_device_backend(const std::string& model_path, const std::string& device,
                                 const Properties& props, const std::string& backend_name = "");

// The hand-off continues a conversation's token ids on the CPU engine, so both models must
// share one tokenizer (vocabulary, special tokens); the device model's template serves both. Throws
// std::invalid_argument naming both paths otherwise.
void check_same_tokenizer(const Tokenizer& device, const Tokenizer& cpu,
                          const std::string& device_path, const std::string& cpu_path);

// The native CPU engine a hand-off continues on. Pipelines of one process (serve
// --parallel) share the loaded weights of one `cpu_model` path; each gets its own KV
// cache. `props`: n_ctx, n_threads, kv_type, quantize.
std::unique_ptr<Backend> make_handoff_backend(const std::string& cpu_model,
                                              const Properties& props);

// The backend registered as "openvino" (the real one in -DQWEN3_WITH_OPENVINO=ON builds,
// the fake in tests).
bool openvino_available();
// Why an OpenVINO tier cannot run in this build.
std::string no_openvino_reason();
// "" if `path` looks like an OpenVINO GenAI export (openvino_model.xml + the tokenizer
// IRs), else why not and how to make one.
std::string openvino_folder_problem(const std::string& path);

// The AUTO chain for `model_path` (profiles sized for the model when its facts can be
// read), without loading anything.
std::vector<DeploymentTier> auto_chain_for(const std::string& model_path);

// AUTO predicted without loading a model: OpenVINO tiers fail for the reasons that need no
// model (no OpenVINO in this build, the device not visible to OpenVINO, invalid
// properties); the CPU tier always serves. For `qwen3 devices` and the batched server.
struct ChainPreview {
  std::string chosen;
  std::vector<TierFailure> failures;
};
ChainPreview preview_auto_chain(const std::string& model_path = "");

}  // namespace qwen3::engine
