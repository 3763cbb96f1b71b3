// The request fields that become a GenerationConfig (both /v1/chat/completions and
// /v1/completions), with OpenAI's names and llama.cpp's extensions.
#include <cmath>
#include <functional>
#include <stdexcept>

#include "engine/structured_output.h"

#include "server/api_error.h"
#include "server/request_limits.h"
#include "server/requests.h"

namespace qwen3::server {
namespace {

// logit_bias: {"<token id>": bias in [-100, 100], ...}. Ids beyond the vocabulary are
// refused by the pipeline, which knows it.
void parse_logit_bias(const JsonFields& f, GenerationConfig& c) {
  const Json* lb = f.object("logit_bias");
  if (!lb) return;
  const std::string field = f.name("logit_bias");
  if (lb->size() > limits::kMaxLogitBias) {
    throw limit_exceeded(field, "holds", lb->size(), "entries", limits::kMaxLogitBias);
  }
  for (auto it = lb->begin(); it != lb->end(); ++it) {
    const std::string& key = it.key();
    bool id_ok = !key.empty() && key.size() <= 10 && (key == "0" || key[0] != '0');
    for (char ch : key) id_ok = id_ok && ch >= '0' && ch <= '9';
    if (!id_ok || std::stoll(key) > INT32_MAX) {
      throw invalid_request(
          "'" + field + "' keys must be token ids (decimal strings), got " + Json(key).dump(),
          field);
    }
    const Json& v = it.value();
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < -100.0 ||
        v.get<double>() > 100.0) {
      throw invalid_request(
          "'" + field + "[\"" + key + "\"]' must be a number between -100 and 100, got " + v.dump(),
          field);
    }
    c.logit_bias[static_cast<std::int32_t>(std::stoll(key))] = v.get<float>();
  }
}

void set_constraint(GenerationConfig& c, const std::string& field,
                    const std::function<void(StructuredOutputConfig&)>& fill) {
  if (c.structured_output && !c.structured_output->empty()) {
    throw invalid_request("'" + field +
                              "' conflicts with another output constraint of this request "
                              "(response_format, json_schema, grammar, regex)",
                          field, "conflict");
  }
  StructuredOutputConfig so;
  fill(so);
  c.structured_output = so;
}

// Constrained decoding: OpenAI's response_format (json_object, json_schema with its
// "schema"; strict or not, the reply always matches) and llama.cpp's "json_schema" and
// "grammar" fields, plus "regex". Compiled here (cached), so a bad one is a 400 naming it.
void parse_structured_output(const JsonFields& f, GenerationConfig& c) {
  if (const Json* rf = f.object("response_format")) {
    JsonFields r(*rf, "response_format.");
    const std::string type = r.string("type").value_or("text");
    if (type == "json_object") {
      set_constraint(c, "response_format", [](auto& so) { so.json_object = true; });
    } else if (type == "json_schema") {
      const Json* js = r.object("json_schema");
      if (!js)
        throw invalid_request("'response_format.json_schema' is required for type json_schema",
                              "response_format", "missing");
      JsonFields jf(*js, "response_format.json_schema.");
      jf.string("name");
      jf.boolean("strict");
      const Json* schema = jf.object("schema");
      const std::string text = schema ? schema->dump() : std::string("{}");
      set_constraint(c, "response_format", [&](auto& so) { so.json_schema = text; });
    } else if (type != "text") {
      throw invalid_request(
          "response_format type must be text, json_object or json_schema, got '" + type + "'",
          "response_format", "unsupported_value");
    }
  }
  if (f.has("json_schema")) {
    const Json& js = f.raw("json_schema");
    if (!js.is_object() && !js.is_boolean())
      throw invalid_request("'json_schema' must be a JSON Schema object", "json_schema",
                            "invalid_type");
    const std::string text = js.dump();
    set_constraint(c, "json_schema", [&](auto& so) { so.json_schema = text; });
  }
  if (auto g = f.string("grammar"); g && !g->empty())
    set_constraint(c, "grammar", [&](auto& so) { so.grammar = *g; });
  if (auto re = f.string("regex")) set_constraint(c, "regex", [&](auto& so) { so.regex = *re; });

  if (auto v = f.integer("thinking_budget", 0, INT32_MAX))
    c.thinking_budget = static_cast<std::size_t>(*v);
  if (auto v = f.number("thinking_budget_ms", 0.0, 86400000.0)) c.thinking_budget_ms = *v;
  if (auto v = f.boolean("reasoning_loop_guard")) c.reasoning_loop_guard = *v;
}

}  // namespace

