// The body of a <tool_call>...</tool_call> block as Qwen3 writes it:
// {"name": "fn", "arguments": {...}} (JSON, surrounded by newlines).
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "qwen3/chat.h"

namespace qwen3::text {

// The call if `body` is a JSON object with a string "name"; nullopt otherwise (the caller
// then shows the block as text). `arguments` becomes compact JSON text; a string value is
// kept as is (already JSON text); absent means "{}". The id is left empty.
std::optional<qwen3::ToolCall> parse_tool_call(std::string_view body);

// "call_" + 24 random letters and digits, as OpenAI-style ids look.
std::string make_tool_call_id(std::mt19937_64& rng);

}  // namespace qwen3::text
