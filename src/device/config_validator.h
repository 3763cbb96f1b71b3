// Validates any property map (a JSON object of string / number / bool values) for a
// device: unknown keys with a "did you mean", types, allowed values, ranges, cross-field
// rules, keys GenAI sets itself, legacy keys, and model-aware rules when the model is
// known. Never throws on bad maps: every problem is a Finding.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device/device_types.h"
#include "device/finding.h"
#include "device/model_facts.h"

namespace qwen3::device {

struct ValidateOptions {
  Device device = Device::NPU;
  std::optional<ModelFacts> model;
  // KV-cache memory budget (usually a profile's); nullopt skips the memory rule.
  std::optional<uint64_t> kv_budget_bytes;
  std::string budget_source;  // e.g. "the balanced NPU profile", used in messages
  int hardware_threads = 0;   // logical CPUs of the host; 0 skips the oversubscription rule
};

std::vector<Finding> validate_config(const nlohmann::json& properties,
                                     const ValidateOptions& options);

}  // namespace qwen3::device
