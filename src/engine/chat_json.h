// OpenAI-style message JSON <-> the public qwen3::ChatMessage, one converter for every
// place that reads or writes that shape: the server's request parser and the terminal
// chat's /save and /load files. Validation is the text layer's (text::messages_from_json):
// unknown roles, wrong types and non-text content parts are errors naming the message.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "qwen3/chat.h"

namespace qwen3::engine {

// A JSON array of messages. Also takes the newer spellings: role "developer" (= system)
// and "reasoning" (= reasoning_content). Tool-call arguments given as a JSON object
// become its text. Throws std::invalid_argument.
std::vector<ChatMessage> chat_messages_from_json(nlohmann::ordered_json messages);

// Back to a JSON array: role, content, and reasoning_content / tool_calls / tool_call_id /
// name when set.
nlohmann::ordered_json chat_messages_to_json(const std::vector<ChatMessage>& messages);

}  // namespace qwen3::engine
