// qwen3::Pipeline: load a model once, generate replies, hold a chat session.
//
//   qwen3::Pipeline pipe("Qwen3-0.6B-Q4_K_M.gguf");
//   pipe.start_chat("You are terse.");
//   auto r = pipe.generate("Hi!", qwen3::GenerationConfig{}, &my_streamer);
//   std::cout << r.text;
//   pipe.finish_chat();
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/adapter_config.h"
#include "qwen3/chat.h"
#include "qwen3/generation_config.h"
#include "qwen3/perf_metrics.h"
#include "qwen3/properties.h"
#include "qwen3/streamer.h"

namespace qwen3 {

namespace engine {
class Backend;
}

// Construction options, all optional, as strings:
//   "n_ctx"     context length in tokens (default min(4096, model maximum); above the
//               model maximum is an error)
//   "n_threads" CPU threads (default: physical cores)
//   "kv_type"   "f16" (default) or "f32"
//   "quantize"  Hugging Face folders: quantize the matrices while loading, "q8_0", "q4_0",
//               "q4_k" (llama.cpp's Q4_K_M mix) or "none" (default: keep the checkpoint's
//               type). A GGUF file keeps its stored types: any other value is an error
//               (convert the folder with `qwen3 convert` instead of requantizing a GGUF).
//   "backend"   a registered backend name (default "native"; tests register "replay")
//   "profile"   device NPU/GPU: the OpenVINO profile, conservative, balanced (default) or
//               aggressive, sized for the model (`qwen3 device-config` shows it)
//   "device_config"  device NPU/GPU: a JSON file of OpenVINO properties instead (validated
//               before the compile)
//   "cpu_model" a GGUF or HF copy of the model for the native CPU engine: AUTO's CPU tier and
//               the hand-off (default: the model path itself)
//   "handoff"   "never" (default), "overflow" or "load": when a conversation on the device
//               (NPU/GPU) outgrows its MAX_PROMPT_LEN ("overflow"), or also while the device
//               is busy with another conversation ("load"), it continues token-exact on the
//               CPU engine (same template and history; its KV cache is filled from the
//               history), and goes back to the device when it fits again. Loads cpu_model
//               at construction.
//   "lora"      LoRA adapters for the native CPU engine, one PATH[:SCALE] per line (a PEFT
//               folder or a llama.cpp adapter GGUF; AdapterConfig::to_property() writes it)
//   "special_in_content"  "false" (default) or "true". Chat prompts: special tokens come
//               only from the template; special-token text in messages, reasoning, tool
//               calls and tool definitions (<|im_end|>, <think>, ...) is tokenized as plain
//               text. "true" parses it as special tokens, as before: UNSAFE with untrusted
//               text (a message could close its turn and write a system turn). Raw prompts
//               (apply_chat_template false) always parse special tokens: their author
//               writes the whole prompt.
// (qwen3::Properties is declared in qwen3/properties.h.)

struct DecodedResult {
  std::string text;       // the visible answer (content)
  std::string reasoning;  // the <think> part, without the tags
  std::vector<ToolCall> tool_calls;
  FinishReason finish_reason = FinishReason::kStop;
  std::vector<std::int32_t> tokens;  // generated ids
  std::size_t prompt_tokens = 0;     // tokens of the whole prompt
  std::size_t cached_tokens = 0;     // of which reused from the KV cache
  std::size_t dropped_turns = 0;     // oldest turns left out to fit the context
  std::string note;  // e.g. a thinking switch ignored: the model's chat template has none
  // Why the runtime closed the reasoning itself: "" (it did not), "budget" (thinking_budget),
  // "time" (thinking_budget_ms) or "loop" (the reasoning repeated itself).
  std::string reasoning_closed;
  PerfMetrics perf_metrics;  // this call only (see Pipeline::session_metrics)
  // Where this reply ran ("NPU", "CPU", ...), and why it was handed off to the CPU engine
  // instead of the device ("" when it was not).
  std::string device;
  std::string handoff;
};

// A deployment tier that did not start, and why (what a user can do about it).
struct TierAttempt {
  std::string tier;  // "NPU balanced"
  std::string reason;
};

// What the loaded backend is and can do.
struct PipelineInfo {
  std::string backend;  // "native", "openvino", "replay", ...
  std::string device;   // "CPU", "NPU", ...
  std::size_t n_ctx = 0;
  bool kv_reuse = false;                  // a new turn reuses the cached prefix
  std::string tier;                       // the deployment tier serving: "NPU balanced", "CPU", ...
  std::vector<TierAttempt> failed_tiers;  // --device AUTO: the tiers tried first, in order
  std::string handoff = "never";          // "never", "overflow" or "load"
  std::size_t max_prompt_tokens = 0;      // the device's prompt cap (NPU MAX_PROMPT_LEN), 0 none
};

class Pipeline {
 public:
  // model_path: a GGUF file or a Hugging Face folder. device: "CPU", "NPU", "GPU" or
  // "AUTO" (NPU, then GPU through OpenVINO GenAI when built, then the CPU). Throws
  // std::runtime_error / std::invalid_argument with a clear message.
  explicit Pipeline(const std::string& model_path, const std::string& device = "CPU",
                    const Properties& properties = {});
  // With LoRA adapters (the native CPU engine), as the property "lora".
  Pipeline(const std::string& model_path, const std::string& device, const Properties& properties,
           const AdapterConfig& adapters);
  // A Pipeline over a backend built elsewhere: ContinuousBatchingPipeline gives each of
  // its sequences one over a shared model. `defaults`: the model's sampling defaults.
  Pipeline(std::unique_ptr<engine::Backend> backend, const ModelSamplingDefaults& defaults);
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Outside a chat: one user message (or, with apply_chat_template false, the raw prompt).
  // Inside a chat (start_chat): appends the user message and the reply to the history.
  DecodedResult generate(const std::string& prompt, const GenerationConfig& config = {},
                         StreamerBase* streamer = nullptr);
  // A whole conversation (stateless: the session history is not touched, but the KV cache
  // is reused for the common prefix with the previous call).
  DecodedResult generate(const ChatHistory& history, const GenerationConfig& config = {},
                         StreamerBase* streamer = nullptr);

  // Runs the next generate() calls with these LoRA adapters and alphas (empty: the base
  // model). The KV cache is recomputed. Throws std::invalid_argument for a bad adapter or
  // a backend without LoRA support.
  void set_adapters(const AdapterConfig& adapters);

  void start_chat(const std::string& system_message = "");
  void finish_chat();
  bool in_chat() const;
  const ChatHistory& history() const;

  // Tokenizer access. `special`: special-token text (<|im_end|>, ...) becomes its id.
  std::vector<std::int32_t> encode(const std::string& text, bool special = true) const;
  std::string decode(const std::vector<std::int32_t>& ids) const;
  // The prompt the chat template makes of `history` (byte-exact with the official one).
  std::string apply_chat_template(const ChatHistory& history, bool add_generation_prompt = true,
                                  std::optional<bool> enable_thinking = std::nullopt) const;

  PipelineInfo info() const;
  // The sampling defaults the model ships (generation_config.json of a Hugging Face folder,
  // general.sampling.* of a GGUF); generate() fills unset GenerationConfig fields from
  // them (see GenerationConfig::resolved).
  const ModelSamplingDefaults& model_defaults() const;
  // generate() calls since construction (or the last start_chat), with load time; the
  // token counts cover every call, the means and spreads the latest 1,024+ calls.
  const PerfMetrics& session_metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3
