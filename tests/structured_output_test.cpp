// Constrained decoding end to end through Pipeline on a pseudo-random model (logits = a
// hash of the whole context, the real Qwen3 tokenizer and template): GBNF grammars, JSON
// Schemas (replies checked by ajv + ajv-formats, tests/js/validate_json.mjs), regexes,
// forced tool calls, thinking on and off, greedy and sampled, and the reasoning budget.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "engine/grammar_matcher.h"
#include "engine/structured_output.h"
#include "engine_test_backend.h"
#include "grammar_test_util.h"
#include "qwen3/pipeline.h"
#include "text/grammar.h"
#include "text/json_schema.h"
#include "text/regex_grammar.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

using Json = nlohmann::ordered_json;
using engine::testing::HashChainBackend;

const Tokenizer& tokenizer() {
  return test::qwen3_tokenizer();
}

Pipeline make() {
  engine::register_backend("hash-so", [](const engine::BackendOptions& o) {
    return std::unique_ptr<engine::Backend>(std::make_unique<HashChainBackend>(
        tokenizer().n_vocab(), o.n_ctx ? o.n_ctx : 8192, tokenizer()));
  });
  return Pipeline("unused", "CPU", {{"backend", "hash-so"}, {"n_ctx", "8192"}});
}

GenerationConfig config(std::uint64_t seed, bool greedy, bool thinking) {
  GenerationConfig c;
  c.max_new_tokens = 1024;
  c.min_reply_tokens = 1024;
  c.seed = seed;
  if (greedy) c.temperature = 0.0f;
  c.enable_thinking = thinking;
  if (thinking) c.thinking_budget = 24 + seed % 40;
  return c;
}

using test::grammar_accepts;
using test::grammar_prefix;
using test::kJsonGbnf;

std::wstring widen(const std::string& s) {
  std::wstring out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
    out += static_cast<wchar_t>(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

int run_ajv(const Json& cases) {
  return test::run_ajv(cases, "structured_output_cases.json");
}

// Tokens of the reasoning block (<think> .. </think> inclusive) in a reply.
std::size_t reasoning_tokens(const DecodedResult& r) {
  const auto open = *tokenizer().token_id("<think>");
  const auto close = *tokenizer().token_id("</think>");
  std::size_t n = 0;
  bool in = false;
  for (auto id : r.tokens) {
    if (id == open) in = true;
    if (in) ++n;
    if (id == close) break;
  }
  return n;
}

TEST(StructuredOutput, GbnfRepliesParseWithTheGrammar) {
  Pipeline p = make();
  const std::string words = "root ::= item (\", \" item){0,3}\nitem ::= [a-z]{1,8}\n";
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    GenerationConfig c = config(seed, seed % 2 == 0, seed % 3 == 0);
    c.max_new_tokens = 256;
    StructuredOutputConfig so;
    // A bounded grammar (a list of words) and llama.cpp's JSON grammar (unbounded: a random
    // model may still be writing when the length limit comes; the text so far must then be
    // a prefix of a sentence of the grammar).
    so.grammar = seed % 2 == 1 ? words : std::string(kJsonGbnf);
    c.structured_output = so;
    DecodedResult r = p.generate("Write something.", c);
    if (r.finish_reason == FinishReason::kLength) {
      EXPECT_EQ(*so.grammar, kJsonGbnf);
      EXPECT_TRUE(grammar_prefix(*so.grammar, r.text)) << "seed " << seed << ": " << r.text;
      continue;
    }
    ASSERT_EQ(r.finish_reason, FinishReason::kStop);
    EXPECT_TRUE(grammar_accepts(*so.grammar, r.text)) << "seed " << seed << ": " << r.text;
    if (so.grammar == kJsonGbnf) EXPECT_NO_THROW((void)Json::parse(r.text)) << r.text;
  }
}

// Schemas of real-world shape; the big generated suite lives in tests/js (see the docs).
std::vector<Json> schemas() {
  return {
      Json::parse(
          R"({"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":150}},"required":["name","age"],"additionalProperties":false})"),
      Json::parse(
          R"({"type":"object","properties":{"id":{"type":"string","format":"uuid"},"created":{"type":"string","format":"date-time"},"email":{"type":"string","format":"email"},"day":{"type":"string","format":"date"}},"required":["id","created","email"]})"),
      Json::parse(
          R"({"type":"array","items":{"type":"string","enum":["red","green","blue"]},"minItems":1,"maxItems":4})"),
      Json::parse(
          R"({"$defs":{"point":{"type":"object","properties":{"x":{"type":"number","minimum":-10,"maximum":10},"y":{"type":"number","exclusiveMinimum":0,"maximum":5.5}},"required":["x","y"]}},"type":"object","properties":{"a":{"$ref":"#/$defs/point"},"b":{"anyOf":[{"$ref":"#/$defs/point"},{"type":"null"}]}},"required":["a"]})"),
      Json::parse(
          R"({"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}$"},"tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3},"ok":{"type":"boolean"},"price":{"type":["number","null"]}},"required":["code","ok"]})"),
      Json::parse(
          R"({"type":"object","properties":{"kind":{"const":"event"},"level":{"enum":[1,2,"high",null]},"pair":{"type":"array","prefixItems":[{"type":"integer","minimum":100,"maximum":999},{"type":"string","minLength":2,"maxLength":4}],"items":false}},"required":["kind","level","pair"]})"),
      Json::parse(
          R"({"type":"object","properties":{"t":{"type":"string","format":"time"},"ip":{"type":"string","format":"ipv4"},"n":{"type":"integer","exclusiveMaximum":-5,"minimum":-1234}},"required":["t","ip","n"]})"),
      Json::parse(R"({"type":"object"})"),
  };
}

