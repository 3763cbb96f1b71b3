// GET /metrics of a server batching a real (random-weight, tiny) model: the paged KV pool
// gauges, prefix-cache hit tokens after two requests sharing a system prompt, the
// sequences-per-step histogram, time to first token and inter-token latency histograms
// (counts that match the requests and tokens served, cumulative buckets ending in +Inf),
// and the Histogram rendering itself; a tiny --kv-size preempts and recomputes requests
// without breaking their streams, and a prompt larger than the pool is a 400.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/metrics.h"
#include "server_test_util.h"
#include "tiny_model_server.h"

namespace qwen3::test {
namespace {

const std::string& tiny_model() {
  static const std::string path = gen_tiny_model("qwen3_metrics_test_", "q4_0", 5);
  return path;
}

json request(const std::string& system, const std::string& user, int max_tokens) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "system"}, {"content", system}},
                                    {{"role", "user"}, {"content", user}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0},
          {"ignore_eos", true}};
}

int post(RunningServer& srv, const json& body) {
  auto cli = srv.client();
  auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  return r ? r->status : -1;
}

// Bucket counts of histogram `name` in order, the +Inf one last.
std::vector<double> buckets(const std::string& text, const std::string& name) {
  std::vector<double> out;
  const std::string prefix = name + "_bucket{le=\"";
  std::size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    const std::size_t sp = text.find(' ', pos);
    out.push_back(std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1)));
    pos = sp;
  }
  return out;
}

void expect_histogram(const std::string& text, const std::string& name, double count) {
  const auto b = buckets(text, name);
  ASSERT_GE(b.size(), 2u) << name;
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LE(b[i - 1], b[i]) << name << " bucket " << i;
  EXPECT_EQ(b.back(), count) << name;
  EXPECT_EQ(metric(text, name + "_count"), count) << name;
  EXPECT_NE(text.find("# TYPE " + name + " histogram"), std::string::npos) << name;
}

TEST(ServerMetrics, KvPoolPrefixHitsBatchAndLatencyHistograms) {
  server::ServerOptions o = tiny_server_options(tiny_model(), 2);
  RunningServer srv(o);
  std::string system = "You answer questions about the weather in short sentences.";
  for (int i = 0; i < 5; ++i) system += " Rule " + std::to_string(i) + ": be exact.";
  const int kTokens = 8;
  // The first request fills the prefix cache; then two at once share its system prompt.
  ASSERT_EQ(post(srv, request(system, "Rain?", kTokens)), 200);
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; ++i)
    ts.emplace_back([&, i] {
      EXPECT_EQ(post(srv, request(system, "Snow " + std::to_string(i) + "?", kTokens)), 200);
    });
  for (auto& t : ts) t.join();
  auto cli = srv.client();
  std::string m;
  // The slots give their blocks back just after the replies are sent.
  for (int i = 0; i < 200; ++i) {
    m = cli.Get("/metrics")->body;
    if (metric(m, "qwen3_kv_blocks_used") == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metric(m, "qwen3_kv_blocks_total"), 2 * 256 / 16);
  EXPECT_EQ(metric(m, "qwen3_kv_blocks_used"), 0);
  EXPECT_GT(metric(m, "qwen3_kv_blocks_cached"), 0);
  // Each later request takes at least the system prompt's whole blocks (> 48 tokens).
  EXPECT_GE(metric(m, "qwen3_prefix_cache_hit_tokens_total"), 2 * 48);
  EXPECT_EQ(metric(m, "qwen3_requests_deferred"), 0);
  EXPECT_EQ(metric(m, "qwen3_requests_processing"), 0);
  expect_histogram(m, "qwen3_time_to_first_token_seconds", 3);
  expect_histogram(m, "qwen3_inter_token_latency_seconds", 3 * (kTokens - 1));
  const double steps = metric(m, "qwen3_batch_sequences_count");
  EXPECT_GT(steps, 0);
  expect_histogram(m, "qwen3_batch_sequences", steps);
  // Steps with one sequence and at most 2 (--parallel 2) account for all of them.
  EXPECT_EQ(buckets(m, "qwen3_batch_sequences")[1], steps);
  EXPECT_GE(metric(m, "qwen3_batch_sequences_sum"), steps);
}

