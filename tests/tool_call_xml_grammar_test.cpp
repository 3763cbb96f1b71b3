// Forced tool calls in Qwen3-Coder's XML form (text/tool_call_grammar.h through
// engine::structured_output_gbnf with ToolCallFormat::kXml): over generated tool sets of
// real-world shape (the leaf kinds of tests/js/structured_client.mjs: bounded, formatted,
// patterned and free strings, integer / number ranges, booleans, mixed enums, consts,
// nullable strings, anyOf, arrays, nested objects, $ref), random walks through the grammar
// write calls that the XML parser (text::parse_xml_tool_call) reads back as the call the
// text spells (one argument per <parameter=>, string values exactly their raw text), and
// whose arguments validate against the tool's schema with ajv (tests/js/validate_json.mjs).
// Then end to end: a pseudo-random model with Qwen3-Coder's chat template, tool_choice
// required / named, parallel or not: the reply's tool_calls validate the same way.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "engine/grammar_matcher.h"
#include "engine/structured_output.h"
#include "engine_test_backend.h"
#include "grammar_test_util.h"
#include "qwen3/pipeline.h"
#include "text/grammar.h"
#include "text/tokenizer.h"
#include "text/tool_call.h"
#include "text/tool_call_grammar.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const Tokenizer& tokenizer() {
  return test::qwen3_tokenizer();
}

int run_ajv(const Json& cases, const std::string& tag) {
  return test::run_ajv(cases, "tool_call_xml_" + tag + ".json");
}

// Tool sets shaped as the server suite's (tests/js/structured_client.mjs), plus free text.
struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  double r() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  int n(int k) { return std::uniform_int_distribution<int>(0, k - 1)(rng); }
  template <class T>
  T pick(std::initializer_list<T> l) {
    return *(l.begin() + n(static_cast<int>(l.size())));
  }
  Json leaf(int depth) {
    const double x = r();
    if (x < 0.10) return {{"type", "string"}, {"maxLength", 1 + n(24)}};
    if (x < 0.16) return {{"type", "string"}};  // free text (code, messages)
    if (x < 0.22)
      return {
          {"type", "string"},
          {"format", pick<const char*>({"date", "date-time", "uuid", "email", "time", "ipv4"})}};
    if (x < 0.28)
      return {{"type", "string"},
              {"pattern", pick<const char*>({"^[A-Z]{2,3}-[0-9]{3}$", "^[a-z]+(_[a-z]+)?$",
                                             "^\\d{5}$", "^(red|green|blue)$", "^.{1,12}$"})}};
    if (x < 0.36) return {{"type", "integer"}, {"minimum", -n(100)}, {"maximum", n(1000)}};
    if (x < 0.42) return {{"type", "number"}, {"minimum", 0}, {"maximum", 1 + n(500)}};
    if (x < 0.46) return {{"type", "number"}};
    if (x < 0.50) return {{"type", "boolean"}};
    if (x < 0.56) {
      Json e = Json::array({"low", "medium", "high", 1, nullptr});
      e.erase(e.begin() + 2 + n(4), e.end());
      return {{"enum", e}};
    }
    if (x < 0.60) return {{"const", pick<Json>({"v1", 2, true})}};
    if (x < 0.66) return {{"type", Json::array({"string", "null"})}, {"maxLength", 10}};
    if (x < 0.70)
      return {{"anyOf", Json::array({{{"type", "integer"}, {"minimum", 0}, {"maximum", 9}},
                                     {{"type", "string"}, {"maxLength", 6}}})}};
    if (x < 0.72) return {{"type", Json::array({"integer", "null"})}};
    if (depth < 2 && x < 0.86)
      return {{"type", "array"},
              {"items", leaf(depth + 1)},
              {"minItems", n(2)},
              {"maxItems", 2 + n(3)}};
    if (depth < 2) return object(depth + 1);
    return {{"type", "string"}, {"maxLength", 8}};
  }
  Json object(int depth) {
    static const char* words[] = {"id",   "name", "title", "email", "status", "count", "price",
                                  "tags", "city", "zip",   "score", "kind",   "level", "note"};
    Json o = {{"type", "object"}, {"properties", Json::object()}, {"required", Json::array()}};
    for (int i = 0, k = 1 + n(5); i < k; ++i) {
      const std::string key = std::string(words[n(14)]) + (i ? "_" + std::to_string(i) : "");
      o["properties"][key] = leaf(depth);
      if (r() < 0.7) o["required"].push_back(key);
    }
    if (r() < 0.5) o["additionalProperties"] = false;
    return o;
  }
  Json tools(int i) {
    Json t = Json::array();
    for (int k = 0, m = 1 + n(3); k < m; ++k) {
      Json params = object(1);
      if (r() < 0.3) {
        params["$defs"] = {{"point",
                            {{"type", "object"},
                             {"properties",
                              {{"x", {{"type", "number"}, {"minimum", -10}, {"maximum", 10}}},
                               {"y", {{"type", "integer"}, {"minimum", 0}, {"maximum", 99}}}}},
                             {"required", {"x", "y"}},
                             {"additionalProperties", false}}}};
        params["properties"]["location"] = {{"$ref", "#/$defs/point"}};
      }
      t.push_back({{"type", "function"},
                   {"function",
                    {{"name", "fn_" + std::to_string(i) + "_" + std::to_string(k)},
                     {"parameters", params}}}});
    }
    return t;
  }
};