TEST(StructuredOutput, JsonSchemaRepliesValidateWithAjv) {
  Pipeline p = make();
  Json cases = Json::array();
  const auto list = schemas();
  int bounded_finished = 0, bounded = 0;
  for (std::size_t k = 0; k < list.size(); ++k) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool greedy = variant % 2 == 0, thinking = variant >= 2;
      GenerationConfig c =
          config(100 + k * 4 + static_cast<std::uint64_t>(variant), greedy, thinking);
      StructuredOutputConfig so;
      so.json_schema = list[k].dump();
      c.structured_output = so;
      DecodedResult r = p.generate("Reply with JSON.", c);
      const std::string name =
          "schema " + std::to_string(k) + " variant " + std::to_string(variant);
      if (k + 1 < list.size()) {
        ++bounded;
        if (r.finish_reason == FinishReason::kStop) ++bounded_finished;
      }
      if (r.finish_reason != FinishReason::kStop) continue;  // the length limit cut it
      cases.push_back({{"name", name}, {"schema", list[k]}, {"text", r.text}});
      if (thinking) EXPECT_LE(reasoning_tokens(r), *c.thinking_budget) << name;
    }
  }
  EXPECT_GE(bounded_finished * 10, bounded * 8) << bounded_finished << " of " << bounded;
  EXPECT_EQ(run_ajv(cases), 0);
}

TEST(StructuredOutput, RegexRepliesMatch) {
  Pipeline p = make();
  const std::vector<std::string> res = {"[A-Z][a-z]{2,9}( [A-Z][a-z]{2,9})?", "\\d{3}-\\d{4}",
                                        "(yes|no|maybe)!?", "[^\\n]{1,12}\\.",
                                        "(?:0x)?[0-9a-f]{2,6}"};
  for (std::size_t k = 0; k < res.size(); ++k) {
    for (int variant = 0; variant < 2; ++variant) {
      GenerationConfig c =
          config(300 + k * 2 + static_cast<std::uint64_t>(variant), variant == 0, false);
      StructuredOutputConfig so;
      so.regex = res[k];
      c.structured_output = so;
      DecodedResult r = p.generate("Say something.", c);
      ASSERT_EQ(r.finish_reason, FinishReason::kStop) << res[k];
      // std::wregex sees code points (wchar_t is 32-bit here), as the grammar does.
      EXPECT_TRUE(std::regex_match(widen(r.text), std::wregex(widen(res[k]))))
          << res[k] << " vs " << r.text;
    }
  }
}

