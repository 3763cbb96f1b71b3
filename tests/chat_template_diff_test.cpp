// Live differential test: hundreds of randomly generated conversations (random role
// order, unicode, quotes/backslashes/newlines, think tags, tool calls, nested tool
// schemas with odd keys and numbers) rendered by the native template and by
// @huggingface/jinja running the official template (tools/render_template.mjs).
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "template_diff_driver.h"
#include "text/chat_template.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string text(int max_pieces = 8) {
    static const char* kPieces[] = {"hello",
                                    " world",
                                    "x",
                                    " ",
                                    "  ",
                                    "\n",
                                    "\n\n",
                                    "\"",
                                    "\\",
                                    "\t",
                                    "é",
                                    "日本語",
                                    "🎉",
                                    "👩‍👧",
                                    "Ω",
                                    "<think>",
                                    "</think>",
                                    "<tool_response>",
                                    "</tool_response>",
                                    "\x01",
                                    "\u2028",
                                    "{",
                                    "}",
                                    "'",
                                    "/",
                                    "<",
                                    ">",
                                    "<tool_call>",
                                    "0",
                                    "3.5",
                                    "\r\n"};
    std::string s;
    int n = pick(max_pieces + 1);
    for (int i = 0; i < n; ++i) s += kPieces[pick(sizeof kPieces / sizeof *kPieces)];
    return s;
  }

  std::string key() {
    static const char* kKeys[] = {
        "type", "name",           "a",     "b",         "z", "0", "1", "10", "2", "01", "-1",
        "é",    "key with space", "\"q\"", "4294967295"};
    return kKeys[pick(sizeof kKeys / sizeof *kKeys)];
  }

  ojson number() {
    switch (pick(6)) {
      case 0:
        return pick(1000) - 500;
      case 1:
        return static_cast<double>(pick(100)) + 0.5;
      case 2:
        return static_cast<double>(pick(50));  // a float holding an integer
      case 3:
        return std::ldexp(static_cast<double>(pick(1 << 20) + 1), pick(140) - 100);
      case 4:
        return std::pow(10.0, pick(50) - 25) * (pick(2) ? -1 : 1);
      default:
        return static_cast<int64_t>(1) << (40 + pick(20));
    }
  }

  ojson value(int depth) {
    int kind = depth > 3 ? pick(4) : pick(6);
    switch (kind) {
      case 0:
        return nullptr;
      case 1:
        return chance(0.5);
      case 2:
        return number();
      case 3:
        return text(4);
      case 4: {
        ojson a = ojson::array();
        for (int i = pick(4); i > 0; --i) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        ojson o = ojson::object();
        for (int i = pick(5); i > 0; --i) o[key()] = value(depth + 1);
        return o;
      }
    }
  }

  ojson tool() {
    ojson params = {{"type", "object"}, {"properties", ojson::object()}};
    for (int i = pick(4); i > 0; --i) params["properties"][key()] = value(1);
    ojson fn = {{"name", "fn_" + std::to_string(pick(100))},
                {"description", text(5)},
                {"parameters", params}};
    if (chance(0.2)) return value(0);  // the template prints any JSON value
    return {{"type", "function"}, {"function", fn}};
  }

  ojson content() {
    if (chance(0.15)) {
      ojson parts = ojson::array();
      for (int i = pick(3) + 1; i > 0; --i) parts.push_back({{"type", "text"}, {"text", text()}});
      return parts;
    }
    return text();
  }

  ojson tool_call() {
    ojson args;
    if (chance(0.3)) {
      args = value(1).dump();  // arguments as a JSON string
    } else {
      args = ojson::object();
      for (int i = pick(4); i > 0; --i) args[key()] = value(1);
    }
    ojson fn = {{"name", "fn_" + std::to_string(pick(10))}, {"arguments", args}};
    if (chance(0.3)) return fn;
    return {{"id", "call_" + std::to_string(pick(1000))}, {"type", "function"}, {"function", fn}};
  }

  ojson message() {
    static const char* kRoles[] = {"user", "assistant", "tool", "system", "user", "assistant"};
    std::string role = kRoles[pick(6)];
    ojson m = {{"role", role}};
    if (role == "user" && chance(0.2)) {
      m["content"] = "<tool_response>" + text() + "</tool_response>";
    } else if (role == "assistant" && chance(0.3)) {
      std::string c = std::string(pick(3), '\n') + (chance(0.7) ? "<think>" : "") +
                      std::string(pick(3), '\n') + text() + std::string(pick(3), '\n') +
                      "</think>" + std::string(pick(3), '\n') + text();
      m["content"] = c;
    } else {
      m["content"] = content();
    }
    if (role == "tool" && chance(0.05)) m["content"] = nullptr;
    if (role == "assistant") {
      int r = pick(5);
      if (r == 0) m["reasoning_content"] = nullptr;
      if (r == 1) m["reasoning_content"] = "";
      if (r >= 2 && r <= 3) m["reasoning_content"] = std::string(pick(2), '\n') + text();
      if (chance(0.4)) {
        ojson calls = ojson::array();
        for (int i = pick(3) + 1; i > 0; --i) calls.push_back(tool_call());
        m["tool_calls"] = calls;
      }
    }
    return m;
  }

  ojson conversation() {
    ojson c = ojson::object();
    ojson msgs = ojson::array();
    if (chance(0.5)) msgs.push_back({{"role", "system"}, {"content", content()}});
    for (int i = pick(8) + (msgs.empty() ? 1 : 0); i > 0; --i) msgs.push_back(message());
    c["messages"] = msgs;
    if (chance(0.5)) {
      ojson tools = ojson::array();
      for (int i = pick(4); i > 0; --i) tools.push_back(tool());
      c["tools"] = tools;
    }
    if (chance(0.7)) c["enable_thinking"] = chance(0.5);
    if (chance(0.5)) c["add_generation_prompt"] = chance(0.5);
    return c;
  }

 private:
  std::mt19937 rng_;
};

TEST(ChatTemplateDiff, RandomConversationsMatchJinja) {
  if (!qwen3::testing::have_node()) GTEST_SKIP() << "node not found";
  constexpr int kCases = 400;
  Gen gen(20260501);
  ojson cases = ojson::array();
  for (int i = 0; i < kCases; ++i) cases.push_back(gen.conversation());
  const ojson expected = qwen3::testing::render_reference("render_template.mjs", "", cases,
                                                          "chat_template_diff_cases");
  ASSERT_EQ(expected.size(), cases.size());
  int compared = 0, both_failed = 0;
  for (int i = 0; i < kCases; ++i) {
    const ojson& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.dump());
    TemplateOptions o;
    o.add_generation_prompt = c.value("add_generation_prompt", true);
    if (c.contains("enable_thinking")) o.enable_thinking = c["enable_thinking"].get<bool>();
    ojson tools = c.contains("tools") ? c["tools"] : ojson();
    if (expected[i].is_string()) {
      EXPECT_EQ(render_chat(messages_from_json(c["messages"]), tools, o),
                expected[i].get<std::string>());
      ++compared;
    } else {
      EXPECT_THROW(render_chat(messages_from_json(c["messages"]), tools, o), std::invalid_argument);
      ++both_failed;
    }
  }
  EXPECT_GE(compared, 200);
  std::printf("compared %d rendered conversations, %d failing in both\n", compared, both_failed);
}

}  // namespace
}  // namespace qwen3::text
