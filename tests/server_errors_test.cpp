// Bad input over real HTTP: every malformed request gets a 4xx with the OpenAI error
// object, never a crash or a 5xx; body limit, context overflow, auth, unknown routes.
#include <sys/stat.h>

#include <cstdio>
#include <random>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

void expect_error(const httplib::Result& r, int status, const std::string& code = {}) {
  ASSERT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  const json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty()) << r->body;
  EXPECT_TRUE(e["type"].is_string()) << r->body;
  EXPECT_TRUE(e.contains("code")) << r->body;
  if (!code.empty()) {
    EXPECT_EQ(e["code"], code) << r->body;
  }
}

class ServerErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto o = replay_options(kReasoningReply);
    o.n_ctx = 256;
    server_ = new RunningServer(o);
  }
  static void TearDownTestSuite() { delete server_; }
  static RunningServer* server_;
};
RunningServer* ServerErrors::server_ = nullptr;

TEST_F(ServerErrors, MalformedAndWrongTypes) {
  struct Case {
    const char* body;
    const char* code;
  };
  const Case cases[] = {
      {"{", "invalid_json"},
      {"", "invalid_json"},
      {"[1,2]", "invalid_type"},
      {"{\"messages\": \"hi\"}", "invalid_type"},
      {"{}", "missing"},
      {"{\"messages\": []}", "invalid_value"},
      {"{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", ""},
      {"{\"messages\": [{\"content\": \"x\"}]}", ""},
      {"{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", ""},
      {"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", ""},
      {"{\"messages\": [1]}", "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}",
       "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": -1}",
       "invalid_value"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 0}",
       "invalid_value"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1.5}",
       "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 100000}",
       "invalid_value"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}",
       "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 17}", "invalid_value"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 0}", "invalid_value"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1]}", "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": {}}", "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": "
       "\"function\"}]}",
       "missing"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": \"required\"}",
       ""},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": "
       "\"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": {\"type\": \"function\", "
       "\"function\": {\"name\": \"g\"}}}",
       ""},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"chat_template_kwargs\": "
       "{\"enable_thinking\": \"no\"}}",
       "invalid_type"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": "
       "{\"type\": \"json_schema\"}}",
       "missing"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": "
       "{\"type\": \"xml\"}}",
       "unsupported_value"},
  };
  auto cli = server_->client();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    expect_error(cli.Post("/v1/chat/completions", c.body, "application/json"), 400, c.code);
  }
  expect_error(cli.Post("/v1/completions", "{\"prompt\": 7}", "application/json"), 400,
               "invalid_type");
  expect_error(cli.Post("/v1/completions", "{\"prompt\": []}", "application/json"), 400);
  expect_error(cli.Post("/v1/completions", "{}", "application/json"), 400, "missing");
  expect_error(cli.Post("/tokenize", "{\"content\": 1}", "application/json"), 400);
  expect_error(cli.Post("/detokenize", "{\"tokens\": [\"a\"]}", "application/json"), 400);
  expect_error(cli.Post("/detokenize", "{\"tokens\": [999999999]}", "application/json"), 400);
}

