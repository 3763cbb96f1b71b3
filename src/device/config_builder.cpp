#include "device/config_builder.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "device/config_validator.h"
#include "device/profiles.h"
#include "device/property_schema.h"

namespace qwen3::device {
namespace {

constexpr int64_t kRound = 256;  // sizes stay multiples of 256 tokens

int64_t round_down(int64_t v) {
  return v >= kRound ? v / kRound * kRound : v;
}

// Largest KV capacity the model and the budget allow; nullopt if unconstrained.
std::optional<int64_t> capacity_limit(const ModelFacts& m, const Profile& p, int bpe) {
  std::optional<int64_t> limit;
  if (m.n_ctx_train > 0) limit = m.n_ctx_train;
  const uint64_t per_token = m.kv_bytes_per_token(bpe);
  if (p.kv_budget_bytes > 0 && per_token > 0) {
    const auto fit = static_cast<int64_t>(p.kv_budget_bytes / per_token);
    limit = limit ? std::min(*limit, fit) : fit;
  }
  return limit;
}

void fit_npu(nlohmann::json& props, const ModelFacts& m, const Profile& p,
             std::vector<Finding>& notes) {
  const auto limit = capacity_limit(m, p, 2);
  int64_t prompt = props["MAX_PROMPT_LEN"].get<int64_t>();
  int64_t response = props["MIN_RESPONSE_LEN"].get<int64_t>();
  if (!limit || prompt + response <= *limit) return;
  // Keep the answer's share of the profile, give the prompt what remains.
  const int64_t total = std::max<int64_t>(2, *limit);
  response = std::max<int64_t>(1, std::min(response, total / 4));
  prompt = std::max<int64_t>(1, round_down(total - response));
  if (prompt + response > total) prompt = total - response;
  notes.push_back({Severity::Note, "MAX_PROMPT_LEN",
                   "scaled to MAX_PROMPT_LEN=" + std::to_string(prompt) +
                       ", MIN_RESPONSE_LEN=" + std::to_string(response) + " so the KV cache of " +
                       m.name + " fits " + std::to_string(*limit) +
                       " tokens (its context and the profile's memory budget)",
                   ""});
  props["MAX_PROMPT_LEN"] = prompt;
  props["MIN_RESPONSE_LEN"] = response;
  if (props.contains("NPUW_LLM_PREFILL_CHUNK_SIZE")) {
    const int64_t chunk = props["NPUW_LLM_PREFILL_CHUNK_SIZE"].get<int64_t>();
    if (chunk >= prompt) props["NPUW_LLM_PREFILL_CHUNK_SIZE"] = std::max<int64_t>(1, prompt / 2);
  }
}

void fit_cpu(nlohmann::json& props, const ModelFacts& m, const Profile& p,
             std::vector<Finding>& notes) {
  const auto limit = capacity_limit(m, p, kv_bytes_per_element(Device::CPU, props));
  const int64_t ctx = props["CONTEXT_LENGTH"].get<int64_t>();
  if (!limit || ctx <= *limit) return;
  const int64_t fitted = std::max<int64_t>(16, round_down(*limit));
  notes.push_back({Severity::Note, "CONTEXT_LENGTH",
                   "scaled from " + std::to_string(ctx) + " to " + std::to_string(fitted) +
                       " tokens so the KV cache of " + m.name +
                       " fits its context and the profile's memory budget",
                   ""});
  props["CONTEXT_LENGTH"] = fitted;
  if (props["PROMPT_BATCH_SIZE"].get<int64_t>() > fitted) props["PROMPT_BATCH_SIZE"] = fitted;
}

bool all_digits(const std::string& s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size() || s.size() > 18) return false;
  return std::all_of(s.begin() + static_cast<long>(i), s.end(),
                     [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::pair<std::string, std::string> parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument("--set expects KEY=VALUE, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

nlohmann::json override_value(Device device, const std::string& key, const std::string& value) {
  const KeySpec* k = find_key(device, key);
  if (k && k->kind == ValueKind::Object) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    return j.is_discarded() ? nlohmann::json(value) : j;
  }
  if ((!k || k->kind == ValueKind::Int) && all_digits(value)) return std::stoll(value);
  return value;
}

BuildResult build_config(const BuildRequest& req) {
  const int hw = req.hardware_threads > 0
                     ? req.hardware_threads
                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const Profile profile = make_profile(req.device, req.level, hw);
  BuildResult r;
  for (const auto& s : profile.settings) r.properties[s.key] = s.value;
  if (req.model) {
    if (req.device == Device::NPU) fit_npu(r.properties, *req.model, profile, r.findings);
    if (req.device == Device::CPU) fit_cpu(r.properties, *req.model, profile, r.findings);
  }
  for (const auto& [key, value] : req.overrides)
    r.properties[key] = override_value(req.device, key, value);

  ValidateOptions vo;
  vo.device = req.device;
  vo.model = req.model;
  if (profile.kv_budget_bytes > 0) vo.kv_budget_bytes = profile.kv_budget_bytes;
  vo.budget_source = "the " + std::string(to_string(req.level)) + " " +
                     std::string(to_string(req.device)) + " profile";
  vo.hardware_threads = hw;
  auto findings = validate_config(r.properties, vo);
  r.findings.insert(r.findings.end(), findings.begin(), findings.end());
  return r;
}

}  // namespace qwen3::device