// A streamed chat completion: its content and finish reason, "" if the stream broke.
std::pair<std::string, std::string> stream_chat(RunningServer& srv, const std::string& user,
                                                int max_tokens) {
  json body = request("You are brief.", user, max_tokens);
  body["stream"] = true;
  auto cli = srv.client();
  auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  if (!r || r->status != 200) return {"", r ? r->body : "no reply"};
  const SseStream s = parse_sse(r->body);
  if (!s.well_formed || !s.done) return {"", "broken stream"};
  std::string content, finish;
  for (const json& e : s.events) {
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const json& c = e["choices"][0];
    if (c.contains("delta") && c["delta"].contains("content") && c["delta"]["content"].is_string())
      content += c["delta"]["content"].get<std::string>();
    if (c.contains("finish_reason") && c["finish_reason"].is_string())
      finish = c["finish_reason"].get<std::string>();
  }
  return {content, finish};
}

TEST(ServerMetrics, ATinyKvPoolPreemptsButEveryStreamEndsWhole) {
  // --kv-size 160 (10 blocks) for 4 slots whose requests grow to ~5 blocks each: running
  // requests take the blocks of younger ones, which recompute them. Every stream still
  // ends with [DONE], its greedy text the same as when it ran alone; a prompt larger than
  // the pool is a 400 that names the numbers.
  server::ServerOptions o = tiny_server_options(tiny_model(), 4);
  o.kv_size = 160;
  RunningServer srv(o);
  const int kTokens = 56;
  std::vector<std::pair<std::string, std::string>> alone, together(4);
  for (int i = 0; i < 4; ++i)
    alone.push_back(stream_chat(srv, "Question " + std::to_string(i) + "?", kTokens));
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&, i] {
      together[static_cast<std::size_t>(i)] =
          stream_chat(srv, "Question " + std::to_string(i) + "?", kTokens);
    });
  for (auto& t : ts) t.join();
  for (int i = 0; i < 4; ++i) {
    const auto& a = alone[static_cast<std::size_t>(i)];
    EXPECT_EQ(a.second, "length") << i << ": " << a.first;
    EXPECT_FALSE(a.first.empty()) << i;
    EXPECT_EQ(together[static_cast<std::size_t>(i)], a) << i;
  }
  auto cli = srv.client();
  std::string m = cli.Get("/metrics")->body;
  std::printf("  preemptions %.0f, recomputed tokens %.0f\n",
              metric(m, "qwen3_kv_preemptions_total"),
              metric(m, "qwen3_kv_recomputed_tokens_total"));
  EXPECT_GT(metric(m, "qwen3_kv_preemptions_total"), 0);
  EXPECT_EQ(metric(m, "qwen3_kv_pool_full_total"), 0);
  // Larger than the whole pool: refused up front with the numbers.
  std::string big;
  for (int i = 0; i < 200; ++i) big += " word";
  auto r = cli.Post("/v1/chat/completions", request("You are brief.", big, 8).dump(),
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("context_length_exceeded"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("160"), std::string::npos) << r->body;
}

TEST(ServerMetrics, HistogramBucketsAreCumulative) {
  server::Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.observe(v);
  std::string out;
  h.render(out, "x");
  EXPECT_EQ(out,
            "x_bucket{le=\"0.1\"} 2\nx_bucket{le=\"1\"} 3\nx_bucket{le=\"10\"} 4\n"
            "x_bucket{le=\"+Inf\"} 5\nx_sum 55.65\nx_count 5\n");
}

}  // namespace
}  // namespace qwen3::test
