#include "device/config_validator.h"

#include "device/edit_distance.h"
#include "device/property_schema.h"
#include "device/validator_rules.h"

namespace qwen3::device {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string range_text(const KeySpec& k) {
  return "[" + std::to_string(k.min) + ", " + std::to_string(k.max) + "]";
}

// Type, allowed values and range of one known key.
void check_value(const KeySpec& k, const nlohmann::json& v, std::vector<Finding>& out) {
  auto bad = [&](std::string msg, std::string fix) {
    out.push_back({Severity::Error, k.key, std::move(msg), std::move(fix)});
  };
  switch (k.kind) {
    case ValueKind::Int: {
      if (k.integer_only && v.is_string() && read_int(v, false)) {
        bad("must be a JSON integer: GenAI reads " + k.key +
                " as int and throws \"Type mismatch\" on the string " + v.dump(),
            "write " + k.key + ": " + v.get<std::string>() + " without quotes");
        return;
      }
      const auto n = read_int(v, k.integer_only);
      if (!n) {
        bad("expects an integer, got " + v.dump(), "use an integer in " + range_text(k));
        return;
      }
      if (*n < k.min || *n > k.max)
        bad(std::to_string(*n) + " is out of range " + range_text(k),
            "use a value in " + range_text(k));
      return;
    }
    case ValueKind::Bool:
      if (!read_bool(v)) bad("expects YES or NO, got " + v.dump(), "use \"YES\" or \"NO\"");
      return;
    case ValueKind::String:
      if (!v.is_string() || v.get<std::string>().empty())
        bad("expects a non-empty string, got " + v.dump(), "give a path or name as a string");
      return;
    case ValueKind::Enum: {
      const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      for (const auto& allowed : k.values)
        if (v.is_string() && s == allowed) return;
      std::string fix = "use one of: " + join(k.values);
      if (auto m = closest_match(s, k.values)) fix = "did you mean " + *m + "? (" + fix + ")";
      bad(v.dump() + " is not a valid value", fix);
      return;
    }
    case ValueKind::Object:
      if (!v.is_object())
        bad("expects an object of properties, got " + v.dump(), "give {\"KEY\": value, ...}");
      return;
  }
}

void check_unknown_key(const std::string& key, Device device, std::vector<Finding>& out) {
  if (key == "NPU_LOW_MEMORY_MODE") {
    out.push_back({Severity::Error, key,
                   "no such property exists in OpenVINO or its NPU plugin (advice that "
                   "circulates for it is wrong); the plugin rejects the unknown key",
                   "remove it; to use less memory lower MAX_PROMPT_LEN / MIN_RESPONSE_LEN, "
                   "lower NPUW_LLM_PREFILL_CHUNK_SIZE or set CACHE_MODE=OPTIMIZE_SIZE"});
    return;
  }
  if (rules::check_foreign_key(key, device, out)) return;
  std::string fix = "remove it";
  if (auto m = closest_match(key, known_key_names(device))) fix = "did you mean " + *m + "?";
  out.push_back({Severity::Error, key,
                 "unknown property for " + std::string(to_string(device)) +
                     " (the device rejects keys it does not know)",
                 fix});
}

}  // namespace

std::vector<Finding> validate_config(const nlohmann::json& props, const ValidateOptions& o) {
  std::vector<Finding> out;
  if (!props.is_object()) {
    out.push_back({Severity::Error, "",
                   "a property map must be a JSON object, got " + std::string(props.type_name()),
                   "write {\"KEY\": value, ...}"});
    return out;
  }
  for (const auto& [key, value] : props.items()) {
    if (!(value.is_string() || value.is_number() || value.is_boolean() || value.is_object())) {
      out.push_back(
          {Severity::Error, key,
           "values must be strings, numbers or booleans, got " + std::string(value.type_name()),
           "give a single value"});
      continue;
    }
    if (const KeySpec* k = find_key(o.device, key))
      check_value(*k, value, out);
    else
      check_unknown_key(key, o.device, out);
  }
  if (o.device == Device::NPU) {
    rules::npu_rules(props, o, out);
    if (o.model) rules::npu_model_rules(*o.model, out);
  } else if (o.device == Device::CPU) {
    rules::cpu_rules(props, o, out);
  }
  return out;
}

}  // namespace qwen3::device
