// Every chat template under tests/golden/templates/ (the Qwen family's official
// templates: Qwen3 and its later revision, Qwen3-2507 Instruct and Thinking, QwQ-32B,
// Qwen3-Coder, Qwen3.5; origins in the README there) rendered by our Jinja interpreter
// and by @huggingface/jinja (tools/render_jinja.mjs, one node process per template) on
// 3,000 generated conversations each (at least 2,000 must render): system messages, multi-turn,
// tools with nested schemas, tool calls (object and string arguments, with and without the
// "function" wrapper), tool responses, reasoning_content, inline <think> blocks, enable_thinking
// true / false / absent, add_generation_prompt. Byte-exact output, or both fail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "template_diff_driver.h"
#include "text/jinja_template.h"

namespace qwen3::text::jinja {
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
                                    "Ω",
                                    "<think>",
                                    "</think>",
                                    "<tool_response>",
                                    "</tool_response>",
                                    "<tool_call>",
                                    "\x01",
                                    "\u2028",
                                    "{",
                                    "}",
                                    "'",
                                    "<",
                                    ">",
                                    "0",
                                    "3.5",
                                    "\r\n",
                                    "<|im_end|>",
                                    "/no_think",
                                    "/think"};
    std::string s;
    for (int i = pick(max_pieces + 1); i > 0; --i)
      s += kPieces[pick(sizeof kPieces / sizeof *kPieces)];
    return s;
  }
  std::string key() {
    static const char* kKeys[] = {
        "type", "name",           "a",     "b",           "z",    "0",    "1", "10", "2",
        "é",    "key with space", "\"q\"", "description", "enum", "items"};
    return kKeys[pick(sizeof kKeys / sizeof *kKeys)];
  }
  ojson number() {
    switch (pick(5)) {
      case 0:
        return pick(1000) - 500;
      case 1:
        return static_cast<double>(pick(100)) + 0.5;
      case 2:
        return static_cast<double>(pick(50));
      case 3:
        return std::ldexp(static_cast<double>(pick(1 << 20) + 1), pick(140) - 100);
      default:
        return std::pow(10.0, pick(50) - 25) * (pick(2) ? -1 : 1);
    }
  }
  ojson value(int depth) {
    switch (depth > 3 ? pick(4) : pick(6)) {
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
    ojson props = ojson::object();
    for (int i = pick(4); i > 0; --i) {
      ojson p = ojson::object();
      if (chance(0.8))
        p["type"] = chance(0.8)
                        ? ojson(std::vector<std::string>{"string", "integer", "number", "boolean",
                                                         "array", "object"}[pick(6)])
                        : value(2);
      if (chance(0.6)) p["description"] = text(5);
      if (chance(0.3)) p[key()] = value(2);
      props["p" + std::to_string(pick(20))] = chance(0.9) ? p : value(2);
    }
    ojson params = {{"type", "object"}, {"properties", props}};
    if (chance(0.3)) params["required"] = ojson::array({"p1"});
    ojson fn = {{"name", "fn_" + std::to_string(pick(100))}};
    if (chance(0.8)) fn["description"] = text(5);
    if (chance(0.9)) fn["parameters"] = chance(0.9) ? params : value(1);
    if (chance(0.1)) fn[key()] = value(1);
    if (chance(0.1)) return value(0);
    if (chance(0.15)) return fn;  // no {"type", "function"} wrapper
    return {{"type", "function"}, {"function", fn}};
  }
  ojson tool_call() {
    ojson args;
    if (chance(0.08)) {
      args = value(1).dump();  // arguments as a JSON string
    } else {
      args = ojson::object();
      for (int i = pick(4); i > 0; --i) {
        ojson v = value(1);
        if (v.is_null() && chance(0.9)) v = text(3);
        args["p" + std::to_string(pick(20))] = v;
      }
    }
    ojson fn = {{"name", "fn_" + std::to_string(pick(10))}, {"arguments", args}};
    if (chance(0.05)) fn.erase("arguments");
    if (chance(0.2)) return fn;
    return {{"id", "call_" + std::to_string(pick(1000))}, {"type", "function"}, {"function", fn}};
  }
  ojson message(bool first) {
    static const char* kRoles[] = {"user", "assistant", "tool", "user", "assistant", "system"};
    const std::string role = first && chance(0.9) ? "user" : kRoles[pick(chance(0.05) ? 6 : 5)];
    ojson m = {{"role", role}};
    if (role == "user" && chance(0.15)) {
      m["content"] = "<tool_response>" + text() + "</tool_response>";
    } else if (role == "assistant" && chance(0.3)) {
      m["content"] = std::string(pick(3), '\n') + (chance(0.7) ? "<think>" : "") +
                     std::string(pick(3), '\n') + text() + std::string(pick(3), '\n') + "</think>" +
                     std::string(pick(3), '\n') + text();
    } else {
      m["content"] = text();
    }
    if (chance(0.01)) m["content"] = nullptr;
    if (chance(0.01)) m.erase("content");
    if (role == "assistant") {
      const int r = pick(5);
      if (r == 0) m["reasoning_content"] = nullptr;
      if (r == 1) m["reasoning_content"] = "";
      if (r >= 2 && r <= 3) m["reasoning_content"] = std::string(pick(2), '\n') + text();
      if (chance(0.4)) {
        ojson calls = ojson::array();
        for (int i = pick(3) + 1; i > 0; --i) calls.push_back(tool_call());
        m["tool_calls"] = calls;
      }
    }
    if (role == "tool" && chance(0.3)) m["tool_call_id"] = "call_" + std::to_string(pick(1000));
    return m;
  }
  ojson context() {
    ojson c = ojson::object();
    ojson msgs = ojson::array();
    if (chance(0.5)) msgs.push_back({{"role", "system"}, {"content", text()}});
    const int n = pick(8) + 1;
    for (int i = 0; i < n; ++i) msgs.push_back(message(i == 0));
    c["messages"] = msgs;
    if (chance(0.5)) {
      ojson tools = ojson::array();
      for (int i = pick(4); i > 0; --i) tools.push_back(tool());
      c["tools"] = tools;
    }
    if (chance(0.7)) c["enable_thinking"] = chance(0.5);
    c["add_generation_prompt"] = chance(0.7);
    c["bos_token"] = "";
    c["eos_token"] = "<|im_end|>";
    return c;
  }

 private:
  std::mt19937 rng_;
};

