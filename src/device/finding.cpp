#include "device/finding.h"

#include <algorithm>

#include "common/enum_names.h"
namespace qwen3::device {

constexpr NamedValue<Severity> kSeverityNames[] = {
    {Severity::Error, "error"}, {Severity::Warning, "warning"}, {Severity::Note, "note"}};

std::string_view to_string(Severity s) {
  return name_of(kSeverityNames, s, "?");
}

size_t count(const std::vector<Finding>& findings, Severity s) {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(),
                                           [s](const Finding& f) { return f.severity == s; }));
}

bool has_errors(const std::vector<Finding>& findings) {
  return count(findings, Severity::Error) > 0;
}

nlohmann::json to_json(const Finding& f) {
  return {{"severity", std::string(to_string(f.severity))},
          {"key", f.key},
          {"message", f.message},
          {"fix", f.fix}};
}

nlohmann::json to_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) out.push_back(to_json(f));
  return out;
}

std::string format_findings(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    out += std::string(to_string(f.severity)) + ": ";
    if (!f.key.empty()) out += f.key + ": ";
    out += f.message + "\n";
    if (!f.fix.empty()) out += "  fix: " + f.fix + "\n";
  }
  out += std::to_string(count(findings, Severity::Error)) + " error(s), " +
         std::to_string(count(findings, Severity::Warning)) + " warning(s), " +
         std::to_string(count(findings, Severity::Note)) + " note(s)\n";
  return out;
}

}  // namespace qwen3::device
