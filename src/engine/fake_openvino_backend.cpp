// The test-only OpenVINO stand-in (see fake_openvino_backend.h).
#include "engine/fake_openvino_backend.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/split.h"
#include "device/openvino_support.h"
#include "engine/backend.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

std::atomic<bool> g_busy{false};

std::string property(const Properties& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

std::size_t size_property(const Properties& p, const std::string& key) {
  const std::string v = property(p, key);
  if (v.empty()) return 0;
  std::size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || n < 0)
    throw std::invalid_argument("fake openvino: " + key + " must be a count, got '" + v + "'");
  return static_cast<std::size_t>(n);
}

// The failure configured for this device and profile, if any: "driver" or "compile".
std::string failure_for(const std::string& spec, const std::string& device,
                        const std::string& profile) {
  for (std::string entry : split_on(spec, ',')) {
    if (entry.empty()) continue;
    std::string kind = "compile";
    if (auto eq = entry.find('='); eq != std::string::npos) {
      kind = entry.substr(eq + 1);
      entry = entry.substr(0, eq);
    }
    if (kind != "compile" && kind != "driver")
      throw std::invalid_argument("fake openvino: fake_fail kind must be driver or compile");
    const auto colon = entry.find(':');
    const std::string dev = entry.substr(0, colon);
    const std::string prof = colon == std::string::npos ? "" : entry.substr(colon + 1);
    if (dev == device && (prof.empty() || prof == profile)) return kind;
  }
  return "";
}

class FakeOpenVinoBackend : public GenerationBackend {
 public:
  explicit FakeOpenVinoBackend(const BackendOptions& opts)
      : tokenizer_(Tokenizer::from_file(opts.model_path)), device_(opts.device) {
    const std::string fail = failure_for(property(opts.properties, "fake_fail"), opts.device,
                                         opts.profile.empty() ? "balanced" : opts.profile);
    if (fail == "driver")
      throw std::runtime_error(device::device_not_found_reason(device_, {"CPU"}));
    if (fail == "compile")
      throw std::runtime_error(device::compile_failed_reason(
          device_, opts.profile,
          "Exception from src/plugins/intel_npu/src/plugin/npuw/compiled_model.cpp: "
          "fake compiler error"));
    const std::string reply = property(opts.properties, "fake_reply");
    reply_ =
        tokenizer_.encode(reply.empty() ? "Hello from the fake device.<|im_end|>" : reply, true);
    max_prompt_ = size_property(opts.properties, "fake_max_prompt_len");
    if (max_prompt_ == 0) {
      auto it = opts.device_properties.find("MAX_PROMPT_LEN");
      if (it != opts.device_properties.end() && it->is_number_integer() && it->get<long long>() > 0)
        max_prompt_ = static_cast<std::size_t>(it->get<long long>());
    }
    max_context_ = opts.n_ctx > 0 ? static_cast<std::size_t>(opts.n_ctx) : 4096;
    fail_generate_ = property(opts.properties, "fake_fail_generate") == "1";
  }

  BackendCapabilities capabilities() const override {
    return {"fake-openvino", device_, false, max_context_};
  }
  const Tokenizer& tokenizer() const override { return tokenizer_; }
  std::size_t max_prompt_tokens() const override { return max_prompt_; }
  bool busy() const override { return g_busy.load(); }

  GenerationReport generate(const std::vector<std::int32_t>& prompt, const GenerationConfig& config,
                            const std::function<bool(std::int32_t)>& on_token) override {
    if (fail_generate_) throw std::runtime_error("fake openvino: inference request failed");
    if (max_prompt_ > 0 && prompt.size() > max_prompt_)
      // GenAI's own wording (StatefulLLMPipeline on NPU).
      throw std::length_error(
          "Stateful LLM pipeline on NPU may only process prompts or hold chat history up to " +
          std::to_string(max_prompt_) + " tokens. " + std::to_string(prompt.size()) +
          " is passed.");
    GenerationReport report;
    while (report.cached_tokens < prompt.size() && report.cached_tokens < held_.size() &&
           prompt[report.cached_tokens] == held_[report.cached_tokens])
      ++report.cached_tokens;
    held_ = prompt;
    for (std::size_t i = 0; i < reply_.size() && i < config.max_new_tokens; ++i) {
      held_.push_back(reply_[i]);
      if (!on_token(reply_[i])) break;
    }
    return report;
  }

 private:
  Tokenizer tokenizer_;
  std::string device_;
  std::vector<std::int32_t> reply_;
  std::vector<std::int32_t> held_;  // what the device's KV cache would hold
  std::size_t max_prompt_ = 0;
  std::size_t max_context_ = 0;
  bool fail_generate_ = false;
};

}  // namespace

void register_fake_openvino_backend() {
  register_backend("openvino", [](const BackendOptions& opts) -> std::unique_ptr<Backend> {
    return std::make_unique<FakeOpenVinoBackend>(opts);
  });
}

void fake_openvino_set_busy(bool busy) {
  g_busy = busy;
}

}  // namespace qwen3::engine