TEST(StructuredOutput, RequiredAndNamedToolCallsAreValid) {
  Pipeline p = make();
  const Json tools = Json::parse(R"([
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":16},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city"]}}},
    {"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}}}])");
  Json cases = Json::array();
  for (int k = 0; k < 8; ++k) {
    GenerationConfig c = config(500 + static_cast<std::uint64_t>(k), k % 2 == 0, k % 4 >= 2);
    StructuredOutputConfig so;
    so.tool_mode = StructuredOutputConfig::ToolMode::kRequired;
    so.tools_json = tools.dump();
    so.parallel_tool_calls = k % 3 == 0;
    if (k >= 6) so.tool_name = "add";
    c.structured_output = so;
    ChatHistory h;
    h.tools_json = tools.dump();
    h.push_back(ChatMessage::user("Use a tool."));
    DecodedResult r = p.generate(h, c);
    if (r.finish_reason == FinishReason::kLength) continue;
    ASSERT_EQ(r.finish_reason, FinishReason::kToolCalls) << r.text;
    ASSERT_FALSE(r.tool_calls.empty());
    if (!so.parallel_tool_calls) EXPECT_EQ(r.tool_calls.size(), 1u);
    for (const auto& call : r.tool_calls) {
      if (k >= 6) EXPECT_EQ(call.name, "add");
      for (const auto& t : tools)
        if (t["function"]["name"] == call.name)
          cases.push_back({{"name", "tools " + std::to_string(k) + " " + call.name},
                           {"schema", t["function"]["parameters"]},
                           {"text", call.arguments}});
    }
  }
  EXPECT_GE(cases.size(), 6u);
  EXPECT_EQ(run_ajv(cases), 0);
}

TEST(StructuredOutput, ReasoningBudgetHoldsToTheToken) {
  Pipeline p = make();
  for (std::size_t budget : {0u, 1u, 2u, 5u, 30u, 64u}) {
    GenerationConfig c = config(700 + budget, false, true);
    c.thinking_budget = budget;
    c.max_new_tokens = 200;
    StructuredOutputConfig so;
    so.json_schema =
        R"({"type":"object","properties":{"answer":{"type":"string","maxLength":10}},"required":["answer"]})";
    c.structured_output = so;
    DecodedResult r = p.generate("Think, then answer.", c);
    EXPECT_LE(reasoning_tokens(r), budget) << budget;
    if (budget >= 30) EXPECT_EQ(r.reasoning_closed, "budget");
    ASSERT_EQ(r.finish_reason, FinishReason::kStop) << r.text;
    EXPECT_EQ(Json::parse(r.text).at("answer").get<std::string>().size() <= 40, true);
  }
  // 100 requests, budgets 2..101, sampled, with and without a schema: the block never
  // passes the budget, a closed one ends exactly at it, and the answer after it parses.
  int closed = 0;
  for (std::size_t i = 0; i < 100; ++i) {
    GenerationConfig c = config(900 + i, false, true);
    const std::size_t budget = 2 + i;
    c.thinking_budget = budget;
    c.max_new_tokens = budget + 60;
    if (i % 2 == 0) {
      StructuredOutputConfig so;
      so.json_schema =
          R"({"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]})";
      c.structured_output = so;
    }
    DecodedResult r = p.generate("Think, then answer.", c);
    const std::size_t n = reasoning_tokens(r);
    EXPECT_LE(n, budget) << i;
    if (r.reasoning_closed == "budget") {
      ++closed;
      EXPECT_EQ(n, budget) << i;
      // The reply parser saw the forced close: the closing sentence (when it fit) ends the
      // reasoning, and no think tag leaks into the answer.
      const std::size_t phrase =
          tokenizer().encode(engine::DecodeController::closing_phrase(), false).size();
      if (budget > phrase + 1)
        EXPECT_NE(r.reasoning.find("Considering the limited time"), std::string::npos) << i;
    }
    EXPECT_EQ(r.text.find("think>"), std::string::npos) << i << ": " << r.text;
    if (i % 2 == 0 && r.finish_reason == FinishReason::kStop)
      EXPECT_NO_THROW((void)Json::parse(r.text).at("ok").get<bool>()) << r.text;
  }
  EXPECT_GE(closed, 50);
  // Without a grammar, the closed reasoning is followed by a free answer.
  GenerationConfig c = config(800, false, true);
  c.thinking_budget = 40;
  c.max_new_tokens = 80;
  DecodedResult r = p.generate("Think.", c);
  EXPECT_LE(reasoning_tokens(r), 40u);
}

// Calls required, in parallel, of one tool f(a: an integer 0..9).
StructuredOutputConfig parallel_calls_of_f() {
  StructuredOutputConfig so;
  so.tool_mode = StructuredOutputConfig::ToolMode::kRequired;
  so.tools_json =
      R"([{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":9}},"required":["a"]}}}])";
  so.parallel_tool_calls = true;
  return so;
}

