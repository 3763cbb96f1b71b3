// Typed, validated access to the fields of a JSON request object. A field that is absent
// or null is "not given"; a field of the wrong type or out of range is a 400 naming it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qwen3::server {

// Key order is kept: tools and tool-call arguments reach the prompt as written.
using Json = nlohmann::ordered_json;

class JsonFields {
 public:
  // `where` prefixes field names in messages, e.g. "messages[2]." ("" at the top level).
  JsonFields(const Json& obj, std::string where);

  bool has(const char* key) const;         // present and not null
  const Json& raw(const char* key) const;  // requires has(key)

  std::optional<double> number(const char* key, double lo, double hi) const;
  std::optional<std::int64_t> integer(const char* key, std::int64_t lo, std::int64_t hi) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<std::string> string(const char* key) const;
  // A string or an array of strings (e.g. "stop"); at most `max_items`.
  std::optional<std::vector<std::string>> strings(const char* key, std::size_t max_items) const;
  const Json* object(const char* key) const;  // nullptr if not given
  const Json* array(const char* key) const;

  std::string name(const char* key) const { return where_ + key; }

 private:
  [[noreturn]] void type_error(const char* key, const char* expected) const;

  const Json& obj_;
  std::string where_;
};

// Parses a request body; a malformed body or a non-object is a 400.
Json parse_json_object(const std::string& body);

}  // namespace qwen3::server
