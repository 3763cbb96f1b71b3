// Text-level rules of the streaming output parser, and the property that the final
// message does not depend on how the output bytes are cut into pieces.
#include <gtest/gtest.h>

#include <random>

#include "text/stream_parser.h"
#include "text/utf8.h"

namespace qwen3::text {
namespace {

using Type = StreamEvent::Type;

struct Fed {
  std::vector<StreamEvent> events;
  ParsedMessage msg;
};

// Feeds `pieces` one at a time, then finishes with kLength.
Fed feed(const std::vector<std::string>& pieces, StreamParserOptions opt = {}) {
  OutputParser p(opt);
  Fed f;
  for (const auto& s : pieces) p.push_text(s, f.events);
  p.finish(StreamEnd::kLength, f.events);
  f.msg = p.message();
  return f;
}

ParsedMessage parse(const std::string& s, StreamParserOptions opt = {}) {
  return parse_output_text(s, opt);
}

TEST(StreamParser, PlainContent) {
  auto m = parse("Hello, world!");
  EXPECT_EQ(m.content, "Hello, world!");
  EXPECT_EQ(m.reasoning_content, "");
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.end, StreamEnd::kLength);
}

TEST(StreamParser, ThinkBlockIsReasoningAndBlankLinesAroundItGo) {
  auto m = parse("<think>\nLet me think.\n\nStep two.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(m.reasoning_content, "Let me think.\n\nStep two.");
  EXPECT_EQ(m.content, "The answer is 4.");
}

TEST(StreamParser, EmptyThinkBlock) {
  auto m = parse("<think>\n\n</think>\n\nHi");
  EXPECT_EQ(m.reasoning_content, "");
  EXPECT_EQ(m.content, "Hi");
}

TEST(StreamParser, StartsInReasoning) {
  StreamParserOptions o;
  o.starts_in_reasoning = true;
  auto m = parse("I should greet.\n</think>\n\nHello!", o);
  EXPECT_EQ(m.reasoning_content, "I should greet.");
  EXPECT_EQ(m.content, "Hello!");
  auto cut = parse("still thinking", o);
  EXPECT_EQ(cut.reasoning_content, "still thinking");
  EXPECT_EQ(cut.content, "");
}

TEST(StreamParser, ThinkingDisabledHasNoBlock) {
  auto m = parse("Paris is the capital of France.\n");
  EXPECT_EQ(m.content, "Paris is the capital of France.\n");  // newlines before the end stay
  EXPECT_EQ(m.reasoning_content, "");
}

TEST(StreamParser, ToolCallsAreExtracted) {
  auto m = parse(
      "Let me check.\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", "
      "\"arguments\": {}}\n</tool_call>");
  EXPECT_EQ(m.content, "Let me check.");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].name, "get_weather");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"city":"Paris","days":2})");
  EXPECT_EQ(m.tool_calls[1].name, "get_time");
  EXPECT_EQ(m.tool_calls[1].arguments, "{}");
  EXPECT_EQ(m.tool_calls[0].id.rfind("call_", 0), 0u);
  EXPECT_EQ(m.tool_calls[0].id.size(), 29u);
  EXPECT_NE(m.tool_calls[0].id, m.tool_calls[1].id);
}

TEST(StreamParser, ToolCallArgumentForms) {
  auto m = parse(
      "<tool_call>{\"name\": \"a\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>"
      "<tool_call>{\"name\": \"b\"}</tool_call>"
      "<tool_call>{\"arguments\": {\"é\": \"日本\"}, \"name\": \"c\"}</tool_call>");
  ASSERT_EQ(m.tool_calls.size(), 3u);
  EXPECT_EQ(m.tool_calls[0].arguments, "{\"x\": 1}");  // a string is already JSON text
  EXPECT_EQ(m.tool_calls[1].arguments, "{}");
  EXPECT_EQ(m.tool_calls[2].arguments, "{\"é\":\"日本\"}");
  EXPECT_EQ(m.content, "");
}

TEST(StreamParser, BadToolCallStaysVisible) {
  const std::string not_json = "<tool_call>\n{\"name\": get_weather}\n</tool_call>";
  auto m = parse("Trying:\n" + not_json);
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.content, "Trying:" + not_json);
  auto no_name = parse("<tool_call>{\"arguments\": {}}</tool_call>");
  EXPECT_TRUE(no_name.tool_calls.empty());
  EXPECT_EQ(no_name.content, "<tool_call>{\"arguments\": {}}</tool_call>");
  auto array = parse("<tool_call>[1, 2]</tool_call> after");
  EXPECT_EQ(array.content, "<tool_call>[1, 2]</tool_call> after");
}

