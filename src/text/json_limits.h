// Parsing JSON that comes from clients, files or the model with limits on its shape:
// nesting depth, string length, array length, object size and the total number of values,
// checked while parsing (nlohmann's SAX interface) so a hostile document never becomes a
// tree that recursive code (copies, dumps, comparisons) could overflow the stack on.
// Numbers beyond the double range (1e999) are an error of their own, not a crash or a 500.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qwen3::text {

// The defaults are the server's request limits (docs/server.md, "Request limits").
struct JsonLimits {
  std::size_t max_depth = 64;              // nested arrays / objects
  std::size_t max_string_bytes = 1 << 20;  // one string or key, in bytes (1 MiB)
  std::size_t max_array_items = 131072;    // one array (a token-id array of a full context)
  std::size_t max_object_members = 4096;   // one object
  std::size_t max_values = 1 << 20;        // values in the whole document
  // A string value that starts with "data:" (a data URL: an image in a chat message) may
  // be this long instead; 0 = max_string_bytes like any other string. Keys never.
  std::size_t max_data_url_bytes = 0;
};

class JsonError : public std::invalid_argument {
 public:
  enum class Kind { kSyntax, kNumberOverflow, kLimit };
  JsonError(Kind kind, const std::string& message, std::size_t byte = 0)
      : std::invalid_argument(message), kind_(kind), byte_(byte) {}
  Kind kind() const { return kind_; }
  std::size_t byte() const { return byte_; }  // where a syntax error was found (1-based)

 private:
  Kind kind_;
  std::size_t byte_;
};

// Parses `text` as one JSON document (key order kept). Throws JsonError whose message is
// one line naming the problem: "not valid JSON at byte 12: ...", "number 1e999 at byte 7 is
// out of range", or "JSON nesting is deeper than the limit of 64 levels".
nlohmann::ordered_json parse_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace qwen3::text
