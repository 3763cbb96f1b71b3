// OpenVinoLlm over ov::genai::LLMPipeline (see openvino_llm.h for the release followed).
// Compiled only with QWEN3_HAVE_OPENVINO; the .cc extension keeps it out of the layer glob.
// Each GenAI / OpenVINO call below names the public header it comes from.
#include "device/openvino/openvino_llm.h"

#include <openvino/genai/generation_config.hpp>  // GenerationConfig
#include <openvino/genai/llm_pipeline.hpp>       // LLMPipeline, EncodedResults
#include <openvino/genai/perf_metrics.hpp>       // PerfMetrics, MeanStdPair
#include <openvino/genai/streamer_base.hpp>      // StreamerBase, StreamingStatus
#include <openvino/genai/tokenizer.hpp>          // TokenizedInputs
#include <openvino/runtime/core.hpp>             // ov::Core::get_available_devices
#include <openvino/runtime/tensor.hpp>           // ov::Tensor, ov::Shape, ov::element

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>

#include "device/config_validator.h"
#include "device/openvino_support.h"

namespace qwen3::device::openvino {
namespace {

// JSON property map -> ov::AnyMap. Integers stay int64 (GenAI pops MAX_PROMPT_LEN and
// MIN_RESPONSE_LEN as int or int64_t, utils.cpp pop_int_and_cast); booleans become
// "YES"/"NO" as the NPU plugin spells them; nested objects (PREFILL_CONFIG,
// GENERATE_CONFIG) become nested AnyMaps.
ov::AnyMap to_any_map(const nlohmann::json& props) {
  ov::AnyMap m;
  for (const auto& [key, v] : props.items()) {
    if (v.is_boolean())
      m[key] = std::string(v.get<bool>() ? "YES" : "NO");
    else if (v.is_number_integer())
      m[key] = v.get<int64_t>();
    else if (v.is_number_float())
      m[key] = v.get<double>();
    else if (v.is_object())
      m[key] = to_any_map(v);
    else if (v.is_string())
      m[key] = v.get<std::string>();
    else
      m[key] = v.dump();
  }
  return m;
}

std::size_t int_property(const nlohmann::json& props, const char* key, std::size_t fallback) {
  auto it = props.find(key);
  if (it == props.end()) return fallback;
  if (it->is_number_integer() && it->get<int64_t>() > 0)
    return static_cast<std::size_t>(it->get<int64_t>());
  if (it->is_string()) {
    try {
      return static_cast<std::size_t>(std::stoull(it->get<std::string>()));
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

// streamer_base.hpp: write(int64_t) per generated token; RUNNING continues, STOP ends the
// generation and keeps it in the chat history (CANCEL would drop it).
class TokenStreamer : public ov::genai::StreamerBase {
 public:
  explicit TokenStreamer(const TokenCallback& cb) : cb_(cb) {}
  ov::genai::StreamingStatus write(int64_t token) override {
    return cb_(token) ? ov::genai::StreamingStatus::RUNNING : ov::genai::StreamingStatus::STOP;
  }
  void end() override {}

 private:
  const TokenCallback& cb_;
};

// generation_config.hpp: GenerationConfig fields, starting from the model's
// generation_config.json (LLMPipeline::get_generation_config).
ov::genai::GenerationConfig make_config(ov::genai::GenerationConfig c, const GenerateOptions& o) {
  c.max_new_tokens = o.max_new_tokens;
  c.do_sample = o.do_sample;
  c.temperature = o.temperature;
  c.top_p = o.top_p;
  c.top_k =
      o.top_k > 0 ? static_cast<std::size_t>(o.top_k) : std::numeric_limits<std::size_t>::max();
  c.min_p = o.min_p;
  c.repetition_penalty = o.repetition_penalty;
  c.presence_penalty = o.presence_penalty;
  c.frequency_penalty = o.frequency_penalty;
  c.rng_seed = static_cast<std::size_t>(o.seed);
  c.ignore_eos = o.ignore_eos;
  c.stop_strings = std::set<std::string>(o.stop_strings.begin(), o.stop_strings.end());
  // Our stream parser trims the stop string; GenAI must not swallow its tokens.
  c.include_stop_str_in_output = true;
  c.stop_token_ids.insert(o.stop_token_ids.begin(), o.stop_token_ids.end());
  c.num_beams = 1;  // the NPU pipeline runs greedy and multinomial decoding only
  c.num_return_sequences = 1;
  c.echo = false;
  c.validate();
  return c;
}

double mean_ms(const ov::genai::MeanStdPair& p) {
  return p.mean > 0 ? static_cast<double>(p.mean) : -1.0;
}

}  // namespace

struct OpenVinoLlm::Impl {
  Impl(const std::string& dir, const std::string& device, const ov::AnyMap& props)
      : pipe(std::filesystem::path(dir), device, props) {}
  ov::genai::LLMPipeline pipe;
  bool in_chat = false;
  // What GenAI's chat history holds (every prompt part we passed, then each reply's
  // EncodedResults tokens), mirrored so the next prompt can be passed as the part after it.
  std::vector<int64_t> held;
};

OpenVinoLlm::OpenVinoLlm(const std::string& model_dir, Device device,
                         const nlohmann::json& properties, const std::string& profile) {
  ValidateOptions vo;
  vo.device = device;
  const auto findings = validate_config(properties, vo);
  if (has_errors(findings))
    throw std::invalid_argument(
        "OpenVINO properties rejected (run `qwen3 device-config "
        "--validate FILE` for details):\n" +
        format_findings(findings));
  const std::string dev(to_string(device));
  // openvino/runtime/core.hpp: ov::Core::get_available_devices() -> "CPU", "GPU.0", "NPU".
  std::vector<std::string> visible;
  try {
    ov::Core core;
    visible = core.get_available_devices();
  } catch (const std::exception& e) {
    throw std::runtime_error("OpenVINO cannot list its devices: " + std::string(e.what()));
  }
  const bool seen = std::any_of(visible.begin(), visible.end(),
                                [&](const std::string& d) { return d.rfind(dev, 0) == 0; });
  if (!seen) throw std::runtime_error(device_not_found_reason(dev, visible));
  if (device == Device::NPU) {
    max_prompt_len_ = int_property(properties, "MAX_PROMPT_LEN", 1024);
    kv_capacity_ = max_prompt_len_ + int_property(properties, "MIN_RESPONSE_LEN", 128);
  }
  try {
    // llm_pipeline.hpp: LLMPipeline(const std::filesystem::path& models_path,
    //                               const std::string& device, const ov::AnyMap& properties)
    impl_ = std::make_unique<Impl>(model_dir, dev, to_any_map(properties));
  } catch (const std::exception& e) {
    throw std::runtime_error(compile_failed_reason(dev, profile, e.what()));
  }
}

OpenVinoLlm::~OpenVinoLlm() = default;

GenerateStats OpenVinoLlm::generate(const std::vector<std::int64_t>& prompt,
                                    const GenerateOptions& options, const TokenCallback& on_token) {
  if (prompt.empty()) throw std::invalid_argument("openvino: empty prompt");
  if (max_prompt_len_ > 0 && prompt.size() > max_prompt_len_)
    throw std::length_error("the prompt has " + std::to_string(prompt.size()) +
                            " tokens, over the NPU's MAX_PROMPT_LEN of " +
                            std::to_string(max_prompt_len_));
  Impl& im = *impl_;
  GenerateStats stats;
  // llm_pipeline.hpp: start_chat() / finish_chat() (deprecated since 2026.x in favour of
  // generate(ChatHistory), which would render GenAI's template instead of ours). In a chat,
  // encoded inputs are appended to the tokenized history and the KV cache is aligned to it
  // (pipeline_stateful.cpp), so only the new part of the prompt is passed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const bool extends = im.in_chat && prompt.size() > im.held.size() &&
                       std::equal(im.held.begin(), im.held.end(), prompt.begin());
  if (!extends) {
    if (im.in_chat) im.pipe.finish_chat();
    im.held.clear();
    im.pipe.start_chat();
    im.in_chat = true;
  }
#pragma GCC diagnostic pop
  stats.cached_tokens = im.held.size();
  const std::size_t n = prompt.size() - im.held.size();
  // tokenizer.hpp: TokenizedInputs{input_ids, attention_mask}, i64 tensors of shape {1, n}.
  ov::Tensor ids(ov::element::i64, ov::Shape{1, n});
  std::copy(prompt.begin() + static_cast<std::ptrdiff_t>(im.held.size()), prompt.end(),
            ids.data<int64_t>());
  ov::Tensor mask(ov::element::i64, ov::Shape{1, n});
  std::fill_n(mask.data<int64_t>(), n, int64_t{1});
  // llm_pipeline.hpp: get_generation_config(), then
  // generate(const EncodedInputs&, OptionalGenerationConfig, StreamerVariant) -> EncodedResults.
  const ov::genai::GenerationConfig config = make_config(im.pipe.get_generation_config(), options);
  std::shared_ptr<ov::genai::StreamerBase> streamer = std::make_shared<TokenStreamer>(on_token);
  ov::genai::EncodedResults result;
  try {
    ov::genai::TokenizedInputs inputs;
    inputs.input_ids = ids;
    inputs.attention_mask = mask;
    result = im.pipe.generate(inputs, config, streamer);
  } catch (...) {
    im.in_chat = false;  // the session's state is unknown: the next call starts afresh
    im.held.clear();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    try {
      im.pipe.finish_chat();
    } catch (...) {
    }
#pragma GCC diagnostic pop
    throw;
  }
  im.held.insert(im.held.end(), prompt.begin() + static_cast<std::ptrdiff_t>(im.held.size()),
                 prompt.end());
  if (!result.tokens.empty())
    im.held.insert(im.held.end(), result.tokens[0].begin(), result.tokens[0].end());
  // perf_metrics.hpp: the get_* accessors evaluate the statistics; durations in ms.
  ov::genai::PerfMetrics& m = result.perf_metrics;
  stats.ttft_ms = mean_ms(m.get_ttft());
  stats.tpot_ms = mean_ms(m.get_tpot());
  stats.throughput_tps = mean_ms(m.get_throughput());
  stats.generate_ms = mean_ms(m.get_generate_duration());
  stats.inference_ms = mean_ms(m.get_inference_duration());
  stats.num_generated_tokens = m.get_num_generated_tokens();
  return stats;
}

}  // namespace qwen3::device::openvino
