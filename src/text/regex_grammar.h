// Regular expressions -> GBNF (text/grammar.h), for `qwen3 run --regex`, the server's
// regex constraint and JSON Schema `pattern`s. The syntax JSON Schema patterns and most
// APIs use (ECMAScript-like): literals, `.`, [classes] with ranges and negation, \d \w \s
// \D \W \S, escapes (\n \t \r \f \v \xHH \uHHHH, escaped punctuation), groups ( ) and
// (?: ), alternation, * + ? {m} {m,} {m,n} (lazy `?` accepted, same language), ^ at the
// start and $ at the end. The whole output matches the expression. Lookaround, back
// references and \b are refused with an error naming them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qwen3::text {

struct RegexLimits {
  std::size_t max_bytes = 4096;
  std::size_t max_nesting = 32;
  std::size_t max_repeat = 1000;
  // Classes and `.` never produce '<' (a value inside Qwen3-Coder's XML tool-call form,
  // where "</parameter>" would end it).
  bool classes_without_lt = false;
};

// A GBNF expression (the right side of a rule) for the language of `re`. json_string: the
// text sits inside a JSON string, so `"`, `\` and control characters are written as JSON
// escapes (classes and `.` never produce them raw). Throws GrammarError.
std::string regex_to_gbnf(std::string_view re, bool json_string = false,
                          const RegexLimits& limits = {});

}  // namespace qwen3::text
