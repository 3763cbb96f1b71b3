// qwen3::Pipeline: backend selection, prompt building, the generation loop and metrics.
#include "qwen3/pipeline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

#include "engine/backend.h"
#include "engine/chat_session.h"
#include "engine/device_choice.h"
#include "engine/device_fallback.h"
#include "engine/image_prompt.h"
#include "engine/model_defaults.h"
#include "engine/prompt_builder.h"
#include "engine/reply_assembler.h"
#include "engine/reply_generator.h"
#include "engine/sampler.h"
#include "engine/structured_output.h"
#include "model/hf_model_loader.h"
#include "text/chat_template.h"
#include "text/json_limits.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int positive_int(const Properties& props, const char* key) {
  auto it = props.find(key);
  if (it == props.end()) return 0;
  std::size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || v <= 0)
    throw std::invalid_argument(std::string("property ") + key +
                                " must be a positive integer, got '" + it->second + "'");
  return v;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// enable_thinking of a request: the config, else the history's extra template context,
// else on (the Qwen3 default).
bool thinking_of(const GenerationConfig& cfg, const ChatHistory* history) {
  if (cfg.enable_thinking) return *cfg.enable_thinking;
  if (history && !history->extra_context_json.empty()) {
    nlohmann::ordered_json extra;
    try {
      extra = text::parse_json(history->extra_context_json);
    } catch (const text::JsonError& e) {
      throw std::invalid_argument(std::string("extra_context_json: ") + e.what());
    }
    if (!extra.is_object()) throw std::invalid_argument("extra_context_json must be a JSON object");
    if (auto it = extra.find("enable_thinking"); it != extra.end()) {
      if (!it->is_boolean())
        throw std::invalid_argument("extra_context_json: enable_thinking must be a boolean");
      return it->get<bool>();
    }
  }
  return true;
}

}  // namespace

namespace engine {

void check_native_properties(const Properties& properties) {
  for (const auto& kv : properties)
    if (!is_device_choice_property(kv.first) && kv.first.rfind("fake_", 0) != 0 &&
        kv.first != "n_ctx" && kv.first != "n_threads" && kv.first != "kv_type" &&
        kv.first != "quantize" && kv.first != "backend" && kv.first != "lora" &&
        kv.first != "mmproj")
      throw std::invalid_argument(
          "unknown property '" + kv.first +
          "' for the native backend (n_ctx, n_threads, kv_type, quantize, lora, mmproj)");
}

BackendOptions parse_backend_options(const std::string& model_path, const std::string& device,
                                     const Properties& props) {
  BackendOptions o;
  o.model_path = model_path;
  o.device = device;
  o.properties = props;
  o.n_ctx = positive_int(props, "n_ctx");
  o.n_threads = positive_int(props, "n_threads");
  if (auto it = props.find("kv_type"); it != props.end()) {
    try {
      o.kv = parse_kv_type(it->second);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(std::string("property kv_type must be one of ") +
                                  kv_type_names() + ", got '" + it->second + "'");
    }
  }
  if (auto it = props.find("quantize"); it != props.end()) {
    try {
      hf::parse_load_quantize(it->second);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("property quantize must be q4_0, q4_k, q8_0 or none, got '" +
                                  it->second + "'");
    }
    o.quantize = it->second;
  }
  if (auto it = props.find("lora"); it != props.end())
    o.adapters = AdapterConfig::from_property(it->second);
  return o;
}

}  // namespace engine

struct Pipeline::Impl {
  std::unique_ptr<engine::Backend> backend;
  engine::TokenBackend* token = nullptr;
  engine::GenerationBackend* whole = nullptr;
  std::unique_ptr<engine::Generator> generator;
  std::string device;
  engine::ChatSession session;
  PerfMetrics session_metrics;
  ModelSamplingDefaults model_defaults;
  double load_ms = 0;
  bool special_in_content = false;            // unsafe: message text may write special tokens
  std::string tier;                           // the deployment tier serving
  std::vector<TierAttempt> failed_tiers;      // AUTO: why earlier tiers did not start
  std::string handoff = "never";              // never, overflow, load
  std::unique_ptr<engine::Backend> cpu;       // the hand-off target (native CPU engine)
  engine::TokenBackend* cpu_token = nullptr;  // cpu's token interface
  std::unique_ptr<engine::Generator> cpu_generator;