// A random text of the grammar: at each step a random piece of text that the matcher
// accepts (characters of many kinds, whole tags, the tool-call markers), ending chunks
// first once the text is long, the end when the grammar allows it and a coin says so.
std::string walk(const std::shared_ptr<const text::CompiledGrammar>& g, std::mt19937& rng,
                 const std::vector<std::string>& words) {
  engine::GrammarMatcher m(g);
  std::vector<std::string> pieces;
  for (char c = 32; c < 127; ++c) pieces.emplace_back(1, c);
  for (const char* s : {"\n", "\t", "é", "日本", "🎉", "</p", "<param", "</parameter", "</fun"})
    pieces.emplace_back(s);
  for (const auto& w : words) pieces.push_back(w);
  const std::vector<std::string> enders = {
      "\n</parameter>\n",
      "</function>\n",
      text::special_token_bytes(*tokenizer().token_id("</tool_call>")),
      "\n",
      "\"",
      "]",
      "}",
      "0",
      "a"};
  pieces.push_back(text::special_token_bytes(*tokenizer().token_id("<tool_call>")));
  std::string out;
  for (int step = 0; step < 4000; ++step) {
    if (m.accepting() && (m.finished() || std::uniform_int_distribution<int>(0, 3)(rng) == 0))
      return out;
    std::vector<const std::string*> order;
    for (const auto& p : pieces) order.push_back(&p);
    std::shuffle(order.begin(), order.end(), rng);
    const bool end_first = out.size() > 80 || std::uniform_int_distribution<int>(0, 4)(rng) == 0;
    for (auto it = enders.rbegin(); it != enders.rend(); ++it)
      order.insert(end_first ? order.begin() : order.end(), &*it);
    bool moved = false;
    for (const std::string* p : order)
      if (m.advance(*p)) {
        out += *p;
        moved = true;
        break;
      }
    if (!moved) {
      ADD_FAILURE() << "the grammar allows none of the pieces after: "
                    << Json(out).dump(-1, ' ', false, Json::error_handler_t::replace);
      return out;
    }
  }
  ADD_FAILURE() << "the walk did not end: " << out;
  return out;
}

// The call as the text spells it, read without the parser: one parameter per
// "<parameter=K>\n" ... "\n</parameter>\n".
std::vector<std::pair<std::string, std::string>> spelled(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while ((pos = body.find("<parameter=", pos)) != std::string::npos) {
    const std::size_t gt = body.find(">\n", pos);
    const std::size_t end = body.find("\n</parameter>\n", gt);
    out.emplace_back(body.substr(pos + 11, gt - pos - 11), body.substr(gt + 2, end - gt - 2));
    pos = end + 14;
  }
  return out;
}

