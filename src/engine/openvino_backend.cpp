// The "openvino" GenerationBackend (see openvino_backend.h). Without OpenVINO GenAI this
// file compiles to nothing: the registry then has no "openvino" and the device choice says
// how to get one.
#include "engine/openvino_backend.h"

#ifdef QWEN3_HAVE_OPENVINO
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

#include "device/device_types.h"
#include "device/openvino/openvino_llm.h"
#include "engine/device_choice.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

// Generations running per device in this process: several Pipelines (server --parallel)
// share one NPU, and the hand-off "load" trigger asks whether it is taken.
std::atomic<int>& in_flight(device::Device d) {
  static std::atomic<int> counts[3];
  return counts[static_cast<int>(d)];
}

class OpenVinoBackend : public GenerationBackend {
 public:
  explicit OpenVinoBackend(const BackendOptions& opts) : tokenizer_(load_tokenizer(opts)) {
    const auto t0 = std::chrono::steady_clock::now();
    auto dev = device::parse_device(opts.device);
    if (!dev) throw std::invalid_argument("openvino backend: unknown device '" + opts.device + "'");
    device_ = *dev;
    llm_ = std::make_unique<device::openvino::OpenVinoLlm>(opts.model_path, device_,
                                                           opts.device_properties, opts.profile);
    load_ms_ =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    max_context_ = llm_->kv_capacity() > 0
                       ? llm_->kv_capacity()
                       : static_cast<std::size_t>(opts.n_ctx > 0 ? opts.n_ctx : 4096);
  }

  BackendCapabilities capabilities() const override {
    return {"openvino", std::string(device::to_string(device_)), true, max_context_};
  }
  const Tokenizer& tokenizer() const override { return tokenizer_; }
  double load_ms() const override { return load_ms_; }
  std::size_t max_prompt_tokens() const override { return llm_->max_prompt_len(); }
  bool busy() const override { return in_flight(device_).load() > 0; }

  GenerationReport generate(const std::vector<std::int32_t>& prompt, const GenerationConfig& c,
                            const std::function<bool(std::int32_t)>& on_token) override {
    device::openvino::GenerateOptions o;
    static_cast<SamplingValues&>(o) = c.sampling_values();
    o.max_new_tokens = c.max_new_tokens;
    o.do_sample = !c.is_greedy();
    // Greedy: GenAI decodes greedily when do_sample is false, whatever the temperature.
    if (!o.do_sample) o.temperature = 1.0f;
    o.ignore_eos = c.ignore_eos;
    o.stop_strings = c.stop;
    if (!c.ignore_eos) o.stop_token_ids = {tokenizer_.im_end_id(), tokenizer_.eos_id()};
    if (!c.logit_bias.empty())
      throw std::invalid_argument("logit_bias needs the CPU engine (GenAI has no logit bias)");
    std::lock_guard<std::mutex> lock(mu_);  // one generation per LLMPipeline
    struct Count {
      std::atomic<int>& n;
      explicit Count(std::atomic<int>& c) : n(c) { ++n; }
      ~Count() { --n; }
    } count(in_flight(device_));
    const std::vector<std::int64_t> ids(prompt.begin(), prompt.end());
    const auto stats = llm_->generate(
        ids, o, [&](std::int64_t id) { return on_token(static_cast<std::int32_t>(id)); });
    GenerationReport r;
    r.cached_tokens = stats.cached_tokens;
    r.ttft_ms = stats.ttft_ms;
    r.tpot_ms = stats.tpot_ms;
    r.generate_ms = stats.generate_ms;
    return r;
  }

 private:
  static Tokenizer load_tokenizer(const BackendOptions& opts) {
    // Before any OpenVINO call: a GGUF or a plain HF folder is not an export.
    const std::string problem = openvino_folder_problem(opts.model_path);
    if (!problem.empty()) throw std::invalid_argument(problem);
    return Tokenizer::from_file(opts.model_path);
  }

  Tokenizer tokenizer_;
  device::Device device_ = device::Device::NPU;
  std::unique_ptr<device::openvino::OpenVinoLlm> llm_;
  std::mutex mu_;
  double load_ms_ = 0;
  std::size_t max_context_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_openvino_backend(const BackendOptions& opts) {
  return std::make_unique<OpenVinoBackend>(opts);
}

}  // namespace qwen3::engine
#endif  // QWEN3_HAVE_OPENVINO
