// Chat messages exactly as the Qwen3 chat template sees them, and their conversion
// from OpenAI-style JSON. Unlike the public qwen3::ChatMessage (include/qwen3/chat.h),
// this keeps the distinctions the template cares about: null vs "" content, an absent
// vs empty reasoning_content, tool-call arguments as a JSON value or a string.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "qwen3/chat.h"

namespace qwen3::text {

struct ChatMessage {
  std::string role;                              // system, user, assistant or tool
  std::optional<std::string> content;            // nullopt = JSON null or absent
  std::optional<std::string> reasoning_content;  // nullopt = absent or null
  // OpenAI form: [{"id", "type", "function": {"name", "arguments"}}] or the same without
  // the "function" wrapper; "arguments" an object (rendered with tojson) or a string
  // (rendered as is). An ordered_json so key order survives into the prompt.
  nlohmann::ordered_json tool_calls = nlohmann::ordered_json::array();
  std::optional<std::string> name;
  std::optional<std::string> tool_call_id;
};

// One message from OpenAI-style JSON. `content` may be a string, null, absent, or an
// array of text parts [{"type":"text","text":...}], which are concatenated with nothing
// in between (OpenAI clients send one message split into parts; joining with "" keeps
// the text as written). Throws std::invalid_argument naming the message index and field
// for an unknown role, a wrong type, or a non-text part.
ChatMessage message_from_json(const nlohmann::ordered_json& j, size_t index = 0);

// A JSON array of messages. Throws std::invalid_argument if it is not an array.
std::vector<ChatMessage> messages_from_json(const nlohmann::ordered_json& j);

// Back to JSON (content parts already joined; absent fields omitted, null content kept).
nlohmann::ordered_json to_json(const ChatMessage& m);

// The text of an OpenAI `content` value (string or array of text parts); nullopt for null.
std::optional<std::string> content_text(const nlohmann::ordered_json& content,
                                        const std::string& where);

// From the public API types: empty reasoning_content counts as absent, so inline
// <think> blocks in content are still parsed; tool-call arguments are strings.
ChatMessage from_public(const qwen3::ChatMessage& m);
std::vector<ChatMessage> from_public(const std::vector<qwen3::ChatMessage>& msgs);

// Checks a message built in C++ (role known, tool_calls an array of objects with a
// string name). Throws std::invalid_argument.
void validate(const ChatMessage& m, size_t index);

}  // namespace qwen3::text