TEST(ToolCallXmlGrammar, SampledCallsParseBackAndValidate) {
  const std::string open = text::special_token_bytes(*tokenizer().token_id("<tool_call>"));
  const std::string close = text::special_token_bytes(*tokenizer().token_id("</tool_call>"));
  Gen gen(13);
  std::mt19937 rng(5);
  Json cases = Json::array();
  int calls = 0;
  for (int i = 0; i < 40; ++i) {
    const Json tools = gen.tools(i);
    StructuredOutputConfig so;
    so.tool_mode = StructuredOutputConfig::ToolMode::kRequired;
    so.tools_json = tools.dump();
    so.parallel_tool_calls = i % 2 == 0;
    if (i % 3 == 2) so.tool_name = tools[0]["function"]["name"].get<std::string>();
    std::shared_ptr<const text::CompiledGrammar> g;
    try {
      g = engine::compile_structured_output(so, &tokenizer(), text::ToolCallFormat::kXml);
    } catch (const std::exception& e) {
      FAIL() << "tool set " << i << ": " << e.what() << "\n" << tools.dump();
    }
    std::vector<std::string> words;
    for (const auto& t : tools) {
      words.push_back("\n<function=" + t["function"]["name"].get<std::string>() + ">\n");
      for (const auto& [k, v] : t["function"]["parameters"]["properties"].items())
        words.push_back("<parameter=" + k + ">\n");
    }
    for (int rep = 0; rep < 3; ++rep) {
      SCOPED_TRACE("tool set " + std::to_string(i) + ": " + tools.dump());
      const std::string text = walk(g, rng, words);
      std::size_t at = 0;
      int n = 0;
      while ((at = text.find(open, at)) != std::string::npos) {
        const std::size_t end = text.find(close, at);
        ASSERT_NE(end, std::string::npos) << text;
        const std::string body = text.substr(at + open.size(), end - at - open.size());
        at = end + close.size();
        ++n;
        const auto call = text::parse_xml_tool_call(body, tools);
        ASSERT_TRUE(call) << body;
        const Json* fn = nullptr;
        for (const auto& t : tools)
          if (t["function"]["name"] == call->name) fn = &t["function"];
        ASSERT_TRUE(fn) << call->name;
        if (!so.tool_name.empty()) {
          EXPECT_EQ(call->name, so.tool_name);
        }
        const Json args = Json::parse(call->arguments);
        const auto params = spelled(body);
        ASSERT_EQ(args.size(), params.size()) << body << "\n" << call->arguments;
        for (const auto& [k, raw] : params) {
          ASSERT_TRUE(args.contains(k)) << k << " in " << body;
          const auto t = text::xml_param_type(tools, call->name, k);
          if (text::xml_string_like(t.type) && !args[k].is_null()) {
            EXPECT_EQ(args[k], raw) << body;
          }
        }
        cases.push_back({{"name", "set " + std::to_string(i) + " " + call->name},
                         {"schema", (*fn)["parameters"]},
                         {"text", call->arguments}});
        ++calls;
      }
      EXPECT_GE(n, 1) << text;
      if (!so.parallel_tool_calls) {
        EXPECT_EQ(n, 1) << text;
      }
    }
  }
  EXPECT_GE(calls, 120);
  EXPECT_EQ(run_ajv(cases, "walk"), 0);
}

TEST(ToolCallXmlGrammar, FreeTextNeverEndsAValue) {
  const auto g = std::make_shared<text::CompiledGrammar>(
      text::compile_gbnf("root ::= " + text::xml_free_text_gbnf() + "\n"));
  auto accepts = [&](const std::string& s) {
    engine::GrammarMatcher m(g);
    return m.advance(s) && m.accepting();
  };
  for (const char* ok : {"", "a < b", "<<", "x <p> y", "</div>", "<parameter", "</parameter",
                         "a</function", "<<parameter x", "</p\n", "if (a<b) {}", "<"})
    EXPECT_TRUE(accepts(ok)) << ok;
  for (const char* bad :
       {"</parameter>", "a<parameter=b", "x</function>y", "<</parameter>", "<pa<parameter="})
    EXPECT_FALSE(accepts(bad)) << bad;
}

