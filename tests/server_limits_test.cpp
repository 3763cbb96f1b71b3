// The server's request limits and request validation (issue 16, items 1, 4 and 9) over
// real HTTP with the replay backend: 50,000-deep JSON in every field that reaches the
// template is a 400 naming the depth limit (it used to crash the process), numbers out
// of range are 400s, an unknown model is 404 model_not_found, logit_bias is validated and
// applied, and /tokenize and /detokenize refuse input beyond their limits.
#include <string>

#include "server/request_limits.h"
#include "server_test_util.h"

namespace qwen3::test {
namespace {

namespace limits = server::limits;

// `depth` nested arrays around a 1: "[[[1]]]".
std::string nested(std::size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

json error_of(const httplib::Result& r, int status) {
  EXPECT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  if (!r) return json();
  EXPECT_EQ(r->status, status) << r->body.substr(0, 400);
  json j = json::parse(r->body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error")) << r->body.substr(0, 400);
  return j.is_object() && j.contains("error") ? j["error"] : json();
}

bool contains(const json& e, const std::string& needle) {
  return e.contains("message") && e["message"].get<std::string>().find(needle) != std::string::npos;
}

class ServerLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto o = replay_options(kReasoningReply);
    o.aliases = {"replay-alias", "gpt-4o-mini"};
    server_ = new RunningServer(o);
  }
  static void TearDownTestSuite() { delete server_; }
  static RunningServer* server_;
};
RunningServer* ServerLimits::server_ = nullptr;

constexpr const char* kUser = "{\"role\": \"user\", \"content\": \"hi\"}";

TEST_F(ServerLimits, FiftyThousandDeepJsonIs400InEveryField) {
  const std::string deep = nested(50000);
  struct Case {
    const char* path;
    std::string body;
  };
  const Case cases[] = {
      {"/v1/chat/completions", std::string("{\"messages\": [") + kUser +
                                   "], \"chat_template_kwargs\": {\"x\": " + deep + "}}"},
      {"/v1/chat/completions",
       std::string("{\"messages\": [") + kUser +
           "], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", "
           "\"parameters\": {\"type\": \"object\", \"properties\": " +
           deep + "}}}]}"},
      {"/v1/chat/completions",
       std::string("{\"messages\": [") + kUser +
           ", {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"type\": "
           "\"function\", \"function\": {\"name\": \"f\", \"arguments\": " +
           deep + "}}]}, " + kUser + "]}"},
      {"/apply-template", std::string("{\"messages\": [") + kUser +
                              "], \"chat_template_kwargs\": {\"x\": " + deep + "}}"},
      {"/apply-template", std::string("{\"messages\": [") + kUser +
                              "], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": "
                              "\"f\", \"parameters\": " +
                              deep + "}}]}"},
      {"/v1/completions", "{\"prompt\": " + deep + "}"},
      {"/tokenize", "{\"content\": " + deep + "}"},
  };
  auto cli = server_->client();
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.path) + " " + c.body.substr(0, 160));
    json e = error_of(cli.Post(c.path, c.body, "application/json"), 400);
    EXPECT_EQ(e["type"], "invalid_request_error");
    EXPECT_EQ(e["code"], "limit_exceeded");
    EXPECT_TRUE(contains(e, "nesting is deeper than the limit of 64 levels")) << e.dump();
  }
  // Depth within the limit still works: the template renders 61 levels of the body.
  std::string ok = std::string("{\"messages\": [") + kUser +
                   "], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", "
                   "\"parameters\": {\"type\": \"object\", \"properties\": {\"a\": " +
                   nested(55) + "}}}}]}";
  auto r = cli.Post("/apply-template", ok, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(nested(55)), std::string::npos);
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerLimits, SizeLimitsNameTheLimit) {
  auto cli = server_->client();
  // A string over 1 MiB.
  std::string long_string = "{\"messages\": [{\"role\": \"user\", \"content\": \"" +
                            std::string(limits::kJson.max_string_bytes + 1, 'a') + "\"}]}";
  json e = error_of(cli.Post("/v1/chat/completions", long_string, "application/json"), 400);
  EXPECT_TRUE(contains(e, "longer than the limit of 1048576 bytes")) << e.dump();
  // An array over 131,072 items.
  std::string items = "{\"tokens\": [0";
  for (std::size_t i = 0; i < limits::kJson.max_array_items; ++i) items += ",0";
  items += "]}";
  e = error_of(cli.Post("/detokenize", items, "application/json"), 400);
  EXPECT_TRUE(contains(e, "more than the limit of 131072 items")) << e.dump();
  // Too many messages and tools.
  json body = chat_body("hi", false);
  body["messages"] = json::array();
  for (std::size_t i = 0; i <= limits::kMaxMessages; ++i) {
    body["messages"].push_back({{"role", "user"}, {"content", "x"}});
  }
  e = error_of(cli.Post("/v1/chat/completions", body.dump(), "application/json"), 400);
  EXPECT_TRUE(contains(e, "more than the limit of 4096")) << e.dump();
  EXPECT_EQ(e["param"], "messages");
  body = chat_body("hi", false);
  for (std::size_t i = 0; i <= limits::kMaxTools; ++i) {
    body["tools"].push_back(
        {{"type", "function"}, {"function", {{"name", "f" + std::to_string(i)}}}});
  }
  e = error_of(cli.Post("/v1/chat/completions", body.dump(), "application/json"), 400);
  EXPECT_TRUE(contains(e, "more than the limit of 512")) << e.dump();
  EXPECT_EQ(e["param"], "tools");
}

