// Internal to the validator: the device- and model-specific rule sets it runs after the
// per-key schema checks. Each appends to `out`; values have already been type-checked,
// so rules read them with the schema readers and skip keys whose value was invalid.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "device/config_validator.h"

namespace qwen3::device::rules {

// The value of `key` as an integer if present and valid, else nullopt.
std::optional<int64_t> int_value(const nlohmann::json& props, const std::string& key);
std::optional<bool> bool_value(const nlohmann::json& props, const std::string& key);
std::optional<std::string> string_value(const nlohmann::json& props, const std::string& key);

// Checks a key's presence on a device that does not accept it; true if it handled it.
bool check_foreign_key(const std::string& key, Device device, std::vector<Finding>& out);

void npu_rules(const nlohmann::json& props, const ValidateOptions& o, std::vector<Finding>& out);
void cpu_rules(const nlohmann::json& props, const ValidateOptions& o, std::vector<Finding>& out);
void npu_model_rules(const ModelFacts& m, std::vector<Finding>& out);

// KV capacity `tokens` against the model's context and the memory budget.
void capacity_rules(const std::string& key, int64_t tokens, int bytes_per_element,
                    const ValidateOptions& o, std::vector<Finding>& out);

}  // namespace qwen3::device::rules
