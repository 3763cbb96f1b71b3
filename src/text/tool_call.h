// The body of a <tool_call>...</tool_call> block as Qwen3 writes it:
// {"name": "fn", "arguments": {...}} (JSON, surrounded by newlines), or as Qwen3-Coder
// writes it: <function=fn> <parameter=p>value</parameter> ... </function> (XML form).
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "qwen3/chat.h"

namespace qwen3::text {

// The call if `body` is a JSON object with a string "name"; nullopt otherwise (the caller
// then shows the block as text). The body as text::ToolCallStream reads it while streaming
// (so `arguments` is what a stream of the body sends): for the usual shape, name then
// arguments object, the object as written minus whitespace outside strings; other shapes
// go through parse_tool_call_whole. The id is left empty.
std::optional<qwen3::ToolCall> parse_tool_call(std::string_view body);

// The whole body parsed at once: `arguments` becomes compact JSON text; a string value is
// kept as is (already JSON text); absent means "{}".
std::optional<qwen3::ToolCall> parse_tool_call_whole(std::string_view body);

// The XML form: "\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>\n".
// One newline after <parameter=P> and one before </parameter> are framing, the rest is
// the value. Values are typed by the tool's JSON schema where `tools` (the request's
// OpenAI tools array) declares the parameter, as Qwen3-Coder's own parser does: integer,
// number, boolean, object / array (JSON), "null" -> null; a value that does not convert,
// and parameters without a schema, stay strings. nullopt if the body has no
// <function=NAME> (the caller shows the block as text).
// (text::ToolCallStream's reading, fed the whole body.)
std::optional<qwen3::ToolCall> parse_xml_tool_call(std::string_view body,
                                                   const nlohmann::ordered_json& tools);

// The JSON-schema "type" of parameter `param` of function `fn` in an OpenAI tools array
// ("" if not declared; the first non-null type of a type list).
std::string xml_param_type(const nlohmann::ordered_json& tools, const std::string& fn,
                           const std::string& param);
// An XML parameter value typed as above (see parse_xml_tool_call).
nlohmann::ordered_json xml_typed_value(const std::string& value, const std::string& type);

// "call_" + 24 random letters and digits, as OpenAI-style ids look.
std::string make_tool_call_id(std::mt19937_64& rng);

}  // namespace qwen3::text
