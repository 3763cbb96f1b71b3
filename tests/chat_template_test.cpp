// The native Qwen3 chat template against goldens rendered by @huggingface/jinja running
// the official template (tools/gen_template_goldens.mjs), plus the API around it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "text/chat_template.h"
#include "text/tojson.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

ojson load_goldens() {
  std::ifstream f(std::string(QWEN3_SOURCE_DIR) + "/tests/golden/template_goldens.json");
  EXPECT_TRUE(f.good());
  return ojson::parse(f);
}

TemplateOptions options_of(const ojson& c) {
  TemplateOptions o;
  o.add_generation_prompt = c.value("add_generation_prompt", true);
  if (c.contains("enable_thinking")) o.enable_thinking = c["enable_thinking"].get<bool>();
  return o;
}

std::string render_case(const ojson& c) {
  ojson tools = c.contains("tools") ? c["tools"] : ojson();
  return render_chat(messages_from_json(c["messages"]), tools, options_of(c));
}

TEST(ChatTemplateGolden, MatchesJinjaReferenceOnEveryCase) {
  ojson goldens = load_goldens();
  ASSERT_GE(goldens.size(), 40u);
  int rendered = 0, errors = 0;
  for (const ojson& c : goldens) {
    SCOPED_TRACE(c["name"].get<std::string>());
    if (c["expected"].is_string()) {
      EXPECT_EQ(render_case(c), c["expected"].get<std::string>());
      ++rendered;
    } else {
      // Where jinja fails (null content), we fail too, with a clear error.
      EXPECT_THROW(render_case(c), std::invalid_argument);
      ++errors;
    }
  }
  EXPECT_GE(rendered, 40);
  EXPECT_GE(errors, 3);
}

TEST(ChatTemplate, NullContentAsEmptyOptionRendersToolCallTurns) {
  auto msgs = messages_from_json(ojson::parse(R"([
    {"role":"user","content":"w?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function",
      "function":{"name":"f","arguments":"{}"}}]}])"));
  TemplateOptions o;
  o.null_content_as_empty = true;
  o.add_generation_prompt = false;
  EXPECT_EQ(render_chat(msgs, ojson(), o),
            "<|im_start|>user\nw?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
            "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|im_end|>\n");
  o.null_content_as_empty = false;
  try {
    render_chat(msgs, ojson(), o);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("message 1 (assistant): content is null"),
              std::string::npos);
  }
}

TEST(ChatTemplate, BadMessagesGetClearErrors) {
  auto err = [](const char* json) {
    try {
      messages_from_json(ojson::parse(json));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err(R"({"role":"user"})"), "messages must be a JSON array, not object");
  EXPECT_EQ(err(R"([{"role":"robot","content":"x"}])"),
            "message 0: role \"robot\" is unknown (expected system, user, assistant or tool)");
  EXPECT_EQ(err(R"([{"content":"x"}])"), "message 0: role is missing or not a string");
  EXPECT_EQ(err(R"([{"role":"user","content":"x"}, 5])"),
            "message 1 must be an object, not number");
  EXPECT_EQ(err(R"([{"role":"user","content":42}])"),
            "message 0: content must be a string, null or an array of text parts, not number");
  EXPECT_EQ(err(R"([{"role":"user","content":[{"type":"image_url","image_url":{}}]}])"),
            "message 0: content[0] has type \"image_url\"; only \"text\" parts are supported");
  EXPECT_EQ(err(R"([{"role":"user","content":[{"type":"text"}]}])"),
            "message 0: content[0].text must be a string");
  EXPECT_EQ(err(R"([{"role":"assistant","content":"","reasoning_content":1}])"),
            "message 0: reasoning_content must be a string, not number");
  EXPECT_EQ(err(R"([{"role":"assistant","content":"","tool_calls":{}}])"),
            "message 0: tool_calls must be an array");
  EXPECT_EQ(
      err(R"([{"role":"assistant","content":"","tool_calls":[{"function":{"arguments":{}}}]}])"),
      "message 0: tool_calls[0] needs a string \"name\"");
  EXPECT_EQ(err(R"([{"role":"assistant","content":"","tool_calls":[{"function":"f"}]}])"),
            "message 0: tool_calls[0].function must be an object");
  EXPECT_THROW(render_chat({}, ojson::object(), {}), std::invalid_argument);
  ChatMessage bad;
  bad.role = "narrator";
  bad.content = "x";
  EXPECT_THROW(render_chat({bad}, ojson(), {}), std::invalid_argument);
}

TEST(ChatTemplate, ContentPartsAreConcatenated) {
  auto m = message_from_json(ojson::parse(
      R"({"role":"user","content":[{"type":"text","text":"a "},{"type":"text","text":"b"}]})"));
  EXPECT_EQ(*m.content, "a b");
  EXPECT_EQ(to_json(m).dump(), R"({"role":"user","content":"a b"})");
}

TEST(ChatTemplate, PublicHistoryRendersLikeJson) {
  qwen3::ChatHistory h;
  h.push_back(qwen3::ChatMessage::system("sys"));
  h.push_back(qwen3::ChatMessage::user("w?"));
  qwen3::ChatMessage call = qwen3::ChatMessage::assistant("", "think");
  call.tool_calls.push_back({"call_1", "get", R"({"b": 1, "a": 2})"});
  h.push_back(call);
  h.push_back(qwen3::ChatMessage::tool("sunny", "call_1"));
  h.tools_json = R"([{"type":"function","function":{"name":"get","parameters":{"z":1,"a":2}}}])";
  h.extra_context_json = R"({"enable_thinking": false})";
  auto json_msgs = messages_from_json(ojson::parse(R"([
    {"role":"system","content":"sys"},{"role":"user","content":"w?"},
    {"role":"assistant","content":"","reasoning_content":"think","tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"b\": 1, \"a\": 2}"}}]},
    {"role":"tool","content":"sunny","tool_call_id":"call_1"}])"));
  TemplateOptions o;
  o.enable_thinking = false;
  std::string expected = render_chat(json_msgs, ojson::parse(h.tools_json), o);
  EXPECT_EQ(render_chat(h, TemplateOptions{}), expected);
  EXPECT_NE(expected.find(R"({"name": "get", "parameters": {"z": 1, "a": 2}})"), std::string::npos);
}

