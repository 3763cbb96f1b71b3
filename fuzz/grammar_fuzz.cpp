// libFuzzer target: any text as a GBNF grammar must compile or give a GrammarError naming
// the problem, never crash, hang or exhaust memory (small limits keep each input fast).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qwen3::text::GrammarLimits l;
  l.max_nfa_states = 1 << 14;
  l.max_dfa_states = 1 << 11;
  l.max_repeat = 64;
  try {
    const auto g = qwen3::text::compile_gbnf(
        std::string_view(reinterpret_cast<const char*>(data), size), l);
    // Walk the input's bytes through the root rule's DFA: every state id must be valid.
    std::int32_t s = g.root;
    for (size_t i = 0; i < size && s >= 0; ++i) {
      s = g.next(s, data[i]);
      if (s >= static_cast<std::int32_t>(g.n_states())) __builtin_trap();
    }
  } catch (const qwen3::text::GrammarError&) {
  }
  return 0;
}
