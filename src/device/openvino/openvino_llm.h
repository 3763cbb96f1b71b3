// The one unit that touches OpenVINO GenAI: an optimum-cli export (openvino_model.xml plus
// the tokenizer / detokenizer IRs) run by ov::genai::LLMPipeline on NPU, GPU or CPU, fed
// prompt token ids our own chat template made, streaming generated token ids back so the
// engine runs them through the same stream parser as the native backend.
//
// Written against the public headers of OpenVINO GenAI 2026.3.0.0 (tag 2026.3.0.0 of
// github.com/openvinotoolkit/openvino.genai, src/cpp/include/openvino/genai/):
// llm_pipeline.hpp, generation_config.hpp, streamer_base.hpp, perf_metrics.hpp,
// tokenizer.hpp (TokenizedInputs), and OpenVINO's runtime/core.hpp (ov::Core). Needs
// GenAI 2026.2 or newer (GenerationConfig::min_p; 2026.1 and older fail to compile, as
// `scripts/check_openvino_api.sh --headers-only` shows). Check it against an installed
// GenAI with scripts/check_openvino_api.sh.
//
// Built only when CMake finds OpenVINO GenAI (QWEN3_HAVE_OPENVINO); this header carries no
// OpenVINO types, so the engine can include it without OpenVINO headers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/device_types.h"
#include "qwen3/sampling.h"

namespace qwen3::device::openvino {

// Our GenerationConfig, resolved (its SamplingValues), plus what GenAI's GenerationConfig
// holds besides. penalty_last_n has no GenAI counterpart (its penalties see the whole
// sequence).
struct GenerateOptions : SamplingValues {
  std::size_t max_new_tokens = 1024;
  bool do_sample = true;  // false: greedy (the NPU runs greedy and multinomial only)
  bool ignore_eos = false;
  std::vector<std::string> stop_strings;
  std::vector<std::int64_t> stop_token_ids;  // <|im_end|>, <|endoftext|>
};

// GenAI's PerfMetrics of one generate(), in milliseconds; negative = not reported.
struct GenerateStats {
  std::size_t cached_tokens = 0;  // prompt tokens already in the device's KV cache
  double ttft_ms = -1;
  double tpot_ms = -1;
  double throughput_tps = -1;
  double generate_ms = -1;
  double inference_ms = -1;
  std::size_t num_generated_tokens = 0;
};

// Returns false to stop generation.
using TokenCallback = std::function<bool(std::int64_t token)>;

class OpenVinoLlm {
 public:
  // Validates `properties` for `device` (std::invalid_argument with the findings), checks
  // that OpenVINO sees the device ("NPU driver not found: ..."), then compiles the model
  // ("compile failed on NPU: <OpenVINO's message>; try --profile conservative"). `profile`
  // names where the properties came from, for that hint.
  OpenVinoLlm(const std::string& model_dir, Device device, const nlohmann::json& properties,
              const std::string& profile);
  ~OpenVinoLlm();
  OpenVinoLlm(const OpenVinoLlm&) = delete;
  OpenVinoLlm& operator=(const OpenVinoLlm&) = delete;

  // Generates after `prompt`, the whole conversation as our template and tokenizer made
  // it. Keeps a GenAI chat session (start_chat) while each prompt extends the previous
  // prompt + reply, so the device's KV cache is reused; restarts it otherwise.
  GenerateStats generate(const std::vector<std::int64_t>& prompt, const GenerateOptions& options,
                         const TokenCallback& on_token);

  // NPU: the prompt cap (MAX_PROMPT_LEN, GenAI's default 1024); 0 on GPU / CPU.
  std::size_t max_prompt_len() const { return max_prompt_len_; }
  // NPU: MAX_PROMPT_LEN + MIN_RESPONSE_LEN (GenAI's default 1024 + 128); else 0.
  std::size_t kv_capacity() const { return kv_capacity_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t max_prompt_len_ = 0;
  std::size_t kv_capacity_ = 0;
};

}  // namespace qwen3::device::openvino
