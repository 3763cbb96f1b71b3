// The C API (include/qwen3/qwen3.h) over the C++ one: handles wrap qwen3::Pipeline,
// qwen3::ContinuousBatchingPipeline and their results; every C++ exception becomes a
// status code plus a per-thread message, so nothing C++ crosses the boundary.
#include "qwen3/qwen3.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/enum_names.h"

#include "qwen3/continuous_batching.h"
#include "qwen3/pipeline.h"

struct qwen3_pipeline {
  qwen3::Pipeline pipe;
};

struct qwen3_gen_config {
  qwen3::GenerationConfig config;
};

struct qwen3_result {
  qwen3::DecodedResult result;
  std::string finish;
};

struct qwen3_batch {
  qwen3::ContinuousBatchingPipeline cb;
};

struct qwen3_request {
  qwen3::GenerationHandle handle;
};

namespace {

thread_local std::string g_last_error;

qwen3_status fail(qwen3_status status, std::string message) {
  g_last_error = std::move(message);
  return status;
}

// Runs `f`, mapping exceptions to statuses (std::invalid_argument -> invalid argument,
// std::bad_alloc -> out of memory, any other std::exception -> runtime).
template <typename F>
qwen3_status guarded(F&& f) {
  try {
    f();
    g_last_error.clear();
    return QWEN3_OK;
  } catch (const std::invalid_argument& e) {
    return fail(QWEN3_ERR_INVALID_ARGUMENT, e.what());
  } catch (const std::out_of_range& e) {
    return fail(QWEN3_ERR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(QWEN3_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(QWEN3_ERR_RUNTIME, e.what());
  } catch (...) {
    return fail(QWEN3_ERR_INTERNAL, "unknown error");
  }
}

qwen3::Properties properties(const char* const* keys, const char* const* values, size_t n) {
  qwen3::Properties props;
  if (n > 0 && (!keys || !values))
    throw std::invalid_argument("property_keys and property_values must not be NULL");
  for (size_t i = 0; i < n; ++i) {
    if (!keys[i] || !values[i])
      throw std::invalid_argument("property " + std::to_string(i) + ": NULL key or value");
    props[keys[i]] = values[i];
  }
  return props;
}

std::string tool_call_json(const qwen3::ToolCall& c) {
  return nlohmann::json{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}}.dump();
}

// Forwards the C++ streamer callbacks to the C function pointers.
class CStreamer : public qwen3::StreamerBase {
 public:
  CStreamer(qwen3_token_fn on_token, qwen3_text_fn on_text, void* user)
      : on_token_(on_token), on_text_(on_text), user_(user) {}
  qwen3::StreamingStatus on_token(std::int32_t id) override {
    return status(on_token_ && on_token_(user_, id) != 0);
  }
  qwen3::StreamingStatus on_reasoning(std::string_view d) override {
    return text(QWEN3_PART_REASONING, d);
  }
  qwen3::StreamingStatus on_content(std::string_view d) override {
    return text(QWEN3_PART_CONTENT, d);
  }
  qwen3::StreamingStatus on_tool_call(int, const qwen3::ToolCall& c) override {
    return text(QWEN3_PART_TOOL_CALL, tool_call_json(c));
  }

 private:
  static qwen3::StreamingStatus status(bool stop) {
    return stop ? qwen3::StreamingStatus::kStop : qwen3::StreamingStatus::kContinue;
  }
  qwen3::StreamingStatus text(qwen3_part part, std::string_view d) {
    return status(on_text_ && on_text_(user_, part, d.data(), d.size()) != 0);
  }
  qwen3_token_fn on_token_;
  qwen3_text_fn on_text_;
  void* user_;
};

const qwen3::GenerationConfig& config_or_default(const qwen3_gen_config* c) {
  static const qwen3::GenerationConfig kDefault{};
  return c ? c->config : kDefault;
}

// Sets one constraint of the content (json_schema, regex or grammar) in place of any
// other; NULL text clears the constraint.
void set_constraint(qwen3_gen_config* c,
                    std::optional<std::string> qwen3::StructuredOutputConfig::*field,
                    const char* text) {
  if (!c) return;
  if (!text) {
    c->config.structured_output.reset();
    return;
  }
  c->config.structured_output = qwen3::StructuredOutputConfig{};
  (*c->config.structured_output).*field = text;
}

qwen3_result* make_result(qwen3::DecodedResult r) {
  auto* out = new qwen3_result{std::move(r), {}};
  out->finish = qwen3::to_string(out->result.finish_reason);
  return out;
}

}  // namespace

extern "C" {

const char* qwen3_version(void) {
  return "0.1.0";
}
int qwen3_api_version(void) {
  return QWEN3_API_VERSION;
}
const char* qwen3_last_error(void) {
  return g_last_error.c_str();
}

constexpr qwen3::NamedValue<qwen3_status> kStatusNames[] = {
    {QWEN3_OK, "ok"},
    {QWEN3_ERR_INVALID_ARGUMENT, "invalid argument"},
    {QWEN3_ERR_RUNTIME, "runtime error"},
    {QWEN3_ERR_OUT_OF_MEMORY, "out of memory"},
    {QWEN3_ERR_BUFFER_TOO_SMALL, "buffer too small"},
    {QWEN3_ERR_INTERNAL, "internal error"}};

const char* qwen3_status_string(qwen3_status status) {
  return qwen3::name_of(kStatusNames, status, "unknown status");
}

void qwen3_free(char* text) {
  std::free(text);
}

qwen3_status qwen3_pipeline_create(const char* model_path, const char* device,
                                   const char* const* keys, const char* const* values,
                                   size_t n_properties, qwen3_pipeline** out) {
  if (!out) return fail(QWEN3_ERR_INVALID_ARGUMENT, "out must not be NULL");
  *out = nullptr;
  if (!model_path) return fail(QWEN3_ERR_INVALID_ARGUMENT, "model_path must not be NULL");
  return guarded([&] {
    *out = new qwen3_pipeline{qwen3::Pipeline(model_path, device ? device : "CPU",
                                              properties(keys, values, n_properties))};
  });
}

void qwen3_pipeline_destroy(qwen3_pipeline* p) {
  delete p;
}

qwen3_status qwen3_pipeline_start_chat(qwen3_pipeline* p, const char* system_message) {
  if (!p) return fail(QWEN3_ERR_INVALID_ARGUMENT, "pipeline must not be NULL");
  return guarded([&] { p->pipe.start_chat(system_message ? system_message : ""); });
}

qwen3_status qwen3_pipeline_finish_chat(qwen3_pipeline* p) {
  if (!p) return fail(QWEN3_ERR_INVALID_ARGUMENT, "pipeline must not be NULL");
  return guarded([&] { p->pipe.finish_chat(); });
}

qwen3_status qwen3_pipeline_encode(const qwen3_pipeline* p, const char* text, size_t text_length,
                                   int special, int32_t* ids, size_t capacity, size_t* n_ids) {
  if (!p || !n_ids) return fail(QWEN3_ERR_INVALID_ARGUMENT, "pipeline and n_ids must not be NULL");
  if (!text && text_length > 0) return fail(QWEN3_ERR_INVALID_ARGUMENT, "text must not be NULL");
  if (!ids && capacity > 0) return fail(QWEN3_ERR_INVALID_ARGUMENT, "ids must not be NULL");
  std::vector<std::int32_t> v;
  const qwen3_status s = guarded(
      [&] { v = p->pipe.encode(std::string(text ? text : "", text_length), special != 0); });
  if (s != QWEN3_OK) return s;
  *n_ids = v.size();
  if (v.size() > capacity)
    return fail(QWEN3_ERR_BUFFER_TOO_SMALL, "the text has " + std::to_string(v.size()) +
                                                " tokens; capacity is " + std::to_string(capacity));
  if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));
  return QWEN3_OK;
}

