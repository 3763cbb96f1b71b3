// libFuzzer target: any text as a regex must translate to a GBNF expression that compiles
// (in both plain and JSON-string mode) or give a GrammarError, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "text/grammar.h"
#include "text/regex_grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view re(reinterpret_cast<const char*>(data), size);
  qwen3::text::RegexLimits rl;
  rl.max_repeat = 64;
  qwen3::text::GrammarLimits gl;
  gl.max_nfa_states = 1 << 15;
  gl.max_dfa_states = 1 << 12;
  for (bool json : {false, true}) {
    try {
      qwen3::text::compile_gbnf("root ::= " + qwen3::text::regex_to_gbnf(re, json, rl) + "\n", gl);
    } catch (const qwen3::text::GrammarError&) {
    }
  }
  return 0;
}
