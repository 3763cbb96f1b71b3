// Tool calls streamed in pieces (text/tool_call_stream, through text::OutputParser and the
// token-level StreamParser): over generated calls in the JSON form and Qwen3-Coder's XML
// form, cut at random byte boundaries or fed as real token ids, the argument pieces joined
// equal the final `arguments` byte for byte, parse as JSON equal to the arguments written
// (nlohmann as the independent reader), the header (id, name) comes first, and no tag or
// part of one ever reaches the content.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/stream_parser.h"
#include "text/tokenizer.h"
#include "text/tool_call.h"
#include "tokenizer_test_util.h"
#include "tool_schema_util.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;
using Type = StreamEvent::Type;

const Tokenizer& tok() {
  return test::qwen3_tokenizer();
}

const ojson kTools = ojson::array({test::run_tool()});

struct Expected {
  std::string raw;
  std::string content;  // the visible text around the calls
  std::vector<std::pair<std::string, ojson>> calls;
};

int pick(std::mt19937& rng, int n) {
  return std::uniform_int_distribution<int>(0, n - 1)(rng);
}

const char* kWords[] = {"ls",  "héllo", "日本", "🎉",  "a b", "x=1",   "{\"k\": 2}",
                        "[3]", "<",     ">",    "/",  "<b>", "null",  "NULL",
                        "\\",  "\"q\"", "\n",   "\t", "</p", "<param"};

std::string words(std::mt19937& rng, int max) {
  std::string s;
  for (int i = pick(rng, max) + 1; i > 0; --i) s += kWords[pick(rng, 20)];
  return s;
}

ojson value(std::mt19937& rng, int depth) {
  switch (pick(rng, depth > 2 ? 5 : 7)) {
    case 0:
      return words(rng, 4);
    case 1:
      return pick(rng, 2000) - 1000;
    case 2:
      return pick(rng, 1000) / 8.0;
    case 3:
      return pick(rng, 2) == 1;
    case 4:
      return nullptr;
    case 5: {
      ojson a = ojson::array();
      for (int i = pick(rng, 4); i > 0; --i) a.push_back(value(rng, depth + 1));
      return a;
    }
    default: {
      ojson o = ojson::object();
      for (int i = pick(rng, 4); i > 0; --i)
        o["k" + std::to_string(i) + words(rng, 1)] = value(rng, depth + 1);
      return o;
    }
  }
}

// JSON text with random whitespace between tokens (the model's own spacing).
std::string spaced(std::mt19937& rng, const ojson& v) {
  static const char* kWs[] = {"", "", " ", "\n", "  ", "\n  "};
  auto ws = [&] { return std::string(kWs[pick(rng, 6)]); };
  if (v.is_object()) {
    std::string s = "{" + ws();
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      if (!first) s += "," + ws();
      first = false;
      s += ojson(k).dump() + ws() + ":" + ws() + spaced(rng, x) + ws();
    }
    return s + "}";
  }
  if (v.is_array()) {
    std::string s = "[" + ws();
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," + ws() : "") + spaced(rng, v[i]) + ws();
    return s + "]";
  }
  return v.dump();
}

Expected generate_json(std::mt19937& rng) {
  Expected e;
  if (pick(rng, 2)) {
    e.content = "Let me " + std::string(pick(rng, 2) ? "check" : "see") + ".";
    e.raw = e.content + "\n\n";
  }
  for (int k = pick(rng, 3) + 1; k > 0; --k) {
    ojson args = ojson::object();
    for (int i = pick(rng, 5); i > 0; --i) args["p" + std::to_string(i)] = value(rng, 0);
    const std::string name = pick(rng, 2) ? "get_weather" : "fn_" + std::to_string(pick(rng, 99));
    const char* key = pick(rng, 5) ? "arguments" : "parameters";
    e.raw += "<tool_call>\n{\"name\": " + ojson(name).dump() + ", \"" + key +
             "\": " + spaced(rng, args) + "}\n</tool_call>" + std::string(pick(rng, 2), '\n');
    e.calls.emplace_back(name, args);
  }
  return e;
}

