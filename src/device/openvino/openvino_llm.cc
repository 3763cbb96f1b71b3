// Written against the documented OpenVINO GenAI API (2025.3+: ChatHistory, JsonContainer,
// StreamerBase::write returning StreamingStatus). Compiled only with QWEN3_HAVE_OPENVINO.
#include "device/openvino/openvino_llm.h"

#include <openvino/genai/chat_history.hpp>
#include <openvino/genai/json_container.hpp>
#include <openvino/genai/llm_pipeline.hpp>
#include <openvino/genai/streamer_base.hpp>

#include <algorithm>
#include <stdexcept>

#include "device/config_validator.h"

namespace qwen3::device::openvino {
namespace {

// JSON property map -> ov::AnyMap. Integers stay int64 (GenAI pops MAX_PROMPT_LEN as int
// or int64); nested objects (PREFILL_CONFIG, ...) become nested AnyMaps.
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
    else
      m[key] = v.get<std::string>();
  }
  return m;
}

class TokenStreamer : public ov::genai::StreamerBase {
 public:
  explicit TokenStreamer(TokenCallback cb) : cb_(std::move(cb)) {}
  ov::genai::StreamingStatus write(int64_t token) override {
    return cb_(token) ? ov::genai::StreamingStatus::RUNNING : ov::genai::StreamingStatus::STOP;
  }
  void end() override {}

 private:
  TokenCallback cb_;
};

std::shared_ptr<ov::genai::StreamerBase> streamer(const TokenCallback& cb) {
  return std::make_shared<TokenStreamer>(cb);
}

ov::genai::GenerationConfig make_config(ov::genai::GenerationConfig c, const GenerateOptions& o) {
  c.max_new_tokens = o.max_new_tokens;
  c.do_sample = o.do_sample;
  c.temperature = o.temperature;
  c.top_p = o.top_p;
  c.top_k = o.top_k;
  c.presence_penalty = o.presence_penalty;
  c.rng_seed = static_cast<size_t>(o.seed);
  c.num_beams = 1;  // the NPU pipeline has no beam search
  c.num_return_sequences = 1;
  return c;
}

}  // namespace

struct OpenVinoLlm::Impl {
  Impl(const std::string& dir, const std::string& device, const ov::AnyMap& props)
      : pipe(dir, device, props) {}
  ov::genai::LLMPipeline pipe;
};

OpenVinoLlm::OpenVinoLlm(const std::string& model_dir, Device device,
                         const nlohmann::json& properties) {
  ValidateOptions vo;
  vo.device = device;
  const auto findings = validate_config(properties, vo);
  if (has_errors(findings))
    throw std::invalid_argument("OpenVINO properties rejected:\n" + format_findings(findings));
  impl_ = std::make_unique<Impl>(model_dir, std::string(to_string(device)), to_any_map(properties));
}

OpenVinoLlm::~OpenVinoLlm() = default;

void OpenVinoLlm::generate(const std::vector<ChatMessage>& history, const GenerateOptions& o,
                           const TokenCallback& on_token) {
  ov::genai::ChatHistory chat;
  for (const auto& m : history) chat.push_back({{"role", m.role}, {"content", m.content}});
  chat.set_extra_context(ov::genai::JsonContainer({{"enable_thinking", o.enable_thinking}}));
  auto config = make_config(impl_->pipe.get_generation_config(), o);
  config.apply_chat_template = true;
  impl_->pipe.generate(chat, config, streamer(on_token));
}

void OpenVinoLlm::generate_ids(const std::vector<int64_t>& prompt, const GenerateOptions& o,
                               const TokenCallback& on_token) {
  ov::Tensor ids(ov::element::i64, ov::Shape{1, prompt.size()});
  std::copy(prompt.begin(), prompt.end(), ids.data<int64_t>());
  ov::Tensor mask(ov::element::i64, ov::Shape{1, prompt.size()});
  std::fill_n(mask.data<int64_t>(), prompt.size(), int64_t{1});
  auto config = make_config(impl_->pipe.get_generation_config(), o);
  impl_->pipe.generate(ov::genai::TokenizedInputs{ids, mask}, config, streamer(on_token));
}

}  // namespace qwen3::device::openvino