TEST(ChatTemplate, StripFollowsJinjaJsOrPython) {
  auto msgs = messages_from_json(ojson::parse(
      R"([{"role":"user","content":"q"},{"role":"assistant","content":"<think>\n r \n</think>\n\t answer"}])"));
  TemplateOptions o;
  o.add_generation_prompt = false;
  const std::string head = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n";
  // @huggingface/jinja trims all whitespace (the reference, default).
  EXPECT_EQ(render_chat(msgs, ojson(), o), head + "<think>\nr\n</think>\n\nanswer<|im_end|>\n");
  // Python's jinja2 strips only '\n'.
  o.python_strip = true;
  EXPECT_EQ(render_chat(msgs, ojson(), o),
            head + "<think>\n r \n</think>\n\n\t answer<|im_end|>\n");
}

TEST(ChatTemplate, FillInTheMiddle) {
  EXPECT_EQ(render_fim("def f(x):\n    ", "\n    return y\n"),
            "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>");
}

TEST(ChatTemplate, RecognisesTheOfficialTemplate) {
  const std::string& t = official_qwen3_template();
  EXPECT_TRUE(is_official_qwen3_template(t));
  std::string reindented;
  for (char c : t) {
    if (c == '\n')
      reindented += "\r\n  ";
    else
      reindented += c;
  }
  EXPECT_TRUE(is_official_qwen3_template(reindented));
  std::string changed = t;
  changed.replace(changed.find("<think>\\n\\n</think>"), 7, "<thonk>");
  EXPECT_FALSE(is_official_qwen3_template(changed));
  EXPECT_FALSE(is_official_qwen3_template(""));
  EXPECT_FALSE(is_official_qwen3_template("{{ messages }}"));
  // The copy we embed is the one in the reference package.
  std::ifstream f(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer_config.json");
  ASSERT_TRUE(f.good());
  EXPECT_EQ(ojson::parse(f)["chat_template"].get<std::string>(), t);
}

TEST(ToJson, NumbersPrintLikeJavaScript) {
  EXPECT_EQ(js_number(1.0), "1");
  EXPECT_EQ(js_number(-0.0), "0");
  EXPECT_EQ(js_number(2.5), "2.5");
  EXPECT_EQ(js_number(0.1), "0.1");
  EXPECT_EQ(js_number(1e21), "1e+21");
  EXPECT_EQ(js_number(1e20), "100000000000000000000");
  EXPECT_EQ(js_number(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(js_number(0.000001), "0.000001");
  EXPECT_EQ(js_number(1e-7), "1e-7");
  EXPECT_EQ(js_number(-1.5e-9), "-1.5e-9");
  EXPECT_EQ(js_number(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(js_number(5e-324), "5e-324");
  EXPECT_EQ(js_number(0.30000000000000004), "0.30000000000000004");
}

TEST(ToJson, KeyOrderSpacingAndEscapes) {
  ojson j = ojson::parse(
      R"({"b":1,"10":2,"a":[1.0,"é\u0001\"\\/\u2028"],"2":null,"01":true,"4294967295":0})");
  EXPECT_EQ(tojson(j),
            "{\"2\": null, \"10\": 2, \"b\": 1, \"a\": [1, \"é\\u0001\\\"\\\\/\u2028\"], "
            "\"01\": true, \"4294967295\": 0}");
  EXPECT_EQ(tojson(ojson::parse("12345678901234567890")), "12345678901234567000");
  EXPECT_EQ(tojson(ojson::parse("[]")), "[]");
  EXPECT_EQ(tojson(ojson::parse("{}")), "{}");
}

}  // namespace
}  // namespace qwen3::text
