#include "text/tool_call.h"

#include <nlohmann/json.hpp>

#include "text/json_limits.h"

namespace qwen3::text {

std::optional<qwen3::ToolCall> parse_tool_call(std::string_view body) {
  // ordered_json keeps the model's key order in the arguments it wrote. The limits keep
  // a model that writes 50,000 nested brackets from reaching recursive code (dump below):
  // such a block is shown as text.
  nlohmann::ordered_json j;
  try {
    j = parse_json(body);
  } catch (const JsonError&) {
    return std::nullopt;
  }
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  qwen3::ToolCall call;
  call.name = name->get<std::string>();
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");  // some fine-tunes write this
  if (args == j.end() || args->is_null()) {
    call.arguments = "{}";
  } else if (args->is_string()) {
    call.arguments = args->get<std::string>();
  } else {
    call.arguments = args->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return call;
}

std::string make_tool_call_id(std::mt19937_64& rng) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<int> pick(0, sizeof kAlphabet - 2);
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
  return id;
}

}  // namespace qwen3::text