Expected generate_xml(std::mt19937& rng) {
  Expected e;
  for (int k = pick(rng, 3) + 1; k > 0; --k) {
    e.raw += "<tool_call>\n<function=run>\n";
    ojson args = ojson::object();
    auto param = [&](const std::string& name, const std::string& text, ojson v) {
      e.raw += "<parameter=" + name + ">\n" + text + "\n</parameter>\n";
      args[name] = std::move(v);
    };
    if (pick(rng, 2)) {
      // A declared string that is not nullable: "null" is the text "null".
      const std::string cmd = words(rng, 5);
      param("command", cmd, ojson(cmd));
    }
    if (pick(rng, 2)) {
      const int t = pick(rng, 1000) - 10;
      param("timeout", std::to_string(t), t);
    }
    if (pick(rng, 2)) param("ratio", "0.25", 0.25);
    if (pick(rng, 2)) {
      const bool f = pick(rng, 2);
      param("force", f ? "true" : "false", f);
    }
    if (pick(rng, 2)) {
      const ojson env = {{"A", words(rng, 2)}, {"n", pick(rng, 9)}};
      param("env", spaced(rng, env), env);
    }
    if (pick(rng, 2)) {
      const std::string w = words(rng, 3);
      param("note", w, w);  // undeclared: a string
    }
    e.raw += "</function>\n</tool_call>" + std::string(pick(rng, 2), '\n');
    e.calls.emplace_back("run", args);
  }
  return e;
}

// What a client assembles from the events, checked against the message as it goes.
struct Assembled {
  std::string content;
  std::vector<ToolCall> begun;        // id, name, joined argument pieces
  std::vector<ToolCall> final_calls;  // kToolCall events
};

void collect(const std::vector<StreamEvent>& ev, Assembled& a) {
  for (const auto& e : ev) {
    switch (e.type) {
      case Type::kContent:
        a.content += e.text;
        EXPECT_EQ(e.text.find("<tool_call"), std::string::npos) << e.text;
        EXPECT_EQ(e.text.find("</tool"), std::string::npos) << e.text;
        EXPECT_EQ(e.text.find("<|"), std::string::npos) << e.text;
        break;
      case Type::kToolCallBegin:
        ASSERT_EQ(e.index, static_cast<int>(a.begun.size()));
        EXPECT_TRUE(e.tool_call.arguments.empty());
        a.begun.push_back(e.tool_call);
        break;
      case Type::kToolCallArguments:
        ASSERT_EQ(e.index + 1, static_cast<int>(a.begun.size()));
        EXPECT_FALSE(e.text.empty());
        a.begun.back().arguments += e.text;
        break;
      case Type::kToolCall:
        ASSERT_EQ(e.index + 1, static_cast<int>(a.begun.size()));
        ASSERT_EQ(e.index, static_cast<int>(a.final_calls.size()));
        a.final_calls.push_back(e.tool_call);
        break;
      default:
        break;
    }
  }
}

void check(const Expected& x, const Assembled& a, const ParsedMessage& m) {
  EXPECT_EQ(a.content, x.content);
  EXPECT_EQ(m.content, x.content);
  ASSERT_EQ(a.begun.size(), x.calls.size());
  ASSERT_EQ(a.final_calls.size(), x.calls.size());
  ASSERT_EQ(m.tool_calls.size(), x.calls.size());
  for (size_t k = 0; k < x.calls.size(); ++k) {
    EXPECT_EQ(a.begun[k].name, x.calls[k].first);
    EXPECT_EQ(a.begun[k].id, m.tool_calls[k].id);
    EXPECT_EQ(a.final_calls[k].id, m.tool_calls[k].id);
    // The pieces joined are the final arguments, exactly, and they are the JSON written.
    EXPECT_EQ(a.begun[k].arguments, m.tool_calls[k].arguments);
    EXPECT_EQ(a.final_calls[k].arguments, m.tool_calls[k].arguments);
    ojson parsed;
    ASSERT_NO_THROW(parsed = ojson::parse(m.tool_calls[k].arguments)) << m.tool_calls[k].arguments;
    EXPECT_EQ(parsed, x.calls[k].second) << m.tool_calls[k].arguments;
  }
}