  const Tokenizer& tok() const { return backend->tokenizer(); }

  engine::PromptBudget budget(const GenerationConfig& cfg) const {
    // With a hand-off target, a conversation may grow to what the CPU engine holds.
    std::size_t n_ctx = backend->capabilities().max_context;
    if (cpu) n_ctx = std::max(n_ctx, cpu->capabilities().max_context);
    return {n_ctx, std::min(cfg.min_reply_tokens, cfg.max_new_tokens)};
  }

  DecodedResult run(const engine::BuiltPrompt& prompt, const GenerationConfig& resolved,
                    bool thinking, StreamerBase* streamer, Clock::time_point call_start);
};

namespace {
Properties with_adapters(Properties props, const AdapterConfig& adapters) {
  if (adapters.empty()) return props;
  std::string& v = props["lora"];
  v += (v.empty() ? "" : "\n") + adapters.to_property();
  return props;
}
}  // namespace

Pipeline::Pipeline(const std::string& model_path, const std::string& device,
                   const Properties& properties, const AdapterConfig& adapters)
    : Pipeline(model_path, device, with_adapters(properties, adapters)) {}

void Pipeline::set_adapters(const AdapterConfig& adapters) {
  if (!impl_->token) {
    if (adapters.empty()) return;
    throw std::invalid_argument("LoRA adapters need the native CPU engine (--device CPU)");
  }
  impl_->token->set_adapters(adapters);
}

Pipeline::Pipeline(const std::string& model_path, const std::string& device_in,
                   const Properties& pipeline_properties)
    : impl_(std::make_unique<Impl>()) {
  const auto t0 = Clock::now();
  // The Pipeline's own properties; the rest go to the backend.
  Properties properties = pipeline_properties;
  if (auto it = properties.find("special_in_content"); it != properties.end()) {
    if (it->second != "true" && it->second != "false")
      throw std::invalid_argument("property special_in_content must be true or false, got '" +
                                  it->second + "'");
    impl_->special_in_content = it->second == "true";
    properties.erase(it);
  }
  const std::string device = upper(device_in);
  if (device != "CPU" && device != "GPU" && device != "NPU" && device != "AUTO")
    throw std::invalid_argument("unknown device '" + device_in + "' (CPU, GPU, NPU or AUTO)");
  std::string name = properties.count("backend") ? properties.at("backend") : "";
  if (name.empty() || name == "native") engine::check_native_properties(properties);
  if (auto it = properties.find("handoff"); it != properties.end()) {
    if (it->second != "never" && it->second != "overflow" && it->second != "load")
      throw std::invalid_argument("property handoff must be never, overflow or load, got '" +
                                  it->second + "'");
    impl_->handoff = it->second;
  }
  // A folder's generation_config.json before the (slow) load, so a malformed one fails
  // fast; a GGUF's general.sampling.* keys the backend reads from the file it opens (the
  // GGUF is opened once), else they are read here after the load.
  const bool hf_folder = hf::is_hf_model_folder(model_path);
  if (hf_folder) impl_->model_defaults = engine::read_model_sampling_defaults(model_path);
  engine::DeviceChoice choice = engine::open_device_backend(model_path, device, properties, name);
  impl_->backend = std::move(choice.backend);
  if (!hf_folder) {
    const auto read = impl_->backend->model_sampling_defaults();
    impl_->model_defaults = read ? *read : engine::read_model_sampling_defaults(model_path);
  }
  impl_->tier = choice.tier;
  for (const auto& f : choice.failures) impl_->failed_tiers.push_back({f.tier.name(), f.reason});
  if (name.empty()) name = impl_->backend->capabilities().name;
  if (impl_->handoff != "never" && impl_->backend->whole_generation()) {
    // The CPU engine the conversation moves to, loaded now so a hand-off costs only the
    // prefill of the history.
    auto it = properties.find("cpu_model");
    if (it == properties.end() || it->second.empty())
      throw std::invalid_argument("handoff " + impl_->handoff +
                                  " needs a GGUF or Hugging Face copy of the model for the CPU "
                                  "engine (--cpu-model / property cpu_model)");
    Properties cpu_props;
    for (const auto& kv : properties)
      if (kv.first == "n_ctx" || kv.first == "n_threads" || kv.first == "kv_type" ||
          kv.first == "quantize")
        cpu_props.insert(kv);
    impl_->cpu = engine::make_handoff_backend(it->second, cpu_props);
    engine::check_same_tokenizer(impl_->backend->tokenizer(), impl_->cpu->tokenizer(), model_path,
                                 it->second);
    impl_->cpu_token = impl_->cpu->token_level();
    impl_->cpu_generator = std::make_unique<engine::Generator>(*impl_->cpu_token);
  }
  impl_->token = impl_->backend->token_level();
  impl_->whole = impl_->backend->whole_generation();
  if (impl_->whole && properties.count("lora") && !properties.at("lora").empty())
    throw std::invalid_argument("LoRA adapters need the native CPU engine (--device CPU), not " +
                                impl_->tier);
  if (!impl_->token && !impl_->whole)
    throw std::logic_error("backend '" + name + "' is neither token-level nor whole-generation");
  if (impl_->token) impl_->generator = std::make_unique<engine::Generator>(*impl_->token);
  impl_->device = impl_->backend->capabilities().device;
  // The model's chat template must parse now, not at the first request.
  text::ChatTemplate::for_source(impl_->tok().chat_template());
  impl_->load_ms = ms_since(t0);
  impl_->session_metrics.load_time_ms = impl_->load_ms;
}

