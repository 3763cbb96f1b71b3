// OpenAI-style message JSON <-> qwen3::ChatMessage: chat_json.h.
#include "engine/chat_json.h"

#include <stdexcept>
#include <string>

#include "text/chat_message.h"
#include "text/tojson.h"

namespace qwen3::engine {
namespace {

using Json = nlohmann::ordered_json;

ToolCall public_tool_call(const Json& tc) {
  ToolCall out;
  if (tc.contains("id") && tc["id"].is_string()) out.id = tc["id"].get<std::string>();
  const Json& fn = tc.contains("function") ? tc["function"] : tc;
  if (fn.contains("name") && fn["name"].is_string()) out.name = fn["name"].get<std::string>();
  if (fn.contains("arguments")) {
    const Json& a = fn["arguments"];
    out.arguments = a.is_string() ? a.get<std::string>() : text::tojson(a);
  }
  return out;
}

ChatMessage public_message(const text::ChatMessage& m) {
  ChatMessage out;
  out.role = m.role;
  out.content = m.content.value_or("");
  out.reasoning_content = m.reasoning_content.value_or("");
  for (const auto& tc : m.tool_calls) out.tool_calls.push_back(public_tool_call(tc));
  out.tool_call_id = m.tool_call_id.value_or("");
  out.name = m.name.value_or("");
  return out;
}

}  // namespace

std::vector<ChatMessage> chat_messages_from_json(Json messages) {
  if (!messages.is_array()) throw std::invalid_argument("expected a JSON array of messages");
  for (auto& m : messages) {
    if (!m.is_object()) continue;  // messages_from_json names it
    if (m.contains("role") && m["role"] == "developer") m["role"] = "system";
    if (!m.contains("reasoning_content") && m.contains("reasoning")) {
      m["reasoning_content"] = m["reasoning"];
    }
  }
  std::vector<ChatMessage> out;
  for (const auto& m : text::messages_from_json(messages)) out.push_back(public_message(m));
  return out;
}

Json chat_messages_to_json(const std::vector<ChatMessage>& messages) {
  Json a = Json::array();
  for (const auto& m : messages) a.push_back(text::to_json(text::from_public(m)));
  return a;
}

}  // namespace qwen3::engine
