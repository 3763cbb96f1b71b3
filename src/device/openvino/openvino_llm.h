// The OpenVINO GenAI backend: an optimum-cli export (openvino_model.xml plus the
// tokenizer / detokenizer IRs) run by ov::genai::LLMPipeline on NPU, GPU or CPU, with
// properties from the device builder. Generated token ids go to a callback so the engine
// feeds them to the same stream parser as the native backend.
// Built only when CMake finds OpenVINO GenAI (QWEN3_HAVE_OPENVINO); the header carries no
// OpenVINO types, so code guarded by that macro can include it without OpenVINO headers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/device_types.h"

namespace qwen3::device::openvino {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool"
  std::string content;
};

struct GenerateOptions {
  size_t max_new_tokens = 1024;
  bool do_sample = true;  // NPU supports greedy and multinomial sampling only
  float temperature = 0.6f;
  float top_p = 0.95f;
  size_t top_k = 20;
  float presence_penalty = 0.0f;
  uint64_t seed = 42;
  bool enable_thinking = true;  // passed to the chat template via extra_context
};

// Returns false to stop generation.
using TokenCallback = std::function<bool(int64_t token)>;

class OpenVinoLlm {
 public:
  // Throws std::invalid_argument if `properties` fail the validator for `device` (with the
  // findings in the message), and whatever LLMPipeline throws on load.
  OpenVinoLlm(const std::string& model_dir, Device device, const nlohmann::json& properties);
  ~OpenVinoLlm();
  OpenVinoLlm(const OpenVinoLlm&) = delete;
  OpenVinoLlm& operator=(const OpenVinoLlm&) = delete;

  // Renders `history` with the model's chat template (ChatHistory + extra_context
  // {"enable_thinking": ...}) and generates. On NPU the whole rendered history must fit
  // MAX_PROMPT_LEN; GenAI throws otherwise.
  void generate(const std::vector<ChatMessage>& history, const GenerateOptions& options,
                const TokenCallback& on_token);

  // Generates after prompt ids the caller already templated and tokenized.
  void generate_ids(const std::vector<int64_t>& prompt, const GenerateOptions& options,
                    const TokenCallback& on_token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3::device::openvino
