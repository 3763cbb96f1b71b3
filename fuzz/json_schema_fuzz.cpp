// libFuzzer target: any bytes as a JSON Schema must become a grammar (which then compiles)
// or give a clear error (JsonError / GrammarError), never crash or hang; the same bytes as a
// tool's parameters in Qwen3-Coder's XML tool-call form (text/tool_call_grammar.h) too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/grammar.h"
#include "text/json_limits.h"
#include "text/json_schema.h"
#include "text/tool_call_grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::ordered_json schema;
  try {
    qwen3::text::JsonLimits jl;
    jl.max_depth = 64;
    schema =
        qwen3::text::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), jl);
  } catch (const std::invalid_argument&) {  // JsonError
    return 0;
  }
  qwen3::text::SchemaLimits sl;
  sl.max_string_cap = 16;
  sl.max_items_cap = 8;
  sl.max_min_bound = 16;
  qwen3::text::GrammarLimits gl;
  gl.max_nfa_states = 1 << 15;
  gl.max_dfa_states = 1 << 12;
  try {
    const std::string gbnf = qwen3::text::json_schema_to_gbnf(schema, sl);
    qwen3::text::compile_gbnf(gbnf, gl);
  } catch (const std::invalid_argument&) {  // GrammarError
  }
  try {
    sl.xml_values = true;
    qwen3::text::SchemaConverter conv(sl);
    const std::string body = qwen3::text::xml_tool_call_gbnf("f", schema, conv, "t");
    qwen3::text::compile_gbnf("root ::= " + body + "\n" + conv.rules(), gl);
  } catch (const std::invalid_argument&) {  // GrammarError
  }
  return 0;
}
