// Shared by the grammar and structured-output tests (grammar_test, structured_output_test,
// json_schema_oneof_test, tool_call_xml_grammar_test): llama.cpp's grammars/json.gbnf (the
// grammar users bring), whether a GBNF grammar accepts a whole string or a prefix of one
// (the byte-level matcher), and ajv's verdict on JSON values against their schemas
// (tests/js/validate_json.mjs, draft 2020-12), the independent check of what a schema
// grammar lets through.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/grammar_matcher.h"
#include "text/grammar.h"

namespace qwen3::test {

// llama.cpp's grammars/json.gbnf (the same text).
inline constexpr const char* kJsonGbnf = R"(root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
)";

// The grammar accepts all of `s`.
inline bool grammar_accepts(const std::string& gbnf, const std::string& s) {
  engine::GrammarMatcher m(std::make_shared<text::CompiledGrammar>(text::compile_gbnf(gbnf)));
  return m.advance(s) && m.accepting();
}

// `s` is a prefix of a string the grammar accepts.
inline bool grammar_prefix(const std::string& gbnf, const std::string& s) {
  engine::GrammarMatcher m(std::make_shared<text::CompiledGrammar>(text::compile_gbnf(gbnf)));
  return m.advance(s);
}

// Writes `cases` (validate_json.mjs's input) to `file_name` in the build folder and runs
// ajv on it in one node process: its exit status, 0 when every case came out as expected.
inline int run_ajv(const nlohmann::ordered_json& cases, const std::string& file_name) {
  const std::string file = std::string(QWEN3_BUILD_DIR) + "/" + file_name;
  std::ofstream(file) << cases.dump();
  const std::string cmd = "QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
                          std::string(QWEN3_SOURCE_DIR) + "/tests/js/validate_json.mjs' '" + file +
                          "'";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace qwen3::test