TEST(StreamParser, UnclosedToolCallAtTheEnd) {
  auto whole = parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n");
  ASSERT_EQ(whole.tool_calls.size(), 1u);
  EXPECT_EQ(whole.tool_calls[0].arguments, R"({"a":1})");
  auto cut = parse("<tool_call>\n{\"name\": \"f\", \"argu");
  EXPECT_TRUE(cut.tool_calls.empty());
  EXPECT_EQ(cut.content, "<tool_call>\n{\"name\": \"f\", \"argu");
}

TEST(StreamParser, ToolCallInsideReasoningIsReasoning) {
  auto m = parse(
      "<think>\nMaybe <tool_call>{\"name\": \"x\", \"arguments\": {}}</tool_call> later.\n"
      "</think>\n\nDone.");
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.reasoning_content,
            "Maybe <tool_call>{\"name\": \"x\", \"arguments\": {}}</tool_call> later.");
  EXPECT_EQ(m.content, "Done.");
}

TEST(StreamParser, StrayAndNestedTagsAreDropped) {
  EXPECT_EQ(parse("a</think>b").content, "ab");
  EXPECT_EQ(parse("a</tool_call>b").content, "ab");
  auto m = parse("<think>x<think>y</think>z");
  EXPECT_EQ(m.reasoning_content, "xy");
  EXPECT_EQ(m.content, "z");
}

TEST(StreamParser, PartialTagsAreHeldUntilDecided) {
  OutputParser p;
  std::vector<StreamEvent> ev;
  p.push_text("abc<thi", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "abc");
  ev.clear();
  p.push_text("nk>deep", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, Type::kReasoning);
  EXPECT_EQ(ev[0].text, "deep");
  ev.clear();
  p.push_text("</", ev);
  EXPECT_TRUE(ev.empty());
  p.push_text("tool_", ev);  // not a prefix of </think>: released as reasoning
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "</tool_");

  EXPECT_EQ(parse("x <thi").content, "x <thi");  // undecided at the end: text
  EXPECT_EQ(parse("a </tool_ b").content, "a </tool_ b");
  EXPECT_EQ(parse("if a<b and c>d").content, "if a<b and c>d");
  EXPECT_EQ(parse("<<think>>").reasoning_content, ">");
}

