// The server's log lines: the loading and ready lines (URL, model, parallel, ctx), one
// access line per request with method, path, status, duration and tokens (also for a
// stream, written when it ends, and for a request refused at its head), the JSON format,
// and --quiet. In process (replay backend) with the log captured; plus `qwen3 serve`
// itself: a bad model path is one error line and nothing else.
#include <sys/wait.h>

#include <cstdio>
#include <mutex>
#include <regex>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }
  // Waits for a line containing `needle`; returns it ("" after the timeout).
  std::string wait_for(const std::string& needle) {
    for (int i = 0; i < 200; ++i) {
      for (const auto& l : snapshot())
        if (l.find(needle) != std::string::npos) return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return "";
  }
};

server::ServerOptions logged(Captured& cap, const std::string& format, bool quiet = false) {
  auto o = replay_options(kReasoningReply);
  o.log = [&cap](const std::string& line) {
    std::lock_guard<std::mutex> lock(cap.mu);
    cap.lines.push_back(line);
  };
  o.log_format = format;
  o.quiet = quiet;
  return o;
}

TEST(ServerLog, ReadyLineAndAccessLinesAsText) {
  Captured cap;
  RunningServer srv(logged(cap, "text"));
  const std::string port = std::to_string(srv.port());
  const std::string ready = cap.wait_for("ready on");
  EXPECT_NE(ready.find("http://127.0.0.1:" + port), std::string::npos) << ready;
  EXPECT_NE(ready.find("model replay-test, parallel 1, ctx 2048"), std::string::npos) << ready;
  EXPECT_NE(cap.snapshot().front().find("loading "), std::string::npos) << cap.snapshot().front();

  auto c = srv.client();
  ASSERT_EQ(c.Get("/health")->status, 200);
  std::regex health(R"(^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 GET /health 200 [\d.]+ m?s$)");
  const std::string h = cap.wait_for("GET /health");
  EXPECT_TRUE(std::regex_match(h, health)) << h;

  auto r = c.Post("/v1/chat/completions", chat_body("hi", false).dump(), "application/json");
  ASSERT_EQ(r->status, 200);
  const json usage = json::parse(r->body)["usage"];
  const std::string tokens = "tokens " + std::to_string(usage["prompt_tokens"].get<int>()) + "+" +
                             std::to_string(usage["completion_tokens"].get<int>());
  const std::string post = cap.wait_for("POST /v1/chat/completions 200");
  EXPECT_NE(post.find(tokens), std::string::npos) << post << " / " << tokens;

  // A stream: the line comes when it ends, with its tokens.
  r = c.Post("/v1/chat/completions", chat_body("hi", true).dump(), "application/json");
  ASSERT_EQ(r->status, 200);
  for (int i = 0; i < 100; ++i) {
    int n = 0;
    for (const auto& l : cap.snapshot())
      n += l.find("POST /v1/chat/completions 200") != std::string::npos;
    if (n == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::string stream_line;
  for (const auto& l : cap.snapshot())
    if (l.find("POST /v1/chat/completions 200") != std::string::npos) stream_line = l;
  EXPECT_NE(stream_line, post);
  EXPECT_NE(stream_line.find(tokens), std::string::npos) << stream_line;

  // Refused at the head (no route): logged too.
  EXPECT_EQ(c.Get("/nowhere")->status, 404);
  EXPECT_NE(cap.wait_for("GET /nowhere 404"), "");
}

TEST(ServerLog, JsonLinesAndQuiet) {
  Captured cap;
  {
    RunningServer srv(logged(cap, "json"));
    ASSERT_NE(cap.wait_for("\"ready\""), "");
    auto c = srv.client();
    auto r = c.Post("/v1/chat/completions", chat_body("hi", false).dump(), "application/json");
    ASSERT_EQ(r->status, 200);
    ASSERT_NE(cap.wait_for("\"request\""), "");
  }
  bool saw_ready = false, saw_request = false;
  for (const auto& l : cap.snapshot()) {
    const json j = json::parse(l);  // every line is one JSON object
    ASSERT_TRUE(j.contains("time") && j.contains("event")) << l;
    if (j["event"] == "ready") {
      saw_ready = true;
      EXPECT_EQ(j["model"], "replay-test");
      EXPECT_EQ(j["parallel"], 1);
      EXPECT_EQ(j["ctx"], 2048);
      EXPECT_TRUE(j["url"].get<std::string>().rfind("http://127.0.0.1:", 0) == 0);
    }
    if (j["event"] == "request" && j["path"] == "/v1/chat/completions") {
      saw_request = true;
      EXPECT_EQ(j["method"], "POST");
      EXPECT_EQ(j["status"], 200);
      EXPECT_GT(j["completion_tokens"].get<int>(), 0);
      EXPECT_GE(j["ms"].get<double>(), 0);
    }
  }
  EXPECT_TRUE(saw_ready && saw_request);

  Captured quiet;
  {
    RunningServer srv(logged(quiet, "text", true));
    ASSERT_NE(quiet.wait_for("ready on"), "");
    ASSERT_EQ(srv.client().Get("/health")->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(quiet.snapshot().size(), 1u) << "--quiet logs only the ready line";
}

TEST(ServerLog, BadLogFormatIsRejected) {
  Captured cap;
  auto o = logged(cap, "xml");
  try {
    server::Server s(o);
    FAIL() << "accepted --log-format xml";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("text or json"), std::string::npos) << e.what();
  }
}

TEST(ServerLog, ServeWithAMissingModelPrintsOnlyTheError) {
  std::string out;
  FILE* p = popen(
      (std::string(QWEN3_BIN) + " serve -m /nonexistent/model.gguf --port 0 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = WEXITSTATUS(pclose(p));
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  EXPECT_EQ(out.find("loading"), std::string::npos) << out;
  EXPECT_NE(out.find("model not found: '/nonexistent/model.gguf' does not exist"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace qwen3::test