TEST_F(ServerLimits, NumberOverflowIs400Anywhere) {
  auto cli = server_->client();
  const std::string bodies[] = {
      std::string("{\"messages\": [") + kUser + "], \"temperature\": 1e999}",
      std::string("{\"messages\": [") + kUser + "], \"max_tokens\": -1e999}",
      std::string("{\"messages\": [") + kUser + "], \"chat_template_kwargs\": {\"a\": [1e999]}}",
      std::string("{\"messages\": [") + kUser + "], \"seed\": 1e400}",
  };
  for (const auto& b : bodies) {
    SCOPED_TRACE(b);
    json e = error_of(cli.Post("/v1/chat/completions", b, "application/json"), 400);
    EXPECT_EQ(e["code"], "invalid_value");
    EXPECT_TRUE(contains(e, "is out of range")) << e.dump();
  }
  json e = error_of(
      cli.Post("/v1/completions", "{\"prompt\": \"x\", \"top_p\": 1e999}", "application/json"),
      400);
  EXPECT_TRUE(contains(e, "number 1e999 at byte")) << e.dump();
  e = error_of(cli.Post("/tokenize", "{\"content\": \"x\", \"n\": 1E+999}", "application/json"),
               400);
  EXPECT_TRUE(contains(e, "out of range")) << e.dump();
}