qwen3_status qwen3_pipeline_decode(const qwen3_pipeline* p, const int32_t* ids, size_t n_ids,
                                   char** text) {
  if (!p || !text) return fail(QWEN3_ERR_INVALID_ARGUMENT, "pipeline and text must not be NULL");
  *text = nullptr;
  if (!ids && n_ids > 0) return fail(QWEN3_ERR_INVALID_ARGUMENT, "ids must not be NULL");
  return guarded([&] {
    const std::string s = p->pipe.decode(std::vector<std::int32_t>(ids, ids + n_ids));
    char* buf = static_cast<char*>(std::malloc(s.size() + 1));
    if (!buf) throw std::bad_alloc();
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    *text = buf;
  });
}

qwen3_status qwen3_generate(qwen3_pipeline* p, const char* prompt, const qwen3_gen_config* config,
                            qwen3_token_fn on_token, qwen3_text_fn on_text, void* user_data,
                            qwen3_result** out) {
  if (!p || !prompt || !out)
    return fail(QWEN3_ERR_INVALID_ARGUMENT, "pipeline, prompt and out must not be NULL");
  *out = nullptr;
  return guarded([&] {
    CStreamer streamer(on_token, on_text, user_data);
    const bool stream = on_token || on_text;
    *out = make_result(p->pipe.generate(std::string(prompt), config_or_default(config),
                                        stream ? &streamer : nullptr));
  });
}