Pipeline::Pipeline(std::unique_ptr<engine::Backend> backend, const ModelSamplingDefaults& defaults)
    : impl_(std::make_unique<Impl>()) {
  if (!backend) throw std::invalid_argument("Pipeline: no backend");
  impl_->backend = std::move(backend);
  impl_->model_defaults = defaults;
  impl_->token = impl_->backend->token_level();
  impl_->whole = impl_->backend->whole_generation();
  if (!impl_->token && !impl_->whole)
    throw std::logic_error("the backend is neither token-level nor whole-generation");
  if (impl_->token) impl_->generator = std::make_unique<engine::Generator>(*impl_->token);
  impl_->device = impl_->backend->capabilities().device;
  // The model's chat template must parse now, not at the first request.
  text::ChatTemplate::for_source(impl_->tok().chat_template());
  impl_->load_ms = impl_->backend->load_ms();
  impl_->session_metrics.load_time_ms = impl_->load_ms;
}

Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

DecodedResult Pipeline::Impl::run(const engine::BuiltPrompt& prompt,
                                  const GenerationConfig& resolved, bool thinking,
                                  StreamerBase* streamer, Clock::time_point call_start) {
  for (const auto& [id, bias] : resolved.logit_bias) {
    if (id >= tok().n_vocab()) {
      throw std::invalid_argument("'logit_bias' names token " + std::to_string(id) +
                                  ", outside the vocabulary of " + std::to_string(tok().n_vocab()) +
                                  " tokens");
    }
  }
  // Constrained decoding and reasoning limits (before anything is generated, so a bad
  // schema or grammar is an error of the request).
  std::unique_ptr<engine::DecodeController> control;
  const bool constrained = resolved.structured_output && !resolved.structured_output->empty();
  const bool needs_tokens = constrained || resolved.thinking_budget ||
                            resolved.thinking_budget_ms || resolved.reasoning_loop_guard;
  // Where this reply runs: the device, or the CPU engine it hands off to.
  engine::TokenBackend* token = this->token;
  engine::Generator* generator = this->generator.get();
  engine::GenerationBackend* whole = this->whole;
  std::string handoff_why;
  if (whole) {
    const std::size_t cap = whole->max_prompt_tokens();
    const std::string dev = backend->capabilities().device;
    if (cap > 0 && prompt.ids.size() > cap)
      handoff_why = "overflow: the conversation has " + std::to_string(prompt.ids.size()) +
                    " tokens, over the " + dev + "'s MAX_PROMPT_LEN of " + std::to_string(cap);
    else if (handoff == "load" && whole->busy())
      handoff_why = "load: the " + dev + " is busy with another conversation";
    else if (needs_tokens)
      handoff_why = "structured output / reasoning budget: only the CPU engine constrains decoding";
    if (!handoff_why.empty() && cpu_token) {
      token = cpu_token;
      generator = cpu_generator.get();
      whole = nullptr;
    } else if (handoff_why.rfind("overflow", 0) == 0) {
      throw std::length_error("the prompt has " + std::to_string(prompt.ids.size()) +
                              " tokens, over the " + dev + "'s MAX_PROMPT_LEN of " +
                              std::to_string(cap) +
                              ": raise MAX_PROMPT_LEN (qwen3 device-config), or continue on the "
                              "CPU with --handoff overflow --cpu-model MODEL.gguf");
    } else {
      handoff_why.clear();
    }
  }
  if (needs_tokens) {
    if (!token)
      throw std::invalid_argument(
          "structured output and reasoning budgets need a token-level backend (the native CPU "
          "engine)");
    std::shared_ptr<const text::CompiledGrammar> grammar;
    if (constrained)
      grammar = engine::compile_structured_output(*resolved.structured_output, &tok(),
                                                  prompt.tool_format);
    engine::ReasoningLimits limits;
    limits.tokens = resolved.thinking_budget;
    limits.ms = resolved.thinking_budget_ms;
    limits.loop_guard = resolved.reasoning_loop_guard;
    control = std::make_unique<engine::DecodeController>(tok(), std::move(grammar),
                                                         thinking || prompt.starts_in_reasoning,
                                                         prompt.starts_in_reasoning, limits);
    control->set_token_limit(resolved.max_new_tokens);
  }
  engine::ReplyAssembler reply(tok(), prompt.starts_in_reasoning, resolved.stop, streamer,
                               prompt.tool_format == text::ToolCallFormat::kXml, prompt.tools_json);
  DecodedResult r;
  r.prompt_tokens = prompt.ids.size();
  r.dropped_turns = prompt.dropped_turns;
  r.note = prompt.note;
  engine::GenerationTimings t;
  FinishReason reason = FinishReason::kStop;
  if (whole) {
    // On the device. If it fails before its first token, the CPU engine (when loaded)
    // takes the reply over.
    try {
      const auto start = Clock::now();
      auto last = start;
      bool stopped = false;
      engine::GenerationReport report = whole->generate(prompt.ids, resolved, [&](std::int32_t id) {
        const auto now = Clock::now();
        if (r.tokens.empty())
          t.ttft_ms = std::chrono::duration<double, std::milli>(now - start).count();
        else
          t.token_intervals_ms.push_back(
              std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
        r.tokens.push_back(id);
        stopped = !reply.push(id);
        return !stopped;
      });
      reply.finish();
      t.prompt_tokens = prompt.ids.size();
      t.cached_tokens = std::min(report.cached_tokens, prompt.ids.size());
      t.generated_tokens = r.tokens.size();
      if (report.ttft_ms >= 0) t.ttft_ms = report.ttft_ms;  // the device's own measurement
      t.prefill_ms = t.ttft_ms;  // the device prefills, then samples the first token
      if (stopped)
        reason = reply.cancelled() ? FinishReason::kCancelled : FinishReason::kStop;
      else if (r.tokens.size() >= resolved.max_new_tokens)
        reason = FinishReason::kLength;
    } catch (const std::exception& e) {
      if (!r.tokens.empty() || !cpu_token) throw;
      handoff_why = "device error: " + std::string(e.what());
      token = cpu_token;
      generator = cpu_generator.get();
      whole = nullptr;
    }
  }
  if (!whole) {
    engine::Sampler sampler(engine::SamplerParams::from(resolved));
    engine::GeneratorOptions go;
    go.max_new_tokens = resolved.max_new_tokens;
    go.ignore_eos = resolved.ignore_eos;
    go.end_tokens = {tok().im_end_id(), tok().eos_id()};
    go.control = control.get();
    auto out = generator->run(prompt.ids, sampler, go, [&](std::int32_t id) {
      return reply.push(id) ? engine::TokenAction::kContinue : engine::TokenAction::kStop;
    });
    reply.finish();
    r.tokens = std::move(out.tokens);
    t = out.timings;
    switch (out.cause) {
      case engine::StopCause::kEndToken:
        reason = FinishReason::kStop;
        break;
      case engine::StopCause::kLength:
      case engine::StopCause::kContextFull:
        reason = FinishReason::kLength;
        break;
      case engine::StopCause::kCallback:
        reason = reply.cancelled() ? FinishReason::kCancelled : FinishReason::kStop;
        break;
    }
  }
  if (reason == FinishReason::kStop && !reply.tool_calls().empty())
    reason = FinishReason::kToolCalls;
  r.text = reply.content();
  r.reasoning = reply.reasoning();
  r.tool_calls = reply.tool_calls();
  r.finish_reason = reason;
  r.device = whole || !cpu_token || token != cpu_token ? backend->capabilities().device : "CPU";
  r.handoff = handoff_why;
  if (control) r.reasoning_closed = control->reasoning_closed();
  r.cached_tokens = t.cached_tokens;

  PerfMetrics& m = r.perf_metrics;
  m.load_time_ms = load_ms;
  m.num_input_tokens = r.prompt_tokens;
  m.num_cached_tokens = r.cached_tokens;
  m.num_generated_tokens = r.tokens.size();
  const double before_loop = prompt.template_ms + prompt.tokenize_ms;
  if (!r.tokens.empty()) m.raw.ttft_ms.push_back(before_loop + t.ttft_ms);
  m.raw.token_intervals_ms = t.token_intervals_ms;
  m.raw.generate_ms.push_back(ms_since(call_start));
  m.raw.tokenization_ms.push_back(prompt.tokenize_ms);
  m.raw.template_ms.push_back(prompt.template_ms);
  if (t.prefill_ms > 0)
    m.raw.prefill_tps.push_back(1000.0 * static_cast<double>(t.prompt_tokens - t.cached_tokens) /
                                t.prefill_ms);
  double decode_ms = 0;
  for (double d : t.token_intervals_ms) decode_ms += d;
  if (decode_ms > 0)
    m.raw.decode_tps.push_back(1000.0 * static_cast<double>(t.token_intervals_ms.size()) /
                               decode_ms);
  m.evaluate();
  session_metrics += m;
  {
    // A Pipeline that generates for good (a long-lived user object, a server slot) would
    // keep every raw sample: past 2x a cap, the session drops its oldest ones down to the
    // cap, so its means and stds cover the latest 1,024 calls (65,536 token intervals) at
    // least; the token counts still cover every call.
    constexpr std::size_t kCalls = 1024, kIntervals = 65536;
    auto trim = [](std::vector<double>& v, std::size_t cap) {
      if (v.size() <= 2 * cap) return false;
      v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(cap));
      return true;
    };
    RawPerfMetrics& raw = session_metrics.raw;
    bool trimmed = trim(raw.token_intervals_ms, kIntervals);
    for (auto* v : {&raw.ttft_ms, &raw.generate_ms, &raw.tokenization_ms, &raw.template_ms,
                    &raw.prefill_tps, &raw.decode_tps})
      trimmed = trim(*v, kCalls) || trimmed;
    if (trimmed) session_metrics.evaluate();
  }
  if (streamer) streamer->on_end(reason);
  return r;
}

