// Grammar (GBNF, text/grammar.h) for one tool call in Qwen3-Coder's XML form, as its chat
// template shows it and text::parse_xml_tool_call reads it:
//   "\n<function=NAME>\n" ("<parameter=P>\n" VALUE "\n</parameter>\n")* "</function>\n"
// Parameters come in the schema's order, the required ones always; no unlisted ones. Each
// VALUE is written as the parser types it (text::xml_schema_type, the one rule for both):
// a string parameter as raw text (its const / enum / format / pattern / length held; never
// spelling </parameter>, <parameter= or </function>), any other typed parameter as a JSON
// value of that type (and null when the type list has "null"), a parameter without "type"
// as any JSON value its schema accepts. So every call the grammar writes parses back to
// arguments that validate against the tool's parameters schema.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "text/json_schema.h"

namespace qwen3::text {

// The expression for the body between <tool_call> and </tool_call> of a call of `name`
// with `parameters` (an object schema; absent or {} = no parameters). Its rules go into
// `conv` (created with SchemaLimits::xml_values), named after `rule_prefix`. Throws
// std::invalid_argument (GrammarError) naming the parameter and the problem.
std::string xml_tool_call_gbnf(const std::string& name, const nlohmann::ordered_json& parameters,
                               SchemaConverter& conv, const std::string& rule_prefix);

// Raw text that never contains </parameter>, <parameter= or </function> (a GBNF
// expression, one rule's worth: the matcher steps through it without recursion).
std::string xml_free_text_gbnf();

}  // namespace qwen3::text
