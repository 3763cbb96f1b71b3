// Request parsing without a server: fields land in the GenerationConfig / ChatHistory,
// and every bad field is a 400 naming it; SSE framing and response shapes.
#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/requests.h"
#include "server/responses.h"
#include "server/sse.h"

namespace qwen3::server {
namespace {

Json chat(Json extra = Json::object()) {
  Json j = {{"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}};
  for (auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

TEST(ServerRequest, SamplingFieldsReachTheConfig) {
  ChatRequest r = parse_chat_request(chat({{"temperature", 0.3},
                                           {"top_p", 0.9},
                                           {"top_k", 5},
                                           {"min_p", 0.05},
                                           {"presence_penalty", 1.5},
                                           {"frequency_penalty", -0.5},
                                           {"repetition_penalty", 1.1},
                                           {"seed", 42},
                                           {"stop", "END"},
                                           {"max_tokens", 77},
                                           {"stream", true},
                                           {"stream_options", {{"include_usage", true}}}}),
                                     4096);
  EXPECT_FLOAT_EQ(*r.config.temperature, 0.3f);
  EXPECT_FLOAT_EQ(*r.config.top_p, 0.9f);
  EXPECT_EQ(*r.config.top_k, 5);
  EXPECT_FLOAT_EQ(*r.config.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.config.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(r.config.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(r.config.repetition_penalty, 1.1f);
  EXPECT_EQ(*r.config.seed, 42u);
  EXPECT_EQ(r.config.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.config.max_new_tokens, 77u);
  EXPECT_TRUE(r.max_tokens_given);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  // Unset sampling fields stay unset so the thinking-mode defaults apply.
  ChatRequest d = parse_chat_request(chat(), 4096);
  EXPECT_FALSE(d.config.temperature.has_value());
  EXPECT_FALSE(d.max_tokens_given);
}

TEST(ServerRequest, MaxCompletionTokensWins) {
  EXPECT_EQ(parse_chat_request(chat({{"max_tokens", 10}, {"max_completion_tokens", 20}}), 4096)
                .config.max_new_tokens,
            20u);
  EXPECT_EQ(parse_chat_request(chat({{"max_completion_tokens", 20}, {"max_tokens", 10}}), 4096)
                .config.max_new_tokens,
            20u);
}

TEST(ServerRequest, ThinkingSwitch) {
  EXPECT_FALSE(
      *parse_chat_request(chat({{"enable_thinking", false}}), 4096).config.enable_thinking);
  auto r = parse_chat_request(
      chat({{"enable_thinking", true}, {"chat_template_kwargs", {{"enable_thinking", false}}}}),
      4096);
  EXPECT_FALSE(*r.config.enable_thinking);
  EXPECT_EQ(r.history.extra_context_json, "{\"enable_thinking\":false}");
  EXPECT_FALSE(parse_chat_request(chat(), 4096).config.enable_thinking.has_value());
}

TEST(ServerRequest, MessagesAndTools) {
  Json body = {
      {"messages",
       Json::array({{{"role", "developer"}, {"content", "be brief"}},
                    {{"role", "user"},
                     {"content", Json::array({{{"type", "text"}, {"text", "a"}},
                                              {{"type", "text"}, {"text", "b"}}})}},
                    {{"role", "assistant"},
                     {"content", nullptr},
                     {"tool_calls",
                      Json::array({{{"id", "c1"},
                                    {"type", "function"},
                                    {"function", {{"name", "f"}, {"arguments", "{\"x\": 1}"}}}}})}},
                    {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "42"}}})},
      {"tools", Json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}})}};
  ChatRequest r = parse_chat_request(body, 4096);
  ASSERT_EQ(r.history.messages.size(), 4u);
  EXPECT_EQ(r.history.messages[0].role, "system");
  EXPECT_EQ(r.history.messages[1].content, "ab");
  ASSERT_EQ(r.history.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.history.messages[2].tool_calls[0].name, "f");
  EXPECT_EQ(r.history.messages[2].tool_calls[0].arguments, "{\"x\": 1}");
  EXPECT_EQ(r.history.messages[3].tool_call_id, "c1");
  EXPECT_EQ(r.history.tools_json, "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]");
}

TEST(ServerRequest, ToolChoice) {
  Json tools = Json::array({{{"type", "function"}, {"function", {{"name", "a"}}}},
                            {{"type", "function"}, {"function", {{"name", "b"}}}}});
  auto none = parse_chat_request(chat({{"tools", tools}, {"tool_choice", "none"}}), 4096);
  EXPECT_EQ(none.tool_choice, ToolChoice::kNone);
  EXPECT_TRUE(none.history.tools_json.empty());
  auto named = parse_chat_request(
      chat({{"tools", tools},
            {"tool_choice", {{"type", "function"}, {"function", {{"name", "b"}}}}}}),
      4096);
  EXPECT_EQ(named.tool_choice, ToolChoice::kNamed);
  EXPECT_EQ(named.history.tools_json, "[{\"type\":\"function\",\"function\":{\"name\":\"b\"}}]");
  auto req = parse_chat_request(chat({{"tools", tools}, {"tool_choice", "required"}}), 4096);
  EXPECT_EQ(req.tool_choice, ToolChoice::kRequired);
  EXPECT_THROW(parse_chat_request(chat({{"tool_choice", "required"}}), 4096), ApiError);
  EXPECT_THROW(parse_chat_request(chat({{"tools", tools}, {"tool_choice", "sometimes"}}), 4096),
               ApiError);
}

// Each field with each wrong-typed value: a 400 whose message names the field.
TEST(ServerRequest, WrongTypesNameTheField) {
  const std::pair<const char*, std::vector<Json>> fields[] = {
      {"temperature", {"1", true, Json::array(), -0.1, 9}},
      {"top_p", {"1", 0, 1.5}},
      {"top_k", {0.5, "3", -1}},
      {"min_p", {2, "x"}},
      {"max_tokens", {0, -5, 1.5, "10", 5000}},
      {"seed", {"7", 1.5}},
      {"stop", {5, Json::array({1}), Json::array({""})}},
      {"stream", {"true", 1}},
      {"presence_penalty", {3, "0"}},
      {"frequency_penalty", {-3}},
      {"repetition_penalty", {0, -1, "1"}},
      {"tools", {"x", Json::object(), Json::array({1})}},
      {"stream_options", {"x", Json::array()}},
      {"chat_template_kwargs", {"x", 1}},
      {"n", {0, 17, "1", 1.5}},
  };
  for (const auto& [field, values] : fields) {
    for (const auto& v : values) {
      SCOPED_TRACE(std::string(field) + " = " + v.dump());
      try {
        parse_chat_request(chat({{field, v}}), 4096);
        ADD_FAILURE() << "accepted";
      } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        EXPECT_EQ(e.to_json()["error"]["type"], "invalid_request_error");
      }
    }
  }
}

TEST(ServerRequest, Completions) {
  auto r = parse_completion_request({{"prompt", "abc"}, {"suffix", "xyz"}, {"echo", true}}, 4096);
  EXPECT_EQ(r.prompt, "<|fim_prefix|>abc<|fim_suffix|>xyz<|fim_middle|>");
  EXPECT_FALSE(r.config.apply_chat_template);
  EXPECT_TRUE(r.echo);
  auto ids = parse_completion_request({{"prompt", Json::array({1, 2, 3})}}, 4096);
  EXPECT_EQ(ids.prompt_ids, (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(parse_completion_request({{"prompt", Json::array({"one"})}}, 4096).prompt, "one");
  EXPECT_THROW(parse_completion_request({{"prompt", Json::array({"a", "b"})}}, 4096), ApiError);
  EXPECT_THROW(parse_completion_request({{"prompt", Json::array({-1})}}, 4096), ApiError);
}

TEST(ServerRequest, BodyParsing) {
  EXPECT_NO_THROW(parse_json_object("{\"a\": 1}"));
  for (const char* bad : {"", "{", "[]", "null", "1", "\"s\"", "{\"a\": }", "{} {}"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse_json_object(bad), ApiError);
  }
}

TEST(ServerResponses, SseFraming) {
  // Newlines inside strings are escaped, so an event is always one data line.
  EXPECT_EQ(sse_event({{"a", "x\ny"}}), "data: {\"a\":\"x\\ny\"}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  // Invalid UTF-8 from a model never breaks the stream.
  EXPECT_NO_THROW(sse_event({{"a", std::string("\xff\xfe")}}));
}

TEST(ServerResponses, ChatCompletionShape) {
  DecodedResult r;
  r.text = "";
  r.reasoning = "hm";
  r.tool_calls.push_back({"call_x", "f", "{\"a\":1}"});
  r.finish_reason = FinishReason::kToolCalls;
  r.tokens = {1, 2, 3};
  r.prompt_tokens = 10;
  r.cached_tokens = 4;
  auto j = chat_completion_json({"chatcmpl-1", "m", 5}, r);
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "hm");
  EXPECT_EQ(j["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], "{\"a\":1}");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(j["usage"]["completion_tokens"], 3);
  EXPECT_EQ(j["usage"]["total_tokens"], 13);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
  EXPECT_EQ(j["timings"]["prompt_n"], 6);
  EXPECT_EQ(std::string(finish_reason_name(FinishReason::kLength)), "length");
  EXPECT_NE(new_response_id("x"), new_response_id("x"));
}

}  // namespace
}  // namespace qwen3::server