DecodedResult Pipeline::generate(const std::string& prompt, const GenerationConfig& config,
                                 StreamerBase* streamer) {
  const auto start = Clock::now();
  config.validate();
  if (!config.apply_chat_template) {
    const bool thinking = thinking_of(config, nullptr);
    auto built = engine::build_raw_prompt(prompt, impl_->tok(), impl_->budget(config));
    // A raw prompt is the caller's: the reply reasons only if the prompt opened <think>.
    return impl_->run(built, config.resolved(thinking, impl_->model_defaults), false, streamer,
                      start);
  }
  if (!impl_->session.active()) {
    ChatHistory h;
    h.push_back(ChatMessage::user(prompt));
    return generate(h, config, streamer);
  }
  const ChatHistory h = impl_->session.with_user(prompt);
  const bool thinking = thinking_of(config, &h);
  auto built = engine::build_chat_prompt(h, config.enable_thinking, impl_->tok(),
                                         impl_->budget(config), impl_->special_in_content);
  DecodedResult r = impl_->run(built, config.resolved(thinking, impl_->model_defaults), thinking,
                               streamer, start);
  impl_->session.record_turn(prompt, r);
  return r;
}

DecodedResult Pipeline::generate(const ChatHistory& history, const GenerationConfig& config,
                                 StreamerBase* streamer) {
  const auto start = Clock::now();
  config.validate();
  const bool thinking = thinking_of(config, &history);
  // Images (Qwen3-VL): encoded by the backend, each standing as its run of token ids.
  std::vector<std::vector<std::int32_t>> image_runs;
  const auto images = engine::history_images(history);
  if (!images.empty()) {
    if (!impl_->token) throw std::invalid_argument("this backend takes no images");
    std::vector<const std::string*> bytes;
    for (const ChatImage* im : images) bytes.push_back(&im->bytes);
    image_runs = impl_->token->prepare_images(bytes);
  }
  auto built = engine::build_chat_prompt(history, config.enable_thinking, impl_->tok(),
                                         impl_->budget(config), impl_->special_in_content,
                                         images.empty() ? nullptr : &image_runs);
  return impl_->run(built, config.resolved(thinking, impl_->model_defaults), thinking, streamer,
                    start);
}