qwen3_gen_config* qwen3_gen_config_create(void) {
  return new (std::nothrow) qwen3_gen_config{};
}
void qwen3_gen_config_destroy(qwen3_gen_config* c) {
  delete c;
}
// The plain field setters: a null handle is ignored, as everywhere in this API.
#define QWEN3_GEN_CONFIG_SETTER(name, type, field)                \
  void qwen3_gen_config_set_##name(qwen3_gen_config* c, type v) { \
    if (c) c->config.field = v;                                   \
  }
QWEN3_GEN_CONFIG_SETTER(max_new_tokens, size_t, max_new_tokens)
QWEN3_GEN_CONFIG_SETTER(temperature, float, temperature)
QWEN3_GEN_CONFIG_SETTER(top_k, int, top_k)
QWEN3_GEN_CONFIG_SETTER(top_p, float, top_p)
QWEN3_GEN_CONFIG_SETTER(min_p, float, min_p)
QWEN3_GEN_CONFIG_SETTER(repetition_penalty, float, repetition_penalty)
QWEN3_GEN_CONFIG_SETTER(presence_penalty, float, presence_penalty)
QWEN3_GEN_CONFIG_SETTER(frequency_penalty, float, frequency_penalty)
QWEN3_GEN_CONFIG_SETTER(seed, uint64_t, seed)
QWEN3_GEN_CONFIG_SETTER(thinking_budget, size_t, thinking_budget)
#undef QWEN3_GEN_CONFIG_SETTER
void qwen3_gen_config_set_thinking(qwen3_gen_config* c, int enable) {
  if (!c) return;
  if (enable < 0)
    c->config.enable_thinking.reset();
  else
    c->config.enable_thinking = enable != 0;
}
void qwen3_gen_config_add_stop(qwen3_gen_config* c, const char* stop) {
  if (c && stop) c->config.stop.emplace_back(stop);
}
void qwen3_gen_config_set_apply_chat_template(qwen3_gen_config* c, int apply) {
  if (c) c->config.apply_chat_template = apply != 0;
}
void qwen3_gen_config_set_ignore_eos(qwen3_gen_config* c, int ignore) {
  if (c) c->config.ignore_eos = ignore != 0;
}
void qwen3_gen_config_set_json_schema(qwen3_gen_config* c, const char* schema) {
  set_constraint(c, &qwen3::StructuredOutputConfig::json_schema, schema);
}
void qwen3_gen_config_set_regex(qwen3_gen_config* c, const char* regex) {
  set_constraint(c, &qwen3::StructuredOutputConfig::regex, regex);
}
void qwen3_gen_config_set_grammar(qwen3_gen_config* c, const char* gbnf) {
  set_constraint(c, &qwen3::StructuredOutputConfig::grammar, gbnf);
}
qwen3_status qwen3_gen_config_validate(const qwen3_gen_config* c) {
  if (!c) return fail(QWEN3_ERR_INVALID_ARGUMENT, "config must not be NULL");
  return guarded([&] { c->config.validate(); });
}

void qwen3_result_destroy(qwen3_result* r) {
  delete r;
}
const char* qwen3_result_text(const qwen3_result* r) {
  return r ? r->result.text.c_str() : "";
}
const char* qwen3_result_reasoning(const qwen3_result* r) {
  return r ? r->result.reasoning.c_str() : "";
}
const char* qwen3_result_finish_reason(const qwen3_result* r) {
  return r ? r->finish.c_str() : "";
}
size_t qwen3_result_tool_call_count(const qwen3_result* r) {
  return r ? r->result.tool_calls.size() : 0;
}
const char* qwen3_result_tool_call_name(const qwen3_result* r, size_t i) {
  return r && i < r->result.tool_calls.size() ? r->result.tool_calls[i].name.c_str() : nullptr;
}
const char* qwen3_result_tool_call_arguments(const qwen3_result* r, size_t i) {
  return r && i < r->result.tool_calls.size() ? r->result.tool_calls[i].arguments.c_str() : nullptr;
}
const char* qwen3_result_tool_call_id(const qwen3_result* r, size_t i) {
  return r && i < r->result.tool_calls.size() ? r->result.tool_calls[i].id.c_str() : nullptr;
}
const int32_t* qwen3_result_tokens(const qwen3_result* r, size_t* n) {
  if (n) *n = r ? r->result.tokens.size() : 0;
  return r ? r->result.tokens.data() : nullptr;
}

