// One problem the validator found in a property map: how bad it is, which key, what is
// wrong and what to do about it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace qwen3::device {

enum class Severity { Error, Warning, Note };

std::string_view to_string(Severity s);

struct Finding {
  Severity severity = Severity::Error;
  std::string key;      // the property concerned ("" for the map as a whole)
  std::string message;  // what is wrong, with the facts that make it wrong
  std::string fix;      // the concrete change that resolves it
};

bool has_errors(const std::vector<Finding>& findings);
size_t count(const std::vector<Finding>& findings, Severity s);

// {"severity": "error", "key": ..., "message": ..., "fix": ...}
nlohmann::json to_json(const Finding& f);
nlohmann::json to_json(const std::vector<Finding>& findings);

// "error: KEY: message\n  fix: ...\n" per finding, then a one-line summary.
std::string format_findings(const std::vector<Finding>& findings);

}  // namespace qwen3::device
