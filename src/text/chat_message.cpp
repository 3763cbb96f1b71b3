#include "text/chat_message.h"

#include <stdexcept>

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

std::string where_of(size_t index, const std::string& field) {
  return "message " + std::to_string(index) + ": " + field;
}

std::string type_name(const ojson& j) {
  return j.type_name();
}

std::optional<std::string> optional_string(const ojson& j, const char* key, size_t index) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw std::invalid_argument(where_of(index, key) + " must be a string, not " + type_name(*it));
  }
  return it->get<std::string>();
}

bool known_role(const std::string& r) {
  return r == "system" || r == "user" || r == "assistant" || r == "tool";
}

}  // namespace

std::optional<std::string> content_text(const ojson& content, const std::string& where) {
  if (content.is_null()) return std::nullopt;
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    throw std::invalid_argument(where + " must be a string, null or an array of text parts, not " +
                                type_name(content));
  }
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const ojson& part = content[i];
    std::string pw = where + "[" + std::to_string(i) + "]";
    if (!part.is_object()) throw std::invalid_argument(pw + " must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) {
      throw std::invalid_argument(pw + ".type must be a string");
    }
    if (*type != "text") {
      throw std::invalid_argument(pw + " has type \"" + type->get<std::string>() +
                                  "\"; only \"text\" parts are supported");
    }
    auto t = part.find("text");
    if (t == part.end() || !t->is_string()) {
      throw std::invalid_argument(pw + ".text must be a string");
    }
    text += t->get_ref<const std::string&>();
  }
  return text;
}

void validate(const ChatMessage& m, size_t index) {
  if (!known_role(m.role)) {
    throw std::invalid_argument(where_of(index, "role") + " \"" + m.role +
                                "\" is unknown (expected system, user, assistant or tool)");
  }
  if (m.tool_calls.is_null()) return;
  if (!m.tool_calls.is_array()) {
    throw std::invalid_argument(where_of(index, "tool_calls") + " must be an array");
  }
  for (size_t i = 0; i < m.tool_calls.size(); ++i) {
    const ojson& tc = m.tool_calls[i];
    std::string w = where_of(index, "tool_calls[" + std::to_string(i) + "]");
    if (!tc.is_object()) throw std::invalid_argument(w + " must be an object");
    const ojson* call = &tc;
    auto fn = tc.find("function");
    if (fn != tc.end() && !fn->is_null()) {
      if (!fn->is_object()) throw std::invalid_argument(w + ".function must be an object");
      if (!fn->empty()) call = &*fn;  // the template unwraps a non-empty "function"
    }
    auto name = call->find("name");
    if (name == call->end() || !name->is_string()) {
      throw std::invalid_argument(w + " needs a string \"name\"");
    }
  }
}

ChatMessage message_from_json(const ojson& j, size_t index) {
  if (!j.is_object()) {
    throw std::invalid_argument("message " + std::to_string(index) + " must be an object, not " +
                                type_name(j));
  }
  ChatMessage m;
  auto role = j.find("role");
  if (role == j.end() || !role->is_string()) {
    throw std::invalid_argument(where_of(index, "role") + " is missing or not a string");
  }
  m.role = role->get<std::string>();
  if (auto c = j.find("content"); c != j.end()) {
    m.content = content_text(*c, where_of(index, "content"));
  }
  m.reasoning_content = optional_string(j, "reasoning_content", index);
  m.name = optional_string(j, "name", index);
  m.tool_call_id = optional_string(j, "tool_call_id", index);
  if (auto tc = j.find("tool_calls"); tc != j.end() && !tc->is_null()) {
    m.tool_calls = *tc;
  }
  validate(m, index);
  return m;
}

std::vector<ChatMessage> messages_from_json(const ojson& j) {
  if (!j.is_array()) {
    throw std::invalid_argument("messages must be a JSON array, not " + type_name(j));
  }
  std::vector<ChatMessage> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(message_from_json(j[i], i));
  return out;
}

ojson to_json(const ChatMessage& m) {
  ojson j = ojson::object();
  j["role"] = m.role;
  j["content"] = m.content ? ojson(*m.content) : ojson(nullptr);
  if (m.reasoning_content) j["reasoning_content"] = *m.reasoning_content;
  if (m.tool_calls.is_array() && !m.tool_calls.empty()) j["tool_calls"] = m.tool_calls;
  if (m.name) j["name"] = *m.name;
  if (m.tool_call_id) j["tool_call_id"] = *m.tool_call_id;
  return j;
}

ChatMessage from_public(const qwen3::ChatMessage& p) {
  ChatMessage m;
  m.role = p.role;
  m.content = p.content;
  if (!p.reasoning_content.empty()) m.reasoning_content = p.reasoning_content;
  for (const auto& c : p.tool_calls) {
    ojson call = ojson::object();
    if (!c.id.empty()) call["id"] = c.id;
    call["type"] = "function";
    call["function"] = ojson{{"name", c.name}, {"arguments", c.arguments}};
    m.tool_calls.push_back(std::move(call));
  }
  if (!p.name.empty()) m.name = p.name;
  if (!p.tool_call_id.empty()) m.tool_call_id = p.tool_call_id;
  return m;
}

std::vector<ChatMessage> from_public(const std::vector<qwen3::ChatMessage>& msgs) {
  std::vector<ChatMessage> out;
  out.reserve(msgs.size());
  for (const auto& m : msgs) out.push_back(from_public(m));
  return out;
}

}  // namespace qwen3::text