TEST(StreamParser, Utf8IsNeverBroken) {
  OutputParser p;
  std::vector<StreamEvent> ev;
  const std::string s = "é日🎉";
  for (char c : s) p.push_text(std::string(1, c), ev);
  p.finish(StreamEnd::kEndToken, ev);
  std::string joined;
  for (const auto& e : ev) {
    EXPECT_TRUE(utf8::is_valid(e.text));
    joined += e.text;
  }
  EXPECT_EQ(joined, s);
  EXPECT_EQ(ev.size(), 4u);  // three characters + end
  EXPECT_EQ(parse("a\xff"
                  "b\xe6\x97")
                .content,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

TEST(StreamParser, StopStrings) {
  StreamParserOptions o;
  o.stop_strings = {"STOP", "\nUser:"};
  OutputParser p(o);
  std::vector<StreamEvent> ev;
  p.push_text("Hello ST", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "Hello ");  // "ST" may start a stop string
  p.push_text("OP and more", ev);
  EXPECT_TRUE(p.ended());
  EXPECT_EQ(p.message().content, "Hello ");
  EXPECT_EQ(p.message().end, StreamEnd::kStopString);
  EXPECT_EQ(p.message().stop_string, "STOP");
  EXPECT_EQ(ev.back().type, Type::kEnd);
  p.push_text("ignored", ev);
  EXPECT_EQ(p.message().content, "Hello ");

  EXPECT_EQ(parse("Hello STAR", o).content, "Hello STAR");
  EXPECT_EQ(parse("ends with ST", o).content, "ends with ST");
  auto m = parse("<think>\nhmm\nUser: x", o);
  EXPECT_EQ(m.reasoning_content, "hmm");
  EXPECT_EQ(m.end, StreamEnd::kStopString);
  EXPECT_EQ(m.stop_string, "\nUser:");
}

TEST(StreamParser, EndEventAndJson) {
  OutputParser p;
  std::vector<StreamEvent> ev;
  p.push_text("<think>r</think>c<tool_call>{\"name\":\"f\",\"arguments\":{\"b\":1,\"a\":2}}", ev);
  p.finish(StreamEnd::kEndToken, ev);
  p.finish(StreamEnd::kLength, ev);  // ignored
  ASSERT_EQ(ev.back().type, Type::kEnd);
  EXPECT_EQ(ev.back().end, StreamEnd::kEndToken);
  auto j = p.message().to_json();
  EXPECT_EQ(j["reasoning_content"], "r");
  EXPECT_EQ(j["content"], "c");
  EXPECT_EQ(j["tool_calls"][0]["type"], "function");
  EXPECT_EQ(j["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(j["tool_calls"][0]["function"]["arguments"], R"({"b":1,"a":2})");
}

// Random outputs built from the pieces that matter: tags, partial tags, tool calls good
// and bad, newlines, multi-byte characters, stop-string fragments.
std::string random_output(std::mt19937& rng) {
  static const char* kPieces[] = {
      "<think>",
      "</think>",
      "<tool_call>",
      "</tool_call>",
      "\n",
      "\n\n",
      "hello",
      " ",
      "é",
      "日本語",
      "🎉",
      "👩‍👧",
      "<thi",
      "</tool_",
      "<",
      ">",
      "</",
      "<tool",
      "a<b",
      "{\"name\": \"f\", \"arguments\": {\"x\": [1, \"é\"]}}",
      "{\"name\": 1}",
      "{bad",
      "\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>\n",
      "ST",
      "OP",
      "STOP",
      "\\",
      "\"",
      "\xff",
      "\xe6\x97",
      "<|im_end|>"};
  std::uniform_int_distribution<int> n_pieces(0, 25),
      which(0, sizeof kPieces / sizeof *kPieces - 1);
  std::string s;
  for (int i = n_pieces(rng); i > 0; --i) s += kPieces[which(rng)];
  return s;
}

void expect_same(const ParsedMessage& a, const ParsedMessage& b) {
  EXPECT_EQ(a.reasoning_content, b.reasoning_content);
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.end, b.end);
  EXPECT_EQ(a.stop_string, b.stop_string);
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size());
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    EXPECT_EQ(a.tool_calls[i].name, b.tool_calls[i].name);
    EXPECT_EQ(a.tool_calls[i].arguments, b.tool_calls[i].arguments);
  }
}

TEST(StreamParserProperty, SameMessageHoweverTheBytesAreCut) {
  std::mt19937 rng(12345);
  int checked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string s = random_output(rng);
    StreamParserOptions o;
    o.starts_in_reasoning = iter % 5 == 0;
    if (iter % 3 == 0) o.stop_strings = {"STOP", "</tool_call>\n<"};
    const ParsedMessage whole = parse(s, o);
    // Cut at random byte positions (also inside UTF-8 sequences and tags).
    std::vector<std::string> pieces;
    std::uniform_int_distribution<size_t> len(0, 6);
    for (size_t i = 0; i < s.size();) {
      size_t l = std::min(len(rng), s.size() - i);
      pieces.push_back(s.substr(i, l));
      i += l;
    }
    Fed fed = feed(pieces, o);
    SCOPED_TRACE(::testing::PrintToString(s));
    expect_same(whole, fed.msg);
    // Deltas are whole UTF-8 and add up to the message.
    std::string reasoning, content;
    size_t calls = 0, ends = 0;
    for (const auto& e : fed.events) {
      EXPECT_TRUE(utf8::is_valid(e.text));
      if (e.type == Type::kReasoning) reasoning += e.text;
      if (e.type == Type::kContent) content += e.text;
      if (e.type == Type::kToolCall) ++calls;
      if (e.type == Type::kEnd) ++ends;
    }
    EXPECT_EQ(reasoning, fed.msg.reasoning_content);
    EXPECT_EQ(content, fed.msg.content);
    EXPECT_EQ(calls, fed.msg.tool_calls.size());
    EXPECT_EQ(ends, 1u);
    EXPECT_EQ(fed.events.back().type, Type::kEnd);
    // Stop strings match the generated text (markup included), before any tag is removed.
    if (!o.stop_strings.empty() && s.find("STOP") != std::string::npos) {
      EXPECT_EQ(fed.msg.end, StreamEnd::kStopString);
    }
    EXPECT_EQ(fed.msg.reasoning_content.find("<think>"), std::string::npos);
    EXPECT_EQ(fed.msg.reasoning_content.find("</think>"), std::string::npos);
    ++checked;
  }
  EXPECT_EQ(checked, 3000);
}

}  // namespace
}  // namespace qwen3::text
