// Rules shared by the devices: typed reads of checked values, keys that belong to
// another device, and the KV capacity against the model's context and memory budget.
#include <string>

#include "device/property_schema.h"
#include "device/validator_rules.h"

namespace qwen3::device::rules {

std::optional<int64_t> int_value(const nlohmann::json& props, const std::string& key) {
  auto it = props.find(key);
  if (it == props.end()) return std::nullopt;
  return read_int(*it, false);
}

std::optional<bool> bool_value(const nlohmann::json& props, const std::string& key) {
  auto it = props.find(key);
  if (it == props.end()) return std::nullopt;
  return read_bool(*it);
}

std::optional<std::string> string_value(const nlohmann::json& props, const std::string& key) {
  auto it = props.find(key);
  if (it == props.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool check_foreign_key(const std::string& key, Device device, std::vector<Finding>& out) {
  const bool npu = find_key(Device::NPU, key), gpu = find_key(Device::GPU, key),
             cpu = find_key(Device::CPU, key);
  const std::string fix = "remove it from the " + std::string(to_string(device)) + " map";
  auto error = [&](std::string msg, std::string target) {
    out.push_back({Severity::Error, key, std::move(msg), fix + ", or target --device " + target});
  };
  switch (device) {
    case Device::NPU:
      if (gpu) {
        out.push_back({Severity::Warning, key,
                       "an OpenVINO GPU property, not an option of the NPU LLM pipeline; NPUW "
                       "ignores it or the plugin rejects it",
                       fix});
        return true;
      }
      if (cpu) {
        error("a property of qwen3's native CPU engine; OpenVINO's NPU plugin rejects it", "CPU");
        return true;
      }
      return false;
    case Device::GPU:
      if (npu) {
        error("an NPU property (GenAI's NPU pipeline / NPUW); the GPU plugin rejects it", "NPU");
        return true;
      }
      if (cpu) {
        error("a property of qwen3's native CPU engine; OpenVINO's GPU plugin rejects it", "CPU");
        return true;
      }
      return false;
    case Device::CPU:
      if (npu && gpu) {
        error("an OpenVINO property; the native CPU engine does not accept it", "NPU or GPU");
        return true;
      }
      if (npu) {
        error("an NPU property (GenAI's NPU pipeline / NPUW); the native CPU engine rejects it",
              "NPU");
        return true;
      }
      if (gpu) {
        error("an OpenVINO GPU property; the native CPU engine does not accept it", "GPU");
        return true;
      }
      return false;
  }
  return false;
}

void capacity_rules(const std::string& key, int64_t tokens, int bytes_per_element,
                    const ValidateOptions& o, std::vector<Finding>& out) {
  if (!o.model) return;
  const ModelFacts& m = *o.model;
  if (m.n_ctx_train > 0 && tokens > m.n_ctx_train) {
    out.push_back({Severity::Error, key,
                   "a KV capacity of " + std::to_string(tokens) + " tokens exceeds " + m.name +
                       "'s context of " + std::to_string(m.n_ctx_train) + " positions",
                   "bring it to " + std::to_string(m.n_ctx_train) + " tokens or fewer"});
  }
  const uint64_t per_token = m.kv_bytes_per_token(bytes_per_element);
  if (!o.kv_budget_bytes || per_token == 0) return;
  const uint64_t need = static_cast<uint64_t>(tokens) * per_token;
  if (need > *o.kv_budget_bytes) {
    const uint64_t fit = *o.kv_budget_bytes / per_token;
    out.push_back({Severity::Warning, key,
                   "the KV cache needs " + std::to_string(need / (1024 * 1024)) + " MiB (" +
                       std::to_string(tokens) + " tokens x " + std::to_string(per_token) +
                       " bytes = 2 x " + std::to_string(m.n_layers) + " layers x " +
                       std::to_string(m.n_kv_heads) + " KV heads x " + std::to_string(m.head_dim) +
                       " x " + std::to_string(bytes_per_element) + " bytes), over the " +
                       std::to_string(*o.kv_budget_bytes / (1024 * 1024)) + " MiB budget of " +
                       (o.budget_source.empty() ? std::string("the profile") : o.budget_source),
                   "keep the KV capacity at or below " + std::to_string(fit) +
                       " tokens, or choose a larger profile"});
  }
}

}  // namespace qwen3::device::rules