void Pipeline::start_chat(const std::string& system_message) {
  impl_->session.start(system_message);
  impl_->session_metrics = PerfMetrics{};
  impl_->session_metrics.load_time_ms = impl_->load_ms;
}

void Pipeline::finish_chat() {
  impl_->session.finish();
}
bool Pipeline::in_chat() const {
  return impl_->session.active();
}
const ChatHistory& Pipeline::history() const {
  return impl_->session.history();
}

std::vector<std::int32_t> Pipeline::encode(const std::string& text, bool special) const {
  return impl_->tok().encode(text, special);
}

std::string Pipeline::decode(const std::vector<std::int32_t>& ids) const {
  return impl_->tok().decode(ids);
}

std::string Pipeline::apply_chat_template(const ChatHistory& history, bool add_generation_prompt,
                                          std::optional<bool> enable_thinking) const {
  text::TemplateOptions o;
  o.add_generation_prompt = add_generation_prompt;
  o.enable_thinking = enable_thinking;
  return text::ChatTemplate::for_source(impl_->tok().chat_template())->render(history, o).text;
}

PipelineInfo Pipeline::info() const {
  const auto c = impl_->backend->capabilities();
  PipelineInfo info;
  info.backend = c.name;
  info.device = c.device;
  info.n_ctx = c.max_context;
  info.kv_reuse = c.kv_reuse;
  info.tier = impl_->tier.empty() ? c.device : impl_->tier;
  info.failed_tiers = impl_->failed_tiers;
  info.handoff = impl_->cpu ? impl_->handoff : "never";
  if (impl_->whole) info.max_prompt_tokens = impl_->whole->max_prompt_tokens();
  return info;
}

const ModelSamplingDefaults& Pipeline::model_defaults() const {
  return impl_->model_defaults;
}

const PerfMetrics& Pipeline::session_metrics() const {
  return impl_->session_metrics;
}

}  // namespace qwen3
