// GBNF parsing and compilation, and the byte-level matcher: strings a grammar accepts and
// rejects, UTF-8 classes, repetition bounds, errors that name the problem.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/grammar_matcher.h"
#include "grammar_test_util.h"
#include "text/grammar.h"

namespace qwen3 {
namespace {

using engine::GrammarMatcher;
using test::kJsonGbnf;

constexpr auto& full_match = test::grammar_accepts;
constexpr auto& prefix_ok = test::grammar_prefix;

TEST(Grammar, JsonGbnfAcceptsJson) {
  EXPECT_TRUE(full_match(kJsonGbnf, R"({"a": [1, 2.5, -3e4, "x\n\u00e9"], "b": {"c": null}})"));
  EXPECT_TRUE(full_match(kJsonGbnf, "{}"));
  EXPECT_TRUE(full_match(kJsonGbnf, "{\"k\": \"h\xC3\xA9llo \xF0\x9F\x98\x80\"}"));
  EXPECT_FALSE(full_match(kJsonGbnf, R"({"a": })"));
  EXPECT_FALSE(full_match(kJsonGbnf, R"({"a": 1)"));
  EXPECT_TRUE(prefix_ok(kJsonGbnf, R"({"a": 1)"));
  EXPECT_FALSE(prefix_ok(kJsonGbnf, R"({'a': 1})"));
  EXPECT_FALSE(prefix_ok(kJsonGbnf, "{\"a\x01"));
  // Invalid UTF-8 never matches a class of code points.
  EXPECT_FALSE(prefix_ok(kJsonGbnf, "{\"\xC3\x28"));
  EXPECT_FALSE(prefix_ok(kJsonGbnf, "{\"\xED\xA0\x80"));  // a surrogate
}

TEST(Grammar, RepetitionBounds) {
  const std::string g = "root ::= \"a\"{2,4} \"b\"?";
  EXPECT_FALSE(full_match(g, "a"));
  EXPECT_TRUE(full_match(g, "aa"));
  EXPECT_TRUE(full_match(g, "aaaab"));
  EXPECT_FALSE(full_match(g, "aaaaa"));
  EXPECT_TRUE(full_match("root ::= [a-c]{3,}", "abcabc"));
  EXPECT_FALSE(full_match("root ::= [a-c]{3,}", "ab"));
  EXPECT_TRUE(full_match("root ::= \"x\" [0-9]+ \"y\"*", "x12yy"));
}

TEST(Grammar, UnicodeClassesAndAny) {
  const std::string g = "root ::= [α-ω]+ . [^a-z]";
  EXPECT_TRUE(full_match(g, "αβγz\xE2\x82\xAC"));
  EXPECT_FALSE(full_match(g, "αβγzq"));
  EXPECT_TRUE(full_match("root ::= [\\u0100-\\U0010FFFF]", "\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(full_match("root ::= [\\u0100-\\U0010FFFF]", "\xC4\x80"));
  EXPECT_FALSE(full_match("root ::= [\\u0100-\\U0010FFFF]", "\xC3\xBF"));
}

TEST(Grammar, RulesRecursionAndEmptyAlternatives) {
  const std::string g = "root ::= list\nlist ::= \"(\" item* \")\"\nitem ::= list | [a-z] | ";
  EXPECT_TRUE(full_match(g, "(a(b()c)(()))"));
  EXPECT_FALSE(full_match(g, "(a(b)"));
  EXPECT_TRUE(full_match("root ::= x x\nx ::= \"a\"*", "aaa"));
}

TEST(Grammar, SpecialTokenReference) {
  const std::string g = "root ::= <[151657]> \"x\" <[151658]>";
  EXPECT_TRUE(
      full_match(g, text::special_token_bytes(151657) + "x" + text::special_token_bytes(151658)));
  EXPECT_FALSE(prefix_ok(g, "<tool_call>"));
}

void expect_error(const std::string& gbnf, const std::string& part) {
  try {
    text::compile_gbnf(gbnf);
    FAIL() << "no error for: " << gbnf;
  } catch (const text::GrammarError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Grammar, ErrorsNameTheProblem) {
  expect_error("root ::= foo", "rule 'foo' is not defined");
  expect_error("start ::= \"a\"", "no 'root'");
  expect_error("root ::= \"a", "unterminated string");
  expect_error("root ::= [a-", "unterminated character class");
  expect_error("root ::= root \"a\" | \"b\"", "left-recursive");
  expect_error("root ::= x \"a\"\nx ::= y\ny ::= \"\" | root", "left-recursive");
  expect_error("root ::= \"a\"{5,2}", "n < m");
  expect_error("root ::= \"a\"{99999}", "repetition count");
  expect_error(
      "root ::= "
      "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((\"a\"))))))))))))))))))))))"
      "))))))))))))))))))))))))))))))))))))))))))))",
      "nested deeper");
  expect_error("root ::= \"a\"\nroot ::= \"b\"", "defined twice");
  expect_error("root ::= \"\\q\"", "unknown escape");
  expect_error("root ::= \"a\" )", "end of the line");
  expect_error("root ::= ([a-z]{100}){100}{100}", "too large");
  expect_error("root ::= * \"a\"", "without anything");
}

}  // namespace
}  // namespace qwen3