double qwen3_result_metric(const qwen3_result* r, qwen3_metric m) {
  if (!r) return 0.0;
  const auto& d = r->result;
  const auto& pm = d.perf_metrics;
  switch (m) {
    case QWEN3_METRIC_PROMPT_TOKENS:
      return static_cast<double>(d.prompt_tokens);
    case QWEN3_METRIC_CACHED_TOKENS:
      return static_cast<double>(d.cached_tokens);
    case QWEN3_METRIC_GENERATED_TOKENS:
      return static_cast<double>(d.tokens.size());
    case QWEN3_METRIC_TTFT_MS:
      return pm.ttft_ms.mean;
    case QWEN3_METRIC_TPOT_MS:
      return pm.tpot_ms.mean;
    case QWEN3_METRIC_THROUGHPUT_TPS:
      return pm.throughput_tps.mean;
    case QWEN3_METRIC_PREFILL_TPS:
      return pm.prefill_tps.mean;
    case QWEN3_METRIC_GENERATE_MS:
      return pm.generate_ms.mean;
    case QWEN3_METRIC_LOAD_TIME_MS:
      return pm.load_time_ms;
    case QWEN3_METRIC_DROPPED_TURNS:
      return static_cast<double>(d.dropped_turns);
  }
  return 0.0;
}

qwen3_status qwen3_batch_create(const char* model_path, const char* device, const char* const* keys,
                                const char* const* values, size_t n_properties, size_t max_num_seqs,
                                qwen3_batch** out) {
  if (!out) return fail(QWEN3_ERR_INVALID_ARGUMENT, "out must not be NULL");
  *out = nullptr;
  if (!model_path) return fail(QWEN3_ERR_INVALID_ARGUMENT, "model_path must not be NULL");
  return guarded([&] {
    qwen3::SchedulerConfig sc;
    if (max_num_seqs > 0) sc.max_num_seqs = max_num_seqs;
    sc.validate();
    *out = new qwen3_batch{qwen3::ContinuousBatchingPipeline(
        model_path, sc, device ? device : "CPU", properties(keys, values, n_properties))};
  });
}

void qwen3_batch_destroy(qwen3_batch* b) {
  delete b;
}

qwen3_status qwen3_batch_add(qwen3_batch* b, const char* prompt, const qwen3_gen_config* config,
                             qwen3_request** out) {
  if (!b || !prompt || !out)
    return fail(QWEN3_ERR_INVALID_ARGUMENT, "batch, prompt and out must not be NULL");
  *out = nullptr;
  return guarded([&] {
    *out = new qwen3_request{b->cb.add_request(std::string(prompt), config_or_default(config))};
  });
}

qwen3_status qwen3_request_read(qwen3_request* r, int timeout_ms, qwen3_text_fn on_text,
                                void* user_data, int* finished) {
  if (!r) return fail(QWEN3_ERR_INVALID_ARGUMENT, "request must not be NULL");
  if (timeout_ms < 0) return fail(QWEN3_ERR_INVALID_ARGUMENT, "timeout_ms must be >= 0");
  return guarded([&] {
    const qwen3::GenerationDelta d = r->handle.read(std::chrono::milliseconds(timeout_ms));
    if (on_text) {
      if (!d.reasoning.empty())
        on_text(user_data, QWEN3_PART_REASONING, d.reasoning.data(), d.reasoning.size());
      if (!d.content.empty())
        on_text(user_data, QWEN3_PART_CONTENT, d.content.data(), d.content.size());
      for (const auto& c : d.tool_calls) {
        const std::string j = tool_call_json(c);
        on_text(user_data, QWEN3_PART_TOOL_CALL, j.data(), j.size());
      }
    }
    if (finished) *finished = r->handle.finished() ? 1 : 0;
  });
}

qwen3_status qwen3_request_wait(qwen3_request* r, qwen3_result** out) {
  if (!r || !out) return fail(QWEN3_ERR_INVALID_ARGUMENT, "request and out must not be NULL");
  *out = nullptr;
  return guarded([&] { *out = make_result(r->handle.wait()); });
}

void qwen3_request_cancel(qwen3_request* r) {
  if (r) r->handle.cancel();
}

void qwen3_request_destroy(qwen3_request* r) {
  delete r;
}

}  // extern "C"