void run_cases(bool xml, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  StreamParserOptions o;
  o.id_seed = 11;
  if (xml) {
    o.tool_format = ToolCallFormat::kXml;
    o.tools = kTools;
  }
  for (int i = 0; i < n; ++i) {
    const Expected x = xml ? generate_xml(rng) : generate_json(rng);
    SCOPED_TRACE(x.raw);
    // Whole, then random byte cuts, then real token ids one by one.
    for (int mode = 0; mode < 3; ++mode) {
      Assembled a;
      if (mode < 2) {
        OutputParser p(o);
        std::vector<StreamEvent> ev;
        size_t pos = 0;
        while (pos < x.raw.size()) {
          const size_t len = mode == 0 ? x.raw.size() : 1 + rng() % 6;
          p.push_text(std::string_view(x.raw).substr(pos, len), ev);
          pos += len;
        }
        p.finish(StreamEnd::kLength, ev);
        collect(ev, a);
        check(x, a, p.message());
      } else {
        StreamParser p(tok(), o);
        for (int32_t id : tok().encode(x.raw + "<|im_end|>", true)) collect(p.push(id), a);
        check(x, a, p.message());
      }
    }
  }
}

TEST(ToolCallStream, JsonCallsStreamTheirArguments) {
  run_cases(false, 300, 20261206);
}

TEST(ToolCallStream, XmlCallsStreamJsonArguments) {
  run_cases(true, 300, 20261207);
}

TEST(ToolCallStream, ArgumentsArriveBeforeTheBlockEnds) {
  OutputParser p;
  std::vector<StreamEvent> ev;
  p.push_text("<tool_call>\n{\"name\": \"f\", \"arg", ev);
  EXPECT_TRUE(ev.empty());
  p.push_text("uments\": {\"city\": \"Par", ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, Type::kToolCallBegin);
  EXPECT_EQ(ev[0].tool_call.name, "f");
  EXPECT_EQ(ev[1].type, Type::kToolCallArguments);
  EXPECT_EQ(ev[1].text, "{\"city\":\"Par");
  ev.clear();
  p.push_text("is\",  \"n\": 12", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "is\",\"n\":12");
  ev.clear();
  p.push_text("}}\n</tool_call>", ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].text, "}");
  EXPECT_EQ(ev[1].type, Type::kToolCall);
  EXPECT_EQ(ev[1].tool_call.arguments, "{\"city\":\"Paris\",\"n\":12}");

  // XML: a string value streams, escaped; a typed one comes whole.
  StreamParserOptions o;
  o.tool_format = ToolCallFormat::kXml;
  o.tools = kTools;
  OutputParser x(o);
  ev.clear();
  x.push_text("<tool_call>\n<function=run>\n<parameter=command>\nls \"a\"\n", ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].text, "{\"command\":\"ls \\\"a\\\"");
  ev.clear();
  x.push_text("-l</parameter>\n<parameter=timeout>\n3", ev);
  ASSERT_EQ(ev.size(), 1u);  // the held newline was part of the value
  EXPECT_EQ(ev[0].text, "\\n-l\",\"timeout\":");
  ev.clear();
  x.push_text("0\n</parameter>\n</function>\n</tool_call>", ev);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].text, "30");
  EXPECT_EQ(ev[1].text, "}");
  EXPECT_EQ(ev[2].tool_call.arguments, "{\"command\":\"ls \\\"a\\\"\\n-l\",\"timeout\":30}");
}

TEST(ToolCallStream, OtherShapesComeWholeAndACutCallKeepsItsArguments) {
  // Arguments before the name, or as a string: one piece when the block ends.
  auto m = parse_output_text(
      "<tool_call>{\"arguments\": {\"a\": 1}, \"name\": \"g\"}</tool_call>"
      "<tool_call>{\"name\": \"h\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].arguments, "{\"a\":1}");
  EXPECT_EQ(m.tool_calls[1].arguments, "{\"x\": 1}");
  // A call cut by max_tokens after it began is still a call (as OpenAI's are), with the
  // arguments written so far; before its arguments began it is text.
  auto cut = parse_output_text("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [1, ");
  ASSERT_EQ(cut.tool_calls.size(), 1u);
  EXPECT_EQ(cut.tool_calls[0].arguments, "{\"a\":[1,");
  EXPECT_EQ(cut.content, "");
  // Repeated XML parameter: the first value stays (the stream cannot take back a piece).
  auto dup = parse_xml_tool_call(
      "<function=run>\n<parameter=timeout>\n1\n</parameter>\n<parameter=timeout>\n2\n</parameter>\n"
      "</function>",
      kTools);
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->arguments, "{\"timeout\":1}");
}

}  // namespace
}  // namespace qwen3::text
