// Builds a device's property map from a profile, the model (when known) and user
// overrides, then validates the result. Profile values that would not fit the model's
// context or the profile's KV memory budget are scaled down (with a note); overrides are
// taken as given and left to the validator.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "device/device_types.h"
#include "device/finding.h"
#include "device/model_facts.h"

namespace qwen3::device {

struct BuildRequest {
  Device device = Device::NPU;
  ProfileLevel level = ProfileLevel::Balanced;
  std::optional<ModelFacts> model;
  std::vector<std::pair<std::string, std::string>> overrides;  // KEY, VALUE as typed
  int hardware_threads = 0;                                    // 0: detect the host's logical CPUs
};

struct BuildResult {
  nlohmann::json properties = nlohmann::json::object();
  std::vector<Finding> findings;  // the builder's notes, then the validator's findings
};

BuildResult build_config(const BuildRequest& request);

// "KEY=VALUE" -> {KEY, VALUE}; throws std::invalid_argument on a missing '=' or key.
std::pair<std::string, std::string> parse_override(const std::string& text);

// The JSON value of an override: integers for integer keys (and numeric text on unknown
// keys), JSON objects for object keys, strings otherwise.
nlohmann::json override_value(Device device, const std::string& key, const std::string& value);

}  // namespace qwen3::device