TEST(StructuredOutput, ParallelToolCallsAreCapped) {
  // A model that keeps calling (a random one does) still ends: kMaxParallelToolCalls calls.
  StructuredOutputConfig so = parallel_calls_of_f();
  const std::string call = text::special_token_bytes(*tokenizer().token_id("<tool_call>")) +
                           "\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n" +
                           text::special_token_bytes(*tokenizer().token_id("</tool_call>"));
  auto calls = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? "\n" : "") + call;
    return out;
  };
  const std::string gbnf = engine::structured_output_gbnf(so, &tokenizer());
  EXPECT_TRUE(grammar_accepts(gbnf, calls(1)));
  EXPECT_TRUE(grammar_accepts(gbnf, calls(engine::kMaxParallelToolCalls)));
  EXPECT_FALSE(grammar_accepts(gbnf, calls(engine::kMaxParallelToolCalls + 1)));
  so.parallel_tool_calls = false;
  const std::string one = engine::structured_output_gbnf(so, &tokenizer());
  EXPECT_TRUE(grammar_accepts(one, calls(1)));
  EXPECT_FALSE(grammar_accepts(one, calls(2)));
}

TEST(StructuredOutput, AnotherParallelCallOnlyWhenTheTokensLeftHoldOne) {
  // After a call, "\n" (the next call) is offered only while max_new_tokens leaves room for
  // the longest call the grammar allows (its bytes: a token has at least one, a special
  // token counts 4) plus "\n" and the end token; the end always is. A later call longer
  // than the first (here any with more tokens than the first's) therefore still fits.
  StructuredOutputConfig so = parallel_calls_of_f();
  auto grammar = engine::compile_structured_output(so, &tokenizer());
  const auto call = tokenizer().encode(
      "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>", true);
  const std::size_t n = call.size();
  const auto newline = tokenizer().encode("\n", false);
  ASSERT_EQ(newline.size(), 1u);
  // The longest call, read off the schema: a in 0..9, one space after ':' allowed.
  const std::size_t bound =
      4 + std::string("\n{\"name\": \"f\", \"arguments\": {\"a\": 9}}\n").size() + 4;
  ASSERT_GT(bound, n);  // the rule of the longest call so far would allow more
  EXPECT_EQ(text::max_rule_bytes(*grammar, "tool-call"), bound);
  for (std::size_t limit : {std::size_t{100000}, n + bound + 2, n + bound + 1, 2 * n + 2, n + 1}) {
    engine::DecodeController d(tokenizer(), grammar, false, false, {});
    d.set_token_limit(limit);
    for (auto id : call) {
      ASSERT_TRUE(engine::mask_test(*d.mask(), id));
      d.accept(id);
    }
    const auto* m = d.mask();
    EXPECT_TRUE(engine::mask_test(*m, tokenizer().im_end_id())) << limit;
    EXPECT_EQ(engine::mask_test(*m, newline[0]), limit >= n + bound + 2) << limit;
    // After a second call (shorter than the longest) no third fits.
    if (limit == n + bound + 2) {
      d.accept(newline[0]);
      for (auto id : call) {
        ASSERT_TRUE(engine::mask_test(*d.mask(), id));
        d.accept(id);
      }
      EXPECT_FALSE(engine::mask_test(*d.mask(), newline[0]));
    }
  }
  // Unbounded calls (a string without maxLength): the longest call so far is the measure.
  so.tools_json =
      R"([{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}}])";
  auto free_grammar = engine::compile_structured_output(so, &tokenizer());
  EXPECT_EQ(text::max_rule_bytes(*free_grammar, "tool-call"), std::nullopt);
  const auto free_call = tokenizer().encode(
      "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"x\"}}\n</tool_call>", true);
  const std::size_t fn = free_call.size();
  for (std::size_t limit : {2 * fn + 2, 2 * fn + 1}) {
    engine::DecodeController d(tokenizer(), free_grammar, false, false, {});
    d.set_token_limit(limit);
    for (auto id : free_call) {
      ASSERT_TRUE(engine::mask_test(*d.mask(), id));
      d.accept(id);
    }
    EXPECT_EQ(engine::mask_test(*d.mask(), newline[0]), limit >= 2 * fn + 2) << limit;
  }
}

