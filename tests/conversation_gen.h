// Random chat conversations for the template differential tests (chat_template_diff_test:
// our hand-written Qwen3 template; template_family_diff_test: our Jinja interpreter on
// every family template), both checked against @huggingface/jinja. One generator, so both
// cover the same ground: unicode, quotes, backslashes and newlines, think tags and special
// token text inside content, text-part arrays, tool schemas with odd keys and numbers, tool
// calls in every shape the templates accept (object or string arguments, with and without
// the "function" wrapper), reasoning_content, tool responses, missing or null content.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace qwen3::testing {

class ConversationGen {
 public:
  using ojson = nlohmann::ordered_json;

  explicit ConversationGen(uint32_t seed) : rng_(seed) {}

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
                                    "<tool_call>",
                                    "\x01",
                                    "\u2028",
                                    "{",
                                    "}",
                                    "'",
                                    "/",
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
    static const char* kKeys[] = {"type",
                                  "name",
                                  "a",
                                  "b",
                                  "z",
                                  "0",
                                  "1",
                                  "10",
                                  "2",
                                  "01",
                                  "-1",
                                  "é",
                                  "key with space",
                                  "\"q\"",
                                  "4294967295",
                                  "description",
                                  "enum",
                                  "items"};
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
      props[chance(0.8) ? "p" + std::to_string(pick(20)) : key()] = chance(0.9) ? p : value(2);
    }
    ojson params = {{"type", "object"}, {"properties", props}};
    if (chance(0.3)) params["required"] = ojson::array({"p1"});
    ojson fn = {{"name", "fn_" + std::to_string(pick(100))}};
    if (chance(0.8)) fn["description"] = text(5);
    if (chance(0.9)) fn["parameters"] = chance(0.9) ? params : value(1);
    if (chance(0.1)) fn[key()] = value(1);
    if (chance(0.1)) return value(0);  // the templates print any JSON value
    if (chance(0.15)) return fn;       // no {"type", "function"} wrapper
    return {{"type", "function"}, {"function", fn}};
  }

  // A string, or now and then an array of text parts.
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
    if (chance(0.1)) {
      args = value(1).dump();  // arguments as a JSON string
    } else {
      args = ojson::object();
      for (int i = pick(4); i > 0; --i) {
        ojson v = value(1);
        if (v.is_null() && chance(0.9)) v = text(3);
        args[chance(0.8) ? "p" + std::to_string(pick(20)) : key()] = v;
      }
    }
    ojson fn = {{"name", "fn_" + std::to_string(pick(10))}, {"arguments", args}};
    if (chance(0.05)) fn.erase("arguments");
    if (chance(0.2)) return fn;
    return {{"id", "call_" + std::to_string(pick(1000))}, {"type", "function"}, {"function", fn}};
  }

  // `first`: the first message after an optional system message (mostly a user query:
  // some templates raise without one).
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
      m["content"] = content();
    }
    if (chance(0.01) || (role == "tool" && chance(0.05))) m["content"] = nullptr;
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

  // {messages, tools?, enable_thinking?, add_generation_prompt}: the template context
  // (without bos_token / eos_token, which a Jinja render adds).
  ojson conversation() {
    ojson c = ojson::object();
    ojson msgs = ojson::array();
    if (chance(0.5)) msgs.push_back({{"role", "system"}, {"content", content()}});
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
    return c;
  }

 private:
  std::mt19937 rng_;
};

}  // namespace qwen3::testing
