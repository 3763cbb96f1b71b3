// n > 1 on a server batching a tiny random model: the choices of one request are each
// the reply a single request with seed + i gives (non-streaming and streaming, chat and
// text completions), numbered by index, usage counting the prompt once and every
// choice's tokens; the later choices take the prompt's KV blocks from the prefix cache;
// n outside 1..16 is a 400.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "server_test_util.h"
#include "tiny_model_server.h"

namespace qwen3::test {
namespace {

const std::string& tiny_model() {
  static const std::string path = gen_tiny_model("qwen3_choices_test_", "q4_0", 6);
  return path;
}

class ServerChoices : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server::ServerOptions o = tiny_server_options(tiny_model(), 3);
    srv_ = new RunningServer(o);
  }
  static void TearDownTestSuite() {
    delete srv_;
    srv_ = nullptr;
  }
  static json post(const std::string& path, const json& body, int want = 200) {
    auto cli = srv_->client();
    auto r = cli.Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, want) << r->body;
    if (body.value("stream", false) && r->status == 200) return json{{"sse", r->body}};
    return json::parse(r->body);
  }
  static RunningServer* srv_;
};
RunningServer* ServerChoices::srv_ = nullptr;

json chat_req(int n, bool stream, std::uint64_t seed) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "system"},
                                     {"content",
                                      "You write short poems about the sea, the "
                                      "wind and the boats in the harbour at night."}},
                                    {{"role", "user"}, {"content", "One more, please."}}})},
          {"max_tokens", 10},
          {"temperature", 0.9},
          {"seed", seed},
          {"ignore_eos", true},
          {"n", n},
          {"stream", stream}};
}

TEST_F(ServerChoices, ChatChoicesAreTheSeededSingleRepliesAndShareThePrompt) {
  auto hits = [] {
    return metric(srv_->client().Get("/metrics")->body, "qwen3_prefix_cache_hit_tokens_total");
  };
  std::vector<std::string> single;
  for (int i = 0; i < 3; ++i)
    single.push_back(post("/v1/chat/completions",
                          chat_req(1, false, 40 + i))["choices"][0]["message"]["content"]);
  const double before = hits();
  json r = post("/v1/chat/completions", chat_req(3, false, 40));
  ASSERT_EQ(r["choices"].size(), 3u);
  int completion = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r["choices"][i]["index"], i);
    EXPECT_EQ(r["choices"][i]["message"]["content"], single[static_cast<std::size_t>(i)]) << i;
    EXPECT_EQ(r["choices"][i]["finish_reason"], "length");
    completion += 10;
  }
  EXPECT_EQ(r["usage"]["completion_tokens"], completion);
  EXPECT_EQ(r["usage"]["total_tokens"], r["usage"]["prompt_tokens"].get<int>() + completion);
  EXPECT_GE(hits() - before, 2 * 32) << "choices 1 and 2 did not reuse the prompt's blocks";
  EXPECT_NE(single[0], single[1]);  // the seeds differ, so do the choices

  // Streaming: chunks of both choices, each assembling to its single reply; one [DONE].
  json s = post("/v1/chat/completions", chat_req(2, true, 40));
  SseStream st = parse_sse(s["sse"]);
  EXPECT_TRUE(st.well_formed);
  EXPECT_TRUE(st.done);
  std::map<int, std::string> text;
  std::map<int, int> finals;
  for (const auto& e : st.events) {
    ASSERT_EQ(e["choices"].size(), 1u);
    const auto& c = e["choices"][0];
    const int i = c["index"];
    if (c["delta"].contains("content") && c["delta"]["content"].is_string())
      text[i] += c["delta"]["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) ++finals[i];
  }
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[0], single[0]);
  EXPECT_EQ(text[1], single[1]);
  EXPECT_EQ(finals[0], 1);
  EXPECT_EQ(finals[1], 1);
}

TEST_F(ServerChoices, TextCompletionChoicesAndLimits) {
  json one = {{"model", "tiny"}, {"prompt", "The harbour at night"},
              {"max_tokens", 8}, {"temperature", 0.8},
              {"seed", 5},       {"ignore_eos", true}};
  const std::string a = post("/v1/completions", one)["choices"][0]["text"];
  one["seed"] = 6;
  const std::string b = post("/v1/completions", one)["choices"][0]["text"];
  one["seed"] = 5;
  one["n"] = 2;
  json r = post("/v1/completions", one);
  ASSERT_EQ(r["choices"].size(), 2u);
  EXPECT_EQ(r["choices"][0]["text"], a);
  EXPECT_EQ(r["choices"][1]["text"], b);
  EXPECT_EQ(r["choices"][1]["index"], 1);
  one["n"] = 17;
  json e = post("/v1/completions", one, 400);
  EXPECT_EQ(e["error"]["param"], "n");
  one["n"] = 0;
  post("/v1/completions", one, 400);
}

}  // namespace
}  // namespace qwen3::test
