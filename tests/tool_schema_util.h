// The tool schema the streaming tool-call tests generate calls against: `run`, with an
// argument of every JSON Schema type (string, integer, number, boolean, object, array and
// a nullable integer), so typed parsing (Qwen3-Coder's XML form) and the JSON form are
// both exercised on every kind of value. One definition for the tests that share it.
#pragma once

#include <nlohmann/json.hpp>

namespace qwen3::test {

inline const nlohmann::ordered_json& run_tool() {
  static const nlohmann::ordered_json t = nlohmann::ordered_json::parse(R"(
  {"type": "function", "function": {"name": "run", "parameters": {"type": "object", "properties": {
    "command": {"type": "string"}, "timeout": {"type": "integer"}, "ratio": {"type": "number"},
    "force": {"type": "boolean"}, "env": {"type": "object"}, "args": {"type": "array"},
    "maybe": {"type": ["integer", "null"]}}}}})");
  return t;
}

}  // namespace qwen3::test
