#include "qwen3/generation_config.h"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace qwen3 {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("invalid generation config: " + what);
}

bool finite(float v) {
  return std::isfinite(v);
}

}  // namespace

void GenerationConfig::validate() const {
  check(max_new_tokens > 0, "max_new_tokens must be at least 1");
  if (temperature) check(finite(*temperature) && *temperature >= 0.0f, "temperature must be >= 0");
  if (top_k) check(*top_k >= 0, "top_k must be >= 0 (0 = off)");
  if (top_p) check(finite(*top_p) && *top_p > 0.0f && *top_p <= 1.0f, "top_p must be in (0, 1]");
  if (min_p) check(finite(*min_p) && *min_p >= 0.0f && *min_p <= 1.0f, "min_p must be in [0, 1]");
  check(finite(repetition_penalty) && repetition_penalty > 0.0f,
        "repetition_penalty must be > 0 (1 = off)");
  check(finite(presence_penalty) && std::fabs(presence_penalty) <= 2.0f,
        "presence_penalty must be in [-2, 2]");
  check(finite(frequency_penalty) && std::fabs(frequency_penalty) <= 2.0f,
        "frequency_penalty must be in [-2, 2]");
  check(penalty_last_n >= -1, "penalty_last_n must be >= -1 (-1 = whole context)");
  for (const auto& s : stop) check(!s.empty(), "stop strings must not be empty");
  if (structured_output) {
    const auto& so = *structured_output;
    const int kinds = (so.json_schema ? 1 : 0) + (so.regex ? 1 : 0) + (so.grammar ? 1 : 0) +
                      (so.json_object ? 1 : 0) +
                      (so.tool_mode != StructuredOutputConfig::ToolMode::kNone ? 1 : 0);
    check(kinds <= 1,
          "structured_output takes one of json_schema, regex, grammar, json_object or tools");
    if (so.tool_mode != StructuredOutputConfig::ToolMode::kNone)
      check(!so.tools_json.empty(), "structured_output: a tool constraint needs tools_json");
  }
  if (thinking_budget_ms)
    check(std::isfinite(*thinking_budget_ms) && *thinking_budget_ms >= 0,
          "thinking_budget_ms must be >= 0");
  for (const auto& [id, bias] : logit_bias) {
    check(id >= 0, "logit_bias token ids must be >= 0, got " + std::to_string(id));
    check(finite(bias) && std::fabs(bias) <= 100.0f,
          "logit_bias values must be in [-100, 100], got " + std::to_string(bias) + " for token " +
              std::to_string(id));
  }
}

GenerationConfig GenerationConfig::qwen3_defaults(bool thinking) {
  GenerationConfig c;
  c.temperature = thinking ? 0.6f : 0.7f;
  c.top_p = thinking ? 0.95f : 0.8f;
  c.top_k = 20;
  c.min_p = 0.0f;
  c.enable_thinking = thinking;
  return c;
}

GenerationConfig GenerationConfig::resolved(bool thinking) const {
  const GenerationConfig d = qwen3_defaults(thinking);
  GenerationConfig r = *this;
  if (!r.temperature) r.temperature = d.temperature;
  if (!r.top_p) r.top_p = d.top_p;
  if (!r.top_k) r.top_k = d.top_k;
  if (!r.min_p) r.min_p = d.min_p;
  r.enable_thinking = thinking;
  return r;
}

GenerationConfig GenerationConfig::resolved(bool thinking,
                                            const ModelSamplingDefaults& model) const {
  GenerationConfig r = *this;
  if (thinking) {
    if (!r.temperature) r.temperature = model.temperature;
    if (!r.top_p) r.top_p = model.top_p;
    if (!r.top_k) r.top_k = model.top_k;
    if (!r.min_p) r.min_p = model.min_p;
  }
  if (r.repetition_penalty == 1.0f && model.repetition_penalty)
    r.repetition_penalty = *model.repetition_penalty;
  if (r.presence_penalty == 0.0f && model.presence_penalty)
    r.presence_penalty = *model.presence_penalty;
  return r.resolved(thinking);
}

SamplingValues GenerationConfig::sampling_values() const {
  SamplingValues v;
  v.temperature = temperature.value_or(0.0f);
  v.top_k = top_k.value_or(0);
  v.top_p = top_p.value_or(1.0f);
  v.min_p = min_p.value_or(0.0f);
  v.repetition_penalty = repetition_penalty;
  v.presence_penalty = presence_penalty;
  v.frequency_penalty = frequency_penalty;
  v.penalty_last_n = penalty_last_n;
  if (seed) {
    v.seed = *seed;
  } else {
    std::random_device rd;
    v.seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  return v;
}

}  // namespace qwen3