TEST(StructuredOutput, MasksAreCachedAcrossRequestsAndMatchUncached) {
  // Two "requests" on the one compiled grammar (compile_structured_output caches it by its
  // text): the second finds every mask of the first's states in the process-wide cache; a
  // separately compiled copy of the grammar (another object, so no cache hits) computes the
  // same masks from scratch.
  StructuredOutputConfig so;
  so.json_schema =
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3},"n":{"type":"integer","minimum":0,"maximum":500}},"required":["name","n"]})";
  auto g1 = engine::compile_structured_output(so, &tokenizer());
  auto g2 = engine::compile_structured_output(so, &tokenizer());
  ASSERT_EQ(g1, g2);
  auto fresh = std::make_shared<const text::CompiledGrammar>(
      text::compile_gbnf(engine::structured_output_gbnf(so, &tokenizer())));
  auto trie = engine::TokenTrie::of(tokenizer());
  const std::vector<std::string> pieces = {
      "{", "\"name\":", " \"Ann", "a\"", ",", " \"tags\": [", "\"a\"", "]", ", \"n\":", "42", "}"};
  engine::clear_shared_mask_cache();
  auto walk = [&](const std::shared_ptr<const text::CompiledGrammar>& g) {
    engine::GrammarMatcher m(g);
    std::vector<engine::TokenMask> masks;
    for (const auto& piece : pieces) {
      masks.emplace_back();
      m.fill_mask(*trie, masks.back());
      EXPECT_TRUE(m.advance(piece)) << piece;
    }
    masks.emplace_back();
    m.fill_mask(*trie, masks.back());
    EXPECT_TRUE(m.accepting());
    return masks;
  };
  const auto first = walk(g1);
  const auto before = engine::shared_mask_cache_stats();
  const auto second = walk(g2);
  const auto after = engine::shared_mask_cache_stats();
  EXPECT_EQ(after.hits - before.hits, first.size());
  EXPECT_EQ(after.misses, before.misses);
  const auto uncached = walk(fresh);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, uncached);
  EXPECT_GT(after.entries, 0u);
}

TEST(StructuredOutput, LoopGuardClosesARepeatingReasoning) {
  // Greedy decoding on the hash model does not loop by itself: a grammar-free reply with a
  // tiny vocabulary of choices would; check the detector on the controller directly.
  engine::ReasoningLimits lim;
  lim.loop_guard = true;
  engine::DecodeController d(tokenizer(), nullptr, true, false, lim);
  const auto open = *tokenizer().token_id("<think>");
  EXPECT_FALSE(d.forced());
  d.accept(open);
  std::optional<std::int32_t> f;
  int steps = 0;
  while (!(f = d.forced()) && steps < 200) {
    d.accept(1000 + steps % 3);  // a 3-token cycle
    ++steps;
  }
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(d.reasoning_closed(), "loop");
  EXPECT_LE(steps, 40);
}

TEST(StructuredOutput, BadSchemasGrammarsAndRegexesAreClearErrors) {
  Pipeline p = make();
  auto expect_bad = [&](StructuredOutputConfig so, const std::string& part) {
    GenerationConfig c = config(1, true, false);
    c.structured_output = so;
    try {
      p.generate("x", c);
      ADD_FAILURE() << "no error, expected " << part;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  StructuredOutputConfig a;
  a.json_schema = R"({"type":"object","properties":{"x":{"type":"integer","multipleOf":3}}})";
  expect_bad(a, "multipleOf");
  a.json_schema = R"({"type": "object", "properties": {"x": {"$ref": "#/$defs/nope"}}})";
  expect_bad(a, "points nowhere");
  a.json_schema = R"({"type": "integer", "minimum": 5, "maximum": 2})";
  expect_bad(a, "minimum");
  a.json_schema = "{not json";
  expect_bad(a, "json_schema");
  StructuredOutputConfig g;
  g.grammar = "root ::= undefined-rule";
  expect_bad(g, "not defined");
  StructuredOutputConfig re;
  re.regex = "(a";
  expect_bad(re, "unclosed");
  re.regex = "(?=a)b";
  expect_bad(re, "lookaround");
  re.regex = "(a)\\1";
  expect_bad(re, "back reference");
}

}  // namespace
}  // namespace qwen3