struct Family {
  std::string name;  // tests/golden/templates/<name>.jinja
  int min_rendered;  // conversations that must render (not fail in both)
};

void PrintTo(const Family& f, std::ostream* os) {
  *os << f.name;
}

class TemplateFamilyDiff : public ::testing::TestWithParam<Family> {};

TEST_P(TemplateFamilyDiff, GeneratedConversationsMatchJinja) {
  if (!qwen3::testing::have_node()) GTEST_SKIP() << "node not found";
  constexpr int kCases = 3000;
  const auto path = std::filesystem::path(QWEN3_SOURCE_DIR) / "tests/golden/templates" /
                    (GetParam().name + ".jinja");
  const std::string source = qwen3::testing::read_file(path);
  ASSERT_FALSE(source.empty()) << path;
  Gen gen(static_cast<uint32_t>(std::hash<std::string>{}(GetParam().name) & 0xffffffff));
  ojson cases = ojson::array();
  for (int i = 0; i < kCases; ++i) cases.push_back(gen.context());
  const ojson expected = qwen3::testing::render_reference("render_jinja.mjs", path.string(), cases,
                                                          "template_family_" + GetParam().name);
  ASSERT_EQ(expected.size(), cases.size());
  const Template tmpl(source);
  int compared = 0, both_failed = 0, mismatches = 0;
  for (int i = 0; i < kCases && mismatches < 5; ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + ": " + cases[i].dump());
    std::string got, error;
    try {
      got = tmpl.render(cases[i]).s;
    } catch (const TemplateError& e) {
      error = e.what();
    }
    if (expected[i].is_string()) {
      EXPECT_EQ(error, "");
      EXPECT_EQ(got, expected[i].get<std::string>());
      if (!error.empty() || got != expected[i].get<std::string>()) ++mismatches;
      ++compared;
    } else {
      EXPECT_NE(error, "") << "reference failed with " << expected[i].dump();
      if (error.empty()) ++mismatches;
      ++both_failed;
    }
  }
  EXPECT_GE(compared, GetParam().min_rendered);
  std::printf("%s: %d conversations rendered byte-equal, %d failing in both\n",
              GetParam().name.c_str(), compared, both_failed);
}

INSTANTIATE_TEST_SUITE_P(Qwen, TemplateFamilyDiff,
                         // Qwen3.5 raises on system messages after the first and on
                         // conversations without a user query: fewer of ours render.
                         ::testing::Values(Family{"qwen3", 2000}, Family{"qwen3-rev2", 2000},
                                           Family{"qwen3-2507-instruct", 2000},
                                           Family{"qwen3-2507-thinking", 2000},
                                           Family{"qwq-32b", 2000}, Family{"qwen3-coder", 2000},
                                           Family{"qwen3.5", 1000}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace qwen3::text::jinja