void check_structured_output(const GenerationConfig& c, const std::string& field) {
  if (!c.structured_output || c.structured_output->empty()) return;
  try {
    engine::compile_structured_output(*c.structured_output, nullptr);
  } catch (const std::invalid_argument& e) {
    throw invalid_request(e.what(), field);
  } catch (const std::runtime_error& e) {
    throw invalid_request(e.what(), field);
  }
}

void check_model(const std::string& model, const std::string& served_id,
                 const std::vector<std::string>& aliases) {
  if (model.empty() || model == served_id) return;
  for (const auto& a : aliases) {
    if (model == a) return;
  }
  throw model_not_found("the model " + Json(model).dump() +
                        " does not exist here; this server serves " + Json(served_id).dump());
}

void parse_generation_fields(const JsonFields& f, std::size_t max_context, GenerationConfig& c,
                             bool& max_tokens_given) {
  const auto ctx = static_cast<std::int64_t>(max_context);
  // max_completion_tokens is the newer spelling; it wins when both are sent.
  for (const char* key : {"max_tokens", "max_completion_tokens", "n_predict"}) {
    if (auto v = f.integer(key, 1, INT32_MAX)) {
      if (*v > ctx) {
        throw invalid_request("'" + f.name(key) + "' is " + std::to_string(*v) +
                                  " but the context holds only " + std::to_string(ctx) + " tokens",
                              f.name(key));
      }
      if (!max_tokens_given || std::string(key) == "max_completion_tokens") {
        c.max_new_tokens = static_cast<std::size_t>(*v);
      }
      max_tokens_given = true;
    }
  }
  if (auto v = f.number("temperature", 0.0, 5.0)) c.temperature = static_cast<float>(*v);
  if (auto v = f.number("top_p", 0.0, 1.0)) {
    if (*v <= 0.0) throw invalid_request("'top_p' must be greater than 0", "top_p");
    c.top_p = static_cast<float>(*v);
  }
  if (auto v = f.integer("top_k", 0, 1 << 30)) c.top_k = static_cast<int>(*v);
  if (auto v = f.number("min_p", 0.0, 1.0)) c.min_p = static_cast<float>(*v);
  if (auto v = f.number("presence_penalty", -2.0, 2.0)) c.presence_penalty = static_cast<float>(*v);
  if (auto v = f.number("frequency_penalty", -2.0, 2.0)) {
    c.frequency_penalty = static_cast<float>(*v);
  }
  if (auto v = f.number("repetition_penalty", 0.0, 10.0)) {
    if (*v <= 0.0) {
      throw invalid_request("'repetition_penalty' must be greater than 0", "repetition_penalty");
    }
    c.repetition_penalty = static_cast<float>(*v);
  }
  if (auto v = f.integer("repeat_last_n", -1, 1 << 30)) c.penalty_last_n = static_cast<int>(*v);
  if (auto v = f.integer("seed", INT64_MIN, INT64_MAX)) c.seed = static_cast<std::uint64_t>(*v);
  if (auto v = f.strings("stop", 16)) {
    for (const auto& s : *v) {
      if (s.empty()) throw invalid_request("'stop' strings must not be empty", "stop");
    }
    c.stop = *v;
  }
  if (auto v = f.boolean("ignore_eos")) c.ignore_eos = *v;
  parse_logit_bias(f, c);

  parse_choices(f);  // validated here, read by the request parsers
  if (auto lp = f.boolean("logprobs"); lp && *lp) {
    throw invalid_request("logprobs are not supported", "logprobs", "unsupported_value");
  }
  parse_structured_output(f, c);
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw invalid_request(e.what());
  }
}

int parse_choices(const JsonFields& f) {
  return static_cast<int>(f.integer("n", 1, kMaxChoices).value_or(1));
}

}  // namespace qwen3::server
