// libFuzzer target: any bytes as a JSON Schema must become a grammar (which then compiles)
// or give a clear error (JsonError / GrammarError), never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/grammar.h"
#include "text/json_limits.h"
#include "text/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    qwen3::text::JsonLimits jl;
    jl.max_depth = 64;
    const auto schema =
        qwen3::text::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), jl);
    qwen3::text::SchemaLimits sl;
    sl.max_string_cap = 16;
    sl.max_items_cap = 8;
    sl.max_min_bound = 16;
    const std::string gbnf = qwen3::text::json_schema_to_gbnf(schema, sl);
    qwen3::text::GrammarLimits gl;
    gl.max_nfa_states = 1 << 15;
    gl.max_dfa_states = 1 << 12;
    qwen3::text::compile_gbnf(gbnf, gl);
  } catch (const std::invalid_argument&) {  // JsonError, GrammarError
  }
  return 0;
}