TEST(ToolCallXmlGrammar, UnwritableToolsAreClearErrors) {
  auto err = [](const std::string& tools) {
    StructuredOutputConfig so;
    so.tool_mode = StructuredOutputConfig::ToolMode::kRequired;
    so.tools_json = tools;
    try {
      engine::structured_output_gbnf(so, nullptr, text::ToolCallFormat::kXml);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err(R"([{"type":"function","function":{"name":"a>b","parameters":{}}}])")
                .find("cannot be written"),
            std::string::npos);
  EXPECT_NE(err(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object",
      "properties":{"p":{"type":"string","enum":[1,2]}}}}}])")
                .find("parameter 'p' of 'f'"),
            std::string::npos);
  EXPECT_NE(err(R"([{"type":"function","function":{"name":"f","parameters":{"anyOf":[]}}}])")
                .find("anyOf"),
            std::string::npos);
  EXPECT_EQ(err(R"([{"type":"function","function":{"name":"f"}}])"), "");
}

// A tokenizer folder whose chat template is Qwen3-Coder's.
Tokenizer coder_tokenizer() {
  const fs::path dir = fs::path(QWEN3_BUILD_DIR) / "tok_xml_grammar_coder";
  fs::create_directories(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fs::path(QWEN3_TOKENIZER_DIR) / f, dir / f, fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(QWEN3_SOURCE_DIR) / "tests/golden/templates/qwen3-coder.jinja",
                dir / "chat_template.jinja", fs::copy_options::overwrite_existing);
  return Tokenizer::from_file(dir.string());
}

TEST(ToolCallXmlGrammar, CoderModelForcedCallsAreToolCalls) {
  static const Tokenizer tok = coder_tokenizer();
  engine::register_backend("hash-xml-coder", [](const engine::BackendOptions& o) {
    return std::unique_ptr<engine::Backend>(std::make_unique<engine::testing::HashChainBackend>(
        tok.n_vocab(), o.n_ctx ? o.n_ctx : 8192, tok));
  });
  Pipeline p("unused", "CPU", {{"backend", "hash-xml-coder"}, {"n_ctx", "8192"}});
  Gen gen(29);
  Json cases = Json::array();
  int finished = 0;
  for (int i = 0; i < 10; ++i) {
    const Json tools = gen.tools(100 + i);
    GenerationConfig c;
    c.max_new_tokens = 512;
    c.min_reply_tokens = 512;
    c.seed = 700 + static_cast<std::uint64_t>(i);
    if (i % 2 == 0) c.temperature = 0.0f;
    c.enable_thinking = i % 4 >= 2;
    StructuredOutputConfig so;
    so.tool_mode = StructuredOutputConfig::ToolMode::kRequired;
    so.tools_json = tools.dump();
    so.parallel_tool_calls = i % 3 == 0;
    if (i % 5 == 4) so.tool_name = tools[0]["function"]["name"].get<std::string>();
    c.structured_output = so;
    ChatHistory h;
    h.tools_json = tools.dump();
    h.push_back(ChatMessage::user("Use a tool."));
    const DecodedResult r = p.generate(h, c);
    if (r.finish_reason == FinishReason::kLength) continue;
    ++finished;
    ASSERT_EQ(r.finish_reason, FinishReason::kToolCalls) << r.text;
    ASSERT_FALSE(r.tool_calls.empty()) << r.text;
    EXPECT_EQ(r.text, "");
    if (!so.parallel_tool_calls) {
      EXPECT_EQ(r.tool_calls.size(), 1u);
    }
    for (const auto& call : r.tool_calls) {
      if (!so.tool_name.empty()) {
        EXPECT_EQ(call.name, so.tool_name);
      }
      for (const auto& t : tools)
        if (t["function"]["name"] == call.name)
          cases.push_back({{"name", "coder " + std::to_string(i) + " " + call.name},
                           {"schema", t["function"]["parameters"]},
                           {"text", call.arguments}});
    }
  }
  EXPECT_GE(finished, 6);
  EXPECT_EQ(run_ajv(cases, "coder"), 0);
}

}  // namespace
}  // namespace qwen3
