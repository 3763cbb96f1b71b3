// The properties each device accepts: type, allowed values or range, and what the key
// does. The validator checks every map against this table; the builder only emits keys
// from it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "device/device_types.h"

namespace qwen3::device {

enum class ValueKind { Int, Bool, String, Enum, Object };

struct KeySpec {
  std::string key;
  ValueKind kind = ValueKind::String;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int32_t>::max();
  std::vector<std::string> values;  // ValueKind::Enum
  // GenAI pops these keys itself and accepts only an integer (a string such as "2048"
  // makes it throw "Type mismatch"); plugin keys also parse numeric strings.
  bool integer_only = false;
  std::string help;
};

// Every key `device` accepts, in a stable order.
const std::vector<KeySpec>& known_keys(Device device);
const KeySpec* find_key(Device device, std::string_view key);
std::vector<std::string> known_key_names(Device device);

// Typed readers over a property value, following OpenVINO's conversions: integers may
// be numeric strings unless integer_only; booleans are true/false or YES/NO/TRUE/FALSE.
std::optional<int64_t> read_int(const nlohmann::json& v, bool integer_only);
std::optional<bool> read_bool(const nlohmann::json& v);
// The value as OpenVINO would print it ("YES", "2048", "BEST_PERF").
std::string value_text(const nlohmann::json& v);

}  // namespace qwen3::device
