// The text layer's defences against hostile JSON: parse_json's limits (depth, string,
// array, object, value count, number overflow) with one-line messages, tojson writing
// 50,000 levels without recursion, and the template and tool-call parser refusing depth
// beyond the limit instead of recursing into it.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "qwen3/chat.h"
#include "text/chat_template.h"
#include "text/json_limits.h"
#include "text/tojson.h"
#include "text/tool_call.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

std::string nested(std::size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

// The message of the JsonError parse_json throws for `text` ("" if none).
std::string error_of(const std::string& text, const JsonLimits& limits = {},
                     JsonError::Kind* kind = nullptr) {
  try {
    parse_json(text, limits);
  } catch (const JsonError& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "";
}

TEST(ParseJson, DepthLimit) {
  EXPECT_EQ(parse_json(nested(64)).dump(), nested(64));
  JsonError::Kind kind{};
  EXPECT_EQ(error_of(nested(65), {}, &kind), "JSON nesting is deeper than the limit of 64 levels");
  EXPECT_EQ(kind, JsonError::Kind::kLimit);
  EXPECT_EQ(error_of(nested(50000)), "JSON nesting is deeper than the limit of 64 levels");
  // Objects count as levels too, mixed with arrays.
  std::string mixed;
  for (int i = 0; i < 40; ++i) mixed += "{\"a\":[";
  mixed += "1";
  for (int i = 0; i < 40; ++i) mixed += "]}";
  EXPECT_EQ(error_of(mixed), "JSON nesting is deeper than the limit of 64 levels");
  JsonLimits deep;
  deep.max_depth = 100;
  EXPECT_EQ(parse_json(mixed, deep).dump(), mixed);
}

TEST(ParseJson, SizeLimits) {
  JsonLimits small;
  small.max_string_bytes = 4;
  small.max_array_items = 3;
  small.max_object_members = 2;
  small.max_values = 10;
  EXPECT_EQ(parse_json(R"(["abcd", [1, 2, 3], {"a": 1, "b": 2}])", small).size(), 3u);
  EXPECT_EQ(error_of(R"(["abcde"])", small), "a JSON string is longer than the limit of 4 bytes");
  EXPECT_EQ(error_of(R"({"abcde": 1})", small),
            "a JSON object key is longer than the limit of 4 bytes");
  EXPECT_EQ(error_of("[1, 2, 3, 4]", small), "a JSON array has more than the limit of 3 items");
  EXPECT_EQ(error_of(R"({"a": 1, "b": 2, "c": 3})", small),
            "a JSON object has more than the limit of 2 members");
  EXPECT_EQ(error_of("[[1, 2], [3, 4], [5, 6, 7]]", small),
            "JSON holds more than the limit of 10 values");
}

// A data URL string (an image) may be longer than other strings; keys never.
TEST(ParseJson, DataUrlLimit) {
  JsonLimits l;
  l.max_string_bytes = 8;
  l.max_data_url_bytes = 16;
  EXPECT_EQ(parse_json(R"(["data:image/png;b"])", l).size(), 1u);  // 16 bytes
  EXPECT_EQ(error_of(R"(["data:image/png;ba"])", l),
            "a JSON string holding a data URL is longer than the limit of 16 bytes");
  EXPECT_EQ(error_of(R"(["not a data URL"])", l),
            "a JSON string is longer than the limit of 8 bytes");
  EXPECT_EQ(error_of(R"({"data:image/png": 1})", l),
            "a JSON object key is longer than the limit of 8 bytes");
  l.max_data_url_bytes = 0;  // off: like any string
  EXPECT_EQ(error_of(R"(["data:image/png;b"])", l),
            "a JSON string is longer than the limit of 8 bytes");
}

TEST(ParseJson, NumberOverflowAndSyntax) {
  JsonError::Kind kind{};
  EXPECT_EQ(error_of(R"({"t": 1e999})", {}, &kind), "number 1e999 at byte 11 is out of range");
  EXPECT_EQ(kind, JsonError::Kind::kNumberOverflow);
  EXPECT_NE(error_of("[-1E+400]").find("number -1E+400"), std::string::npos);
  EXPECT_DOUBLE_EQ(parse_json("1e308").get<double>(), 1e308);
  std::string msg = error_of("{\"a\": }", {}, &kind);
  EXPECT_EQ(kind, JsonError::Kind::kSyntax);
  EXPECT_EQ(msg.rfind("not valid JSON at byte 7: ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_NE(error_of("[1] x").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("\"\xff\"").find("not valid JSON"), std::string::npos);
  // Key order is kept.
  EXPECT_EQ(parse_json(R"({"b": 1, "a": 2})").dump(), R"({"b":1,"a":2})");
}

// tojson keeps no call stack per level: 50,000 levels of arrays and objects.
TEST(ToJson, FiftyThousandLevelsWithoutRecursion) {
  const std::size_t depth = 50000;
  // Built in place: copying a deep value would recurse in nlohmann itself.
  ojson v = ojson::array();
  ojson* cur = &v;
  for (std::size_t i = 1; i < depth; ++i) cur = &cur->emplace_back(ojson::array());
  cur->push_back(1);
  EXPECT_EQ(tojson(v), nested(depth));
  ojson o = ojson::object();
  cur = &o;
  for (std::size_t i = 1; i < depth; ++i) cur = &((*cur)["k"] = ojson::object());
  (*cur)["k"] = "x";
  std::string want;
  for (std::size_t i = 0; i < depth; ++i) want += "{\"k\": ";
  want += "\"x\"" + std::string(depth, '}');
  EXPECT_EQ(tojson(o), want);
}

TEST(ToJson, SameOutputAsBefore) {
  ojson v =
      ojson::parse(R"({"b": [1, 2.5, "s", null, true, {}], "10": {"2": 1, "1": []}, "a": -0.0})");
  EXPECT_EQ(tojson(v), R"({"10": {"1": [], "2": 1}, "b": [1, 2.5, "s", null, true, {}], "a": 0})");
  EXPECT_EQ(tojson(ojson::array()), "[]");
  EXPECT_EQ(tojson(ojson::object()), "{}");
  EXPECT_EQ(tojson(ojson("é\n")), "\"é\\n\"");
}

TEST(ToolCallJson, DeepArgumentsAreNotACall) {
  auto ok = parse_tool_call(R"({"name": "f", "arguments": )" + nested(50) + "}");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->arguments, nested(50));
  EXPECT_FALSE(parse_tool_call(R"({"name": "f", "arguments": )" + nested(50000) + "}"));
  // Arguments are passed on as the model wrote them (issue 13: streamed in pieces, so the
  // unstreamed call must say the same): a number past the double range is valid JSON
  // text and stays as written; the nesting limit above still refuses the call.
  auto big = parse_tool_call(R"({"name": "f", "arguments": {"x": 1e999}})");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->arguments, R"({"x":1e999})");
}

TEST(TemplateJson, DeepToolsAndContextAreRefused) {
  qwen3::ChatHistory h;
  h.messages.push_back(qwen3::ChatMessage::user("hi"));
  h.tools_json =
      R"([{"type": "function", "function": {"name": "f", "parameters": )" + nested(50000) + "}}]";
  try {
    render_chat(h, {});
    ADD_FAILURE() << "deep tools_json rendered";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "tools_json: JSON nesting is deeper than the limit of 64 levels");
  }
  h.tools_json.clear();
  h.extra_context_json = "{\"x\": " + nested(50000) + "}";
  EXPECT_THROW(render_chat(h, {}), std::invalid_argument);
  // Within the limit the template writes the whole depth.
  h.extra_context_json.clear();
  h.tools_json =
      R"([{"type": "function", "function": {"name": "f", "parameters": )" + nested(60) + "}}]";
  EXPECT_NE(render_chat(h, {}).find(nested(60)), std::string::npos);
}

}  // namespace
}  // namespace qwen3::text
