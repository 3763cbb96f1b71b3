// Output parsing per template family: Qwen3-Coder's XML tool calls (typed by the tools'
// schema), output that starts inside reasoning (Thinking-2507 / QwQ generation prompts
// end with "<think>\n"), and the property that whole text, random byte cuts and real
// token ids (tokenizer.json of the reference package) give the same message, over
// generated outputs whose expected message is known.
#include <gtest/gtest.h>

#include <random>

#include "text/chat_template.h"
#include "text/stream_parser.h"
#include "text/tokenizer.h"
#include "text/tool_call.h"
#include "tokenizer_test_util.h"
#include "tool_schema_util.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

const Tokenizer& tok() {
  return test::qwen3_tokenizer();
}

const ojson kTools = ojson::array(
    {test::run_tool(),
     ojson::parse(
         R"({"name": "bare", "parameters": {"properties": {"n": {"type": "integer"}}}})")});

StreamParserOptions xml_options(bool thinking_open = false) {
  StreamParserOptions o;
  o.tool_format = ToolCallFormat::kXml;
  o.tools = kTools;
  o.starts_in_reasoning = thinking_open;
  o.id_seed = 7;
  return o;
}

TEST(StreamParserXml, CoderToolCallBecomesTypedArguments) {
  const std::string raw =
      "I will run it.\n<tool_call>\n<function=run>\n<parameter=command>\nls -la\n  two lines\n"
      "</parameter>\n<parameter=timeout>\n30\n</parameter>\n<parameter=ratio>\n0.5\n</parameter>\n"
      "<parameter=force>\nTrue\n</parameter>\n<parameter=env>\n{\"A\": \"1\"}\n</parameter>\n"
      "<parameter=args>\n[1, \"x\"]\n</parameter>\n<parameter=maybe>\nnull\n</parameter>\n"
      "<parameter=unknown>\n42\n</parameter>\n</function>\n</tool_call>";
  auto m = parse_output_text(raw, xml_options());
  EXPECT_EQ(m.content, "I will run it.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].name, "run");
  EXPECT_EQ(
      m.tool_calls[0].arguments,
      R"({"command":"ls -la\n  two lines","timeout":30,"ratio":0.5,"force":true,"env":{"A":"1"},)"
      R"("args":[1,"x"],"maybe":null,"unknown":"42"})");
  EXPECT_EQ(m.tool_calls[0].id.substr(0, 5), "call_");
}

TEST(StreamParserXml, ValuesThatDoNotConvertStayStrings) {
  auto c = parse_xml_tool_call(
      "<function=run>\n<parameter=timeout>\nsoon\n</parameter>\n<parameter=force>\nmaybe\n</"
      "parameter>\n"
      "<parameter=env>\n{not json\n</parameter>\n</function>",
      kTools);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->arguments, R"({"timeout":"soon","force":"maybe","env":"{not json"})");
  auto bare = parse_xml_tool_call(
      "\n<function=bare>\n<parameter=n>\n-3\n</parameter>\n</function>\n", kTools);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->arguments, R"({"n":-3})");
  // Unterminated parameters end at the next parameter or the end of the function.
  auto open = parse_xml_tool_call("<function=bare>\n<parameter=n>\n5\n<parameter=m>\nx", kTools);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->arguments, R"({"n":5,"m":"x"})");
  EXPECT_FALSE(parse_xml_tool_call("{\"name\": \"run\"}", kTools));
  EXPECT_FALSE(parse_xml_tool_call("<function=>\n</function>", kTools));
}

TEST(StreamParserXml, JsonFormStaysTextForCoderAndXmlStaysTextForJson) {
  auto m = parse_output_text("<tool_call>\n{\"name\": \"run\", \"arguments\": {}}\n</tool_call>",
                             xml_options());
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.content, "<tool_call>\n{\"name\": \"run\", \"arguments\": {}}\n</tool_call>");
  auto j = parse_output_text("<tool_call>\n<function=run>\n</function>\n</tool_call>");
  EXPECT_TRUE(j.tool_calls.empty());
}

TEST(StreamParserXml, ThinkingOpenOutputStartsInReasoning) {
  auto m = parse_output_text(
      "The user wants a listing.\n</think>\n\n<tool_call>\n<function=run>\n"
      "<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>",
      xml_options(true));
  EXPECT_EQ(m.reasoning_content, "The user wants a listing.");
  EXPECT_EQ(m.content, "");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"command":"ls"})");
}

