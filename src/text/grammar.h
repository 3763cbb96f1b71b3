// Grammars for constrained decoding: llama.cpp's GBNF syntax parsed into an IR and compiled
// to one byte-level DFA per rule, whose edges are bytes (code-point classes are expanded to
// their UTF-8 byte sequences) or references to other rules. A pushdown matcher
// (engine/grammar_matcher.h) runs these DFAs with a stack of return states.
//
// GBNF as llama.cpp reads it: `name ::= alternatives`, `|`, grouping `( )`, `*` `+` `?`
// `{m}` `{m,}` `{m,n}`, "literals" and [classes] / [^classes] with \n \r \t \\ \" \[ \]
// \xHH \uHHHH \UHHHHHHHH escapes, `.` (any character), `#` comments; the start rule is
// `root`. Extension: `<[ID]>` matches the one special token with that id (tool-call
// markers); special tokens are otherwise never part of the matched text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3::text {

class GrammarError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct GrammarLimits {
  std::size_t max_text_bytes = 1 << 20;  // GBNF source
  std::size_t max_rules = 8192;
  std::size_t max_nesting = 64;   // parentheses
  std::size_t max_repeat = 4096;  // m and n of {m,n}
  std::size_t max_nfa_states = 1 << 18;
  std::size_t max_dfa_states = 1 << 16;  // 1 KiB each
};

// Bytes >= 0xF8 never occur in UTF-8: the matcher uses 0xFF followed by three id bytes
// (big-endian) to stand for one special token.
constexpr unsigned char kSpecialTokenByte = 0xFF;
std::string special_token_bytes(std::int32_t id);

// The compiled grammar: all rules' DFA states numbered together.
struct CompiledGrammar {
  static constexpr std::int32_t kNone = -1;
  std::vector<std::int32_t> trans;      // n_states * 256: next state on a byte, or kNone
  std::vector<std::uint8_t> accepting;  // the state may end its rule
  std::vector<std::uint8_t> has_bytes;  // some byte leads on
  struct RefEdge {
    std::int32_t start;  // first state of the referenced rule
    std::int32_t ret;    // state of this rule after the reference
  };
  std::vector<std::uint32_t> ref_begin;  // n_states + 1 offsets into refs
  std::vector<RefEdge> refs;
  std::vector<std::int32_t> rule_start;  // per rule
  std::vector<std::int32_t> state_rule;  // rule of each state
  std::vector<std::string> rule_names;
  std::int32_t root = 0;  // start state of `root`

  std::size_t n_states() const { return accepting.size(); }
  std::int32_t next(std::int32_t s, unsigned char b) const {
    return trans[static_cast<std::size_t>(s) * 256 + b];
  }
};

// Parses GBNF text and compiles it. Throws GrammarError naming the problem (with the line)
// for syntax errors, undefined rules, a missing `root`, left recursion and limits.
CompiledGrammar compile_gbnf(std::string_view gbnf, const GrammarLimits& limits = {});

// The most bytes a match of rule `rule` can take (a special token counts its 4 bytes, so
// this also bounds the tokens of a match); nullopt when unbounded (a loop or recursion),
// when the rule does not exist, or when the grammar is too deep to measure.
std::optional<std::size_t> max_rule_bytes(const CompiledGrammar& g, const std::string& rule);

// Quotes text as a GBNF string literal ("..." with escapes).
std::string gbnf_literal(std::string_view text);

}  // namespace qwen3::text
