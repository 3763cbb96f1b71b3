#include "server/json_fields.h"

#include <cmath>

#include "server/api_error.h"
#include "server/request_limits.h"
#include "text/json_limits.h"

namespace qwen3::server {

namespace {
std::string fmt(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}
}  // namespace

JsonFields::JsonFields(const Json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

bool JsonFields::has(const char* key) const {
  auto it = obj_.find(key);
  return it != obj_.end() && !it->is_null();
}

const Json& JsonFields::raw(const char* key) const {
  return obj_.at(key);
}

void JsonFields::type_error(const char* key, const char* expected) const {
  throw invalid_request(
      "'" + name(key) + "' must be " + expected + ", got " + std::string(obj_.at(key).type_name()),
      name(key), "invalid_type");
}

std::optional<double> JsonFields::number(const char* key, double lo, double hi) const {
  if (!has(key)) return std::nullopt;
  const auto& v = obj_.at(key);
  if (!v.is_number()) type_error(key, "a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    throw invalid_request(
        "'" + name(key) + "' must be between " + fmt(lo) + " and " + fmt(hi) + ", got " + v.dump(),
        name(key));
  }
  return d;
}

std::optional<std::int64_t> JsonFields::integer(const char* key, std::int64_t lo,
                                                std::int64_t hi) const {
  if (!has(key)) return std::nullopt;
  const auto& v = obj_.at(key);
  bool integral_float = v.is_number_float() && std::isfinite(v.get<double>()) &&
                        std::floor(v.get<double>()) == v.get<double>() &&
                        std::fabs(v.get<double>()) < 9.0e18;
  if (!v.is_number_integer() && !integral_float) type_error(key, "an integer");
  std::int64_t i;
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    i = u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    i = v.get<std::int64_t>();
  } else {
    i = static_cast<std::int64_t>(v.get<double>());
  }
  if (i < lo || i > hi) {
    throw invalid_request("'" + name(key) + "' must be between " + std::to_string(lo) + " and " +
                              std::to_string(hi) + ", got " + v.dump(),
                          name(key));
  }
  return i;
}

std::optional<bool> JsonFields::boolean(const char* key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = obj_.at(key);
  if (!v.is_boolean()) type_error(key, "a boolean");
  return v.get<bool>();
}

std::optional<std::string> JsonFields::string(const char* key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = obj_.at(key);
  if (!v.is_string()) type_error(key, "a string");
  return v.get<std::string>();
}

std::optional<std::vector<std::string>> JsonFields::strings(const char* key,
                                                            std::size_t max_items) const {
  if (!has(key)) return std::nullopt;
  const auto& v = obj_.at(key);
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& s : v) {
      if (!s.is_string()) type_error(key, "a string or an array of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    type_error(key, "a string or an array of strings");
  }
  if (out.size() > max_items) {
    throw invalid_request(
        "'" + name(key) + "' may hold at most " + std::to_string(max_items) + " items", name(key));
  }
  return out;
}

const Json* JsonFields::object(const char* key) const {
  if (!has(key)) return nullptr;
  const auto& v = obj_.at(key);
  if (!v.is_object()) type_error(key, "an object");
  return &v;
}

const Json* JsonFields::array(const char* key) const {
  if (!has(key)) return nullptr;
  const auto& v = obj_.at(key);
  if (!v.is_array()) type_error(key, "an array");
  return &v;
}

Json parse_json_object(const std::string& body) {
  Json j;
  try {
    j = text::parse_json(body, limits::kJson);
  } catch (const text::JsonError& e) {
    switch (e.kind()) {
      case text::JsonError::Kind::kSyntax:
        throw invalid_request(std::string("request body is ") + e.what(), {}, "invalid_json");
      case text::JsonError::Kind::kNumberOverflow:
        throw invalid_request(std::string("request body: ") + e.what(), {}, "invalid_value");
      case text::JsonError::Kind::kLimit:
        throw invalid_request(std::string("request body: ") + e.what(), {}, "limit_exceeded");
    }
  }
  if (!j.is_object()) {
    throw invalid_request("request body must be a JSON object, got " + std::string(j.type_name()),
                          {}, "invalid_type");
  }
  return j;
}

}  // namespace qwen3::server