TEST(StreamParserXml, FamilyDetectionChoosesTheForm) {
  EXPECT_EQ(detect_family("").tool_calls, ToolCallFormat::kJson);
  EXPECT_TRUE(detect_family("").native);
  EXPECT_TRUE(detect_family("").thinking_switch);
  const auto coder = detect_family(
      "{{- '\\n<tool_call>\\n<function=' + tool_call.name + '>\\n' }}"
      "{%- for a, v in tool_call.arguments|items %}{% endfor %}");
  EXPECT_EQ(coder.tool_calls, ToolCallFormat::kXml);
  EXPECT_TRUE(coder.arguments_as_object);
  EXPECT_FALSE(coder.thinking_switch);
  EXPECT_FALSE(thinking_switch_note(coder, false).empty());
  EXPECT_FALSE(thinking_switch_note(coder, std::nullopt, "hi /no_think").empty());
  EXPECT_TRUE(thinking_switch_note(coder, std::nullopt, "hi").empty());
  EXPECT_TRUE(thinking_switch_note(detect_family(""), false, "/no_think").empty());
}

// Generated outputs: reasoning, content and XML calls in random order, with tags as
// special tokens, odd whitespace, unicode; the expected message is built alongside.
struct Generated {
  std::string raw;
  std::string reasoning;
  std::vector<std::pair<std::string, std::string>> calls;  // name, arguments JSON
};

Generated generate(std::mt19937& rng, bool thinking_open) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  static const char* kWords[] = {"ls",         "héllo", "日本", "🎉",    "a b", "x=1",
                                 "{\"k\": 2}", "[3]",   "<",    ">",    "/",   "<b>",
                                 "tool",       "param", "\\",   "\"q\""};
  auto words = [&](int max) {
    std::string s;
    for (int i = pick(max) + 1; i > 0; --i) s += std::string(i > 1 ? " " : "") + kWords[pick(16)];
    return s;
  };
  Generated g;
  if (thinking_open) {
    g.reasoning = words(6);
    g.raw = g.reasoning + "\n</think>\n\n";
  }
  for (int k = pick(3) + 1; k > 0; --k) {
    g.raw += "<tool_call>\n<function=run>\n";
    ojson args = ojson::object();
    if (pick(2)) {
      const std::string cmd = words(4);
      g.raw += "<parameter=command>\n" + cmd + "\n</parameter>\n";
      args["command"] = cmd;
    }
    if (pick(2)) {
      const int t = pick(1000) - 10;
      g.raw += "<parameter=timeout>\n" + std::to_string(t) + "\n</parameter>\n";
      args["timeout"] = t;
    }
    if (pick(2)) {
      const bool f = pick(2);
      g.raw += std::string("<parameter=force>\n") + (f ? "true" : "false") + "\n</parameter>\n";
      args["force"] = f;
    }
    g.raw += "</function>\n</tool_call>" + std::string(pick(2), '\n');
    g.calls.emplace_back("run", args.dump());
  }
  return g;
}

TEST(StreamParserXml, WholeTextByteCutsAndTokensAgree) {
  std::mt19937 rng(20261203);
  for (int i = 0; i < 600; ++i) {
    const bool thinking_open = i % 3 == 0;
    const Generated g = generate(rng, thinking_open);
    SCOPED_TRACE(g.raw);
    const auto whole = parse_output_text(g.raw, xml_options(thinking_open));
    EXPECT_EQ(whole.reasoning_content, g.reasoning);
    EXPECT_EQ(whole.content, "");
    ASSERT_EQ(whole.tool_calls.size(), g.calls.size());
    for (size_t k = 0; k < g.calls.size(); ++k) {
      EXPECT_EQ(whole.tool_calls[k].name, g.calls[k].first);
      EXPECT_EQ(whole.tool_calls[k].arguments, g.calls[k].second);
    }
    // Random byte cuts.
    OutputParser p(xml_options(thinking_open));
    std::vector<StreamEvent> ev;
    size_t pos = 0;
    while (pos < g.raw.size()) {
      const size_t n = std::min<size_t>(g.raw.size() - pos, 1 + rng() % 7);
      p.push_text(std::string_view(g.raw).substr(pos, n), ev);
      pos += n;
    }
    p.finish(StreamEnd::kLength, ev);
    EXPECT_EQ(p.message().to_json(), whole.to_json());
    // Real token ids, one by one (tags arrive as special tokens).
    const auto by_ids =
        parse_output_ids(tok(), tok().encode(g.raw, true), xml_options(thinking_open));
    EXPECT_EQ(by_ids.to_json(), whole.to_json());
  }
}

}  // namespace
}  // namespace qwen3::text
