#include "server/responses.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace qwen3::server {
namespace {

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(digits[rng() & 15]);
  return s;
}

OJson message_tool_calls(const std::vector<ToolCall>& calls) {
  OJson out = OJson::array();
  for (const auto& c : calls) {
    out.push_back({{"id", c.id},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  return out;
}

}  // namespace

std::string new_response_id(const std::string& prefix) {
  static std::atomic<unsigned long> counter{0};
  return prefix + "-" + random_hex(16) + std::to_string(counter++);
}

std::string new_tool_call_id() {
  return "call_" + random_hex(24);
}

std::int64_t unix_time_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* finish_reason_name(FinishReason r) {
  // OpenAI has no "cancelled": a generation the client stopped ended as "stop".
  return r == FinishReason::kCancelled ? "stop" : qwen3::to_string(r);
}

OJson usage_json(const DecodedResult& r) {
  const auto completion = r.tokens.size();
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", r.prompt_tokens + completion},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

OJson timings_json(const DecodedResult& r) {
  const auto& m = r.perf_metrics;
  const double prompt_n = static_cast<double>(r.prompt_tokens - r.cached_tokens);
  const double prompt_ms = m.ttft_ms.mean;
  const double predicted_n = static_cast<double>(r.tokens.size());
  const double predicted_ms = std::max(0.0, m.generate_ms.mean - m.ttft_ms.mean);
  auto per = [](double ms, double n) { return n > 0 ? ms / n : 0.0; };
  auto rate = [](double ms, double n) { return ms > 0 ? 1000.0 * n / ms : 0.0; };
  // The first token comes out of prefill, so decode speed is over the tokens after it.
  const double decoded = predicted_n > 1 ? predicted_n - 1 : 0;
  OJson t = {{"cache_n", r.cached_tokens},
             {"prompt_n", r.prompt_tokens - r.cached_tokens},
             {"prompt_ms", prompt_ms},
             {"prompt_per_token_ms", per(prompt_ms, prompt_n)},
             {"prompt_per_second", rate(prompt_ms, prompt_n)},
             {"predicted_n", r.tokens.size()},
             {"predicted_ms", predicted_ms},
             {"predicted_per_token_ms", per(predicted_ms, decoded)},
             {"predicted_per_second", rate(predicted_ms, decoded)}};
  // Oldest turns the prompt left out to fit the context (the web page says so).
  if (r.dropped_turns > 0) t["dropped_turns"] = r.dropped_turns;
  return t;
}

// DecodedResult::note (e.g. a thinking switch the model's template lacks, ignored) as a
// top-level "warnings" array of the response / the final chunk; absent when there is none.
static void add_warnings(OJson& j, const DecodedResult& r) {
  if (!r.note.empty()) j["warnings"] = OJson::array({r.note});
}

// The envelope of a non-streamed completion around its one choice.
static OJson completion_json(const ResponseIds& ids, const char* object, OJson choice,
                             const DecodedResult& r) {
  return {{"id", ids.id},
          {"object", object},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", OJson::array({std::move(choice)})},
          {"usage", usage_json(r)},
          {"timings", timings_json(r)}};
}

OJson chat_completion_json(const ResponseIds& ids, const DecodedResult& r) {
  OJson msg = {{"role", "assistant"}};
  // OpenAI sends null content on a reply that only calls tools.
  msg["content"] = r.text.empty() && !r.tool_calls.empty() ? OJson(nullptr) : OJson(r.text);
  if (!r.reasoning.empty()) {
    msg["reasoning_content"] = r.reasoning;
    msg["reasoning"] = r.reasoning;
  }
  if (!r.tool_calls.empty()) msg["tool_calls"] = message_tool_calls(r.tool_calls);
  OJson choice = {{"index", 0},
                  {"message", msg},
                  {"logprobs", nullptr},
                  {"finish_reason", finish_reason_name(r.finish_reason)}};
  // Why the runtime closed the reasoning itself ("budget", "time", "loop"), when it did.
  if (!r.reasoning_closed.empty()) choice["reasoning_closed"] = r.reasoning_closed;
  OJson j = completion_json(ids, "chat.completion", std::move(choice), r);
  add_warnings(j, r);
  return j;
}

OJson text_completion_json(const ResponseIds& ids, const std::string& text,
                           const DecodedResult& r) {
  OJson choice = {{"index", 0},
                  {"text", text},
                  {"logprobs", nullptr},
                  {"finish_reason", finish_reason_name(r.finish_reason)}};
  return completion_json(ids, "text_completion", std::move(choice), r);
}

OJson chat_chunk(const ResponseIds& ids, OJson delta, const OJson& finish_reason) {
  OJson choice = {{"index", 0},
                  {"delta", std::move(delta)},
                  {"logprobs", nullptr},
                  {"finish_reason", finish_reason}};
  return {{"id", ids.id},
          {"object", "chat.completion.chunk"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", OJson::array({choice})}};
}

OJson role_delta() {
  return {{"role", "assistant"}, {"content", ""}};
}

OJson content_delta(const std::string& text) {
  return {{"content", text}};
}

OJson reasoning_delta(const std::string& text) {
  return {{"reasoning_content", text}, {"reasoning", text}};
}

OJson tool_call_header_delta(int index, const ToolCall& call) {
  OJson tc = {{"index", index},
              {"id", call.id},
              {"type", "function"},
              {"function", {{"name", call.name}, {"arguments", ""}}}};
  return {{"tool_calls", OJson::array({tc})}};
}

OJson tool_call_arguments_delta(int index, const std::string& arguments) {
  OJson tc = {{"index", index}, {"function", {{"arguments", arguments}}}};
  return {{"tool_calls", OJson::array({tc})}};
}

OJson chat_final_chunk(const ResponseIds& ids, const DecodedResult& r) {
  OJson c = chat_chunk(ids, OJson::object(), finish_reason_name(r.finish_reason));
  if (!r.reasoning_closed.empty()) c["choices"][0]["reasoning_closed"] = r.reasoning_closed;
  c["timings"] = timings_json(r);
  add_warnings(c, r);
  return c;
}

OJson usage_chunk(const ResponseIds& ids, const std::string& object, const DecodedResult& r) {
  return {{"id", ids.id},       {"object", object},          {"created", ids.created},
          {"model", ids.model}, {"choices", OJson::array()}, {"usage", usage_json(r)}};
}

OJson text_chunk(const ResponseIds& ids, const std::string& text, const OJson& finish_reason) {
  OJson choice = {
      {"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  return {{"id", ids.id},
          {"object", "text_completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", OJson::array({choice})}};
}

}  // namespace qwen3::server