TEST_F(ServerLimits, UnknownModelIs404AndAliasesAreAccepted) {
  auto cli = server_->client();
  for (const char* path : {"/v1/chat/completions", "/v1/completions"}) {
    SCOPED_TRACE(path);
    json body = std::string(path) == "/v1/chat/completions" ? chat_body("hi", false)
                                                            : json({{"prompt", "hi"}});
    body["max_tokens"] = 4;
    body["model"] = "no-such-model";
    json e = error_of(cli.Post(path, body.dump(), "application/json"), 404);
    EXPECT_EQ(e["code"], "model_not_found");
    EXPECT_EQ(e["type"], "invalid_request_error");
    EXPECT_EQ(e["param"], "model");
    EXPECT_TRUE(contains(e, "no-such-model")) << e.dump();
    for (const char* ok : {"replay-test", "replay-alias", "gpt-4o-mini", ""}) {
      SCOPED_TRACE(ok);
      body["model"] = ok;
      if (std::string(ok).empty()) body.erase("model");
      auto r = cli.Post(path, body.dump(), "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200) << r->body;
    }
  }
}

TEST_F(ServerLimits, LogitBiasIsValidated) {
  auto cli = server_->client();
  const json bad[] = {"x",
                      json::array({1, 2}),
                      {{"abc", 1}},
                      {{"-5", 1}},
                      {{"01", 1}},
                      {{"99999999999", 1}},
                      {{"5", 101}},
                      {{"5", -100.5}},
                      {{"5", "high"}},
                      {{"5", nullptr}}};
  for (const auto& lb : bad) {
    SCOPED_TRACE(lb.dump());
    json body = chat_body("hi", false);
    body["logit_bias"] = lb;
    json e = error_of(cli.Post("/v1/chat/completions", body.dump(), "application/json"), 400);
    EXPECT_EQ(e["param"], "logit_bias");
    EXPECT_TRUE(contains(e, "logit_bias")) << e.dump();
  }
  // An id beyond the vocabulary (151,669 ids) is refused by the pipeline, before any output.
  json body = chat_body("hi", false);
  body["logit_bias"] = {{"151669", -100}};
  json e = error_of(cli.Post("/v1/chat/completions", body.dump(), "application/json"), 400);
  EXPECT_TRUE(contains(e, "'logit_bias' names token 151669, outside the vocabulary")) << e.dump();
  body["stream"] = true;
  e = error_of(cli.Post("/v1/chat/completions", body.dump(), "application/json"), 400);
  EXPECT_TRUE(contains(e, "logit_bias")) << e.dump();
}

// The replay backend gives the next replay token a logit of 30 and every other one -30:
// a bias of -100 on the first token of the reply makes greedy decoding pick another.
TEST_F(ServerLimits, LogitBiasIsApplied) {
  auto cli = server_->client();
  auto tok = cli.Post("/tokenize", json({{"content", "<think>"}}).dump(), "application/json");
  ASSERT_TRUE(tok);
  ASSERT_EQ(tok->status, 200) << tok->body;
  const int first = json::parse(tok->body)["tokens"][0].get<int>();

  json body = {{"prompt", "hi"}, {"max_tokens", 3}, {"temperature", 0}};
  auto plain = cli.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  const json plain_text = json::parse(plain->body)["choices"][0]["text"];
  EXPECT_NE(plain_text.get<std::string>().find("<think>"), std::string::npos) << plain->body;

  body["logit_bias"] = {{std::to_string(first), -100}};
  auto biased = cli.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(biased);
  ASSERT_EQ(biased->status, 200) << biased->body;
  const json biased_text = json::parse(biased->body)["choices"][0]["text"];
  EXPECT_EQ(biased_text.get<std::string>().find("<think>"), std::string::npos) << biased->body;
  EXPECT_NE(biased_text, plain_text);
}

TEST_F(ServerLimits, TokenizeAndDetokenizeAreBounded) {
  auto cli = server_->client();
  // Content over 1 MiB (the body itself is within the 8 MiB limit).
  std::string big(limits::kMaxTokenizeBytes + 1, 'a');
  json e =
      error_of(cli.Post("/tokenize", json({{"content", big}}).dump(), "application/json"), 400);
  // The JSON string limit (1 MiB) catches it first or the endpoint's own limit does.
  EXPECT_TRUE(contains(e, "limit of 1048576")) << e.dump();

  // with_pieces: at most 131,072 tokens. "a " repeated gives one token per pair.
  std::string many;
  for (std::size_t i = 0; i <= limits::kMaxPieces; ++i) many += " a";
  ASSERT_LE(many.size(), limits::kMaxTokenizeBytes);
  e = error_of(cli.Post("/tokenize", json({{"content", many}, {"with_pieces", true}}).dump(),
                        "application/json"),
               400);
  EXPECT_EQ(e["param"], "with_pieces");
  EXPECT_TRUE(contains(e, "at most 131072 tokens")) << e.dump();
  // Without pieces the same content is fine.
  auto r = cli.Post("/tokenize", json({{"content", many}}).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["tokens"].size(), limits::kMaxPieces + 1);

  // Pieces: whole UTF-8 as a string, a split character as its bytes.
  r = cli.Post("/tokenize", json({{"content", "hi 😀"}, {"with_pieces", true}}).dump(),
               "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json toks = json::parse(r->body)["tokens"];
  ASSERT_GE(toks.size(), 2u);
  EXPECT_EQ(toks[0]["piece"], "hi");
  std::string joined;
  for (const auto& t : toks) {
    ASSERT_TRUE(t["id"].is_number_integer());
    if (t["piece"].is_string()) {
      joined += t["piece"].get<std::string>();
    } else {
      for (const auto& b : t["piece"]) joined += static_cast<char>(b.get<int>());
    }
  }
  EXPECT_EQ(joined, "hi 😀");
}

}  // namespace
}  // namespace qwen3::test
