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
// number, boolean, object / array (JSON), "null" (any case) -> null; a value that does not
// convert, and parameters the tools do not declare, stay strings. Two refinements keep a
// value valid for its schema: a declared string is null only when its type list has
// "null" (else "null" is the text "null"), and a declared parameter whose schema has no
// "type" (enum, const, anyOf, $ref, ...) is JSON when it parses as JSON, else a string.
// nullopt if the body has no <function=NAME> (the caller shows the block as text).
// (text::ToolCallStream's reading, fed the whole body.)
std::optional<qwen3::ToolCall> parse_xml_tool_call(std::string_view body,
                                                   const nlohmann::ordered_json& tools);

// How an XML parameter value is typed (one source of truth for the parser above and the
// tool-call grammar, engine/structured_output): `type` is the schema's "type" in lower
// case (the first non-null one of a type list), "json" for a schema without "type", ""
// for a parameter without a schema (a string); `nullable`: "null" (any case) is null.
struct XmlParamType {
  std::string type;
  bool nullable = false;
};
XmlParamType xml_schema_type(const nlohmann::ordered_json& param_schema);
// The same for parameter `param` of function `fn` in an OpenAI tools array.
XmlParamType xml_param_type(const nlohmann::ordered_json& tools, const std::string& fn,
                            const std::string& param);
// A string-like type: the value is the text as written ("", string, str, text).
bool xml_string_like(const std::string& type);
// An XML parameter value typed as above (see parse_xml_tool_call).
nlohmann::ordered_json xml_typed_value(const std::string& value, const XmlParamType& type);

// "call_" + 24 random letters and digits, as OpenAI-style ids look.
std::string make_tool_call_id(std::mt19937_64& rng);

}  // namespace qwen3::text