// Random mutations of a valid request: whatever the field holds, the answer is a success
// or a clean 4xx with an error object, and the server stays up.
TEST_F(ServerErrors, GeneratedMutationsNeverCrash) {
  const json values[] = {nullptr,
                         true,
                         0,
                         -1,
                         1e300,
                         3.5,
                         "",
                         "x",
                         json::array(),
                         json::object(),
                         json::array({1, "a"}),
                         json({{"a", 1}})};
  const char* fields[] = {"messages",
                          "temperature",
                          "top_p",
                          "top_k",
                          "min_p",
                          "max_tokens",
                          "stop",
                          "seed",
                          "stream",
                          "tools",
                          "tool_choice",
                          "presence_penalty",
                          "frequency_penalty",
                          "repetition_penalty",
                          "stream_options",
                          "chat_template_kwargs",
                          "enable_thinking",
                          "n",
                          "logprobs",
                          "response_format",
                          "max_completion_tokens"};
  std::mt19937 rng(7);
  auto cli = server_->client();
  int ok = 0, rejected = 0;
  for (int i = 0; i < 150; ++i) {
    json body = chat_body("hi", false);
    body["max_tokens"] = 4;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      body[fields[rng() % std::size(fields)]] = values[rng() % std::size(values)];
    }
    if (rng() % 4 == 0)
      body["messages"] =
          json::array({{{"role", values[rng() % 12]}, {"content", values[rng() % 12]}}});
    auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r) << body.dump();
    ASSERT_LT(r->status, 500) << body.dump() << " -> " << r->body;
    if (r->status == 200) {
      ++ok;
    } else {
      ++rejected;
      expect_error(r, r->status);
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(rejected, 0);
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerErrors, OversizeBodyIs413) {
  auto cli = server_->client();
  std::string big =
      "{\"messages\": [{\"role\": \"user\", \"content\": \"" + std::string(9u << 20, 'a') + "\"}]}";
  expect_error(cli.Post("/v1/chat/completions", big, "application/json"), 413, "request_too_large");
  // The server is still fine afterwards.
  auto r = cli.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerErrors, PromptOverContextIs400) {
  auto cli = server_->client();
  std::string words;
  for (int i = 0; i < 600; ++i) words += "word ";
  expect_error(cli.Post("/v1/chat/completions", chat_body(words, false).dump(), "application/json"),
               400, "context_length_exceeded");
  expect_error(cli.Post("/v1/chat/completions", chat_body(words, true).dump(), "application/json"),
               400, "context_length_exceeded");
  expect_error(cli.Post("/v1/completions", json({{"prompt", words}}).dump(), "application/json"),
               400, "context_length_exceeded");
}

TEST_F(ServerErrors, UnknownRouteIs404WrongMethod405Json) {
  auto cli = server_->client();
  expect_error(cli.Get("/v1/nothing"), 404, "not_found");
  // A known path with the wrong method: 405 with the methods it has.
  auto r = cli.Get("/v1/chat/completions");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
}

TEST(ServerAuth, BearerKeyOnEverythingButHealthAndPage) {
  auto o = replay_options(kReasoningReply);
  o.api_key = "sekret-key";
  RunningServer srv(o);
  auto cli = srv.client();
  auto body = chat_body("hi", false).dump();
  expect_error(cli.Post("/v1/chat/completions", body, "application/json"), 401, "invalid_api_key");
  expect_error(cli.Get("/v1/models"), 401);
  expect_error(cli.Get("/metrics"), 401);
  expect_error(cli.Post("/tokenize", "{\"content\": \"a\"}", "application/json"), 401);
  httplib::Headers wrong = {{"Authorization", "Bearer sekret-kez"}};
  expect_error(cli.Post("/v1/chat/completions", wrong, body, "application/json"), 401);
  httplib::Headers basic = {{"Authorization", "Basic sekret-key"}};
  expect_error(cli.Post("/v1/chat/completions", basic, body, "application/json"), 401);

  httplib::Headers good = {{"Authorization", "Bearer sekret-key"}};
  auto r = cli.Post("/v1/chat/completions", good, body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto models = cli.Get("/v1/models", good);
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto page = cli.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST(ServerHealth, Is503WhileLoading) {
  // The replay backend reads its file while the model loads: a FIFO holds loading up
  // until the test writes to it.
  std::string fifo = std::string(QWEN3_BUILD_DIR) + "/server_health_test.fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto o = replay_options("");
  o.properties.erase("replay_text");
  o.properties["replay_file"] = fifo;
  RunningServer srv(o, false);
  auto cli = srv.client();
  auto r = cli.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(r->has_header("Retry-After"));
  expect_error(r, 503);
  expect_error(cli.Post("/v1/chat/completions", chat_body("hi", false).dump(), "application/json"),
               503);
  {
    std::FILE* f = std::fopen(fifo.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("Hi!<|im_end|>", f);
    std::fclose(f);
  }
  srv.wait_until_ready();
  r = cli.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ::unlink(fifo.c_str());
}

}  // namespace
}  // namespace qwen3::test
