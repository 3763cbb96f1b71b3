// Honest shutdown, end to end on loopback: after stop() (what SIGTERM does) a stream cut
// at the end of the grace period ends with an SSE error event (no final "stop" chunk, no
// [DONE]); queued and running non-streaming requests get 503 (never a 200 with an empty
// body); a reply that finishes within the grace period is delivered whole; and
// Server::run returns within grace + 2 s even with a client trickling header bytes.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

using Clock = std::chrono::steady_clock;

// 300 tokens at 40 ms: 12 s, much longer than any grace period here.
std::string long_reply() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += " word";
  return s + "<|im_end|>";
}

// A server whose run() we time.
class Harness {
 public:
  explicit Harness(server::ServerOptions o) {
    engine::register_replay_backend();
    server_ = std::make_unique<server::Server>(std::move(o));
    server_->bind();
    thread_ = std::thread([this] {
      server_->run();
      returned_ = Clock::now();
      done_ = true;
    });
    for (int i = 0; i < 600 && !server_->ready(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Harness() {
    server_->stop();
    thread_.join();
  }
  int port() const { return server_->port(); }
  bool ready() const { return server_->ready(); }
  void stop() {
    stopped_ = Clock::now();
    server_->stop();
  }
  // Seconds from stop() until run() returned; waits for it up to `limit_s`.
  double wait_returned(double limit_s) {
    auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(limit_s * 1000));
    while (!done_ && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!done_) return 1e9;
    return std::chrono::duration<double>(returned_ - stopped_).count();
  }

 private:
  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Clock::time_point stopped_, returned_;
};

TEST(ServerShutdown, CutStreamEndsWithAnErrorEvent) {
  auto o = replay_options(long_reply(), 40);
  o.shutdown_grace_s = 0.5;
  Harness h(o);
  ASSERT_TRUE(h.ready());
  RawConnection c(h.port());
  c.send_post("/v1/chat/completions", chat_body("go", true).dump());
  ASSERT_NE(c.read_until("word").find("word"), std::string::npos);
  h.stop();
  bool closed = false;
  std::string got = c.read_all(5000, &closed);
  EXPECT_TRUE(closed);
  // The tail holds the end of the stream: an error event, then the chunked terminator.
  EXPECT_NE(got.find("\"error\""), std::string::npos) << got;
  EXPECT_NE(got.find("shut down"), std::string::npos) << got;
  EXPECT_EQ(got.find("[DONE]"), std::string::npos) << got;
  EXPECT_EQ(got.find("\"finish_reason\":\"stop\""), std::string::npos) << got;
  EXPECT_LT(h.wait_returned(5), 0.5 + 2.0);
}

TEST(ServerShutdown, QueuedAndRunningNonStreamingGet503) {
  auto o = replay_options(long_reply(), 40);
  o.shutdown_grace_s = 0.5;
  o.parallel = 1;
  o.max_queue = 4;
  Harness h(o);
  ASSERT_TRUE(h.ready());
  RawConnection running(h.port()), queued(h.port()), queued_stream(h.port());
  running.send_post("/v1/chat/completions", chat_body("a", false).dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  queued.send_post("/v1/chat/completions", chat_body("b", false).dump());
  queued_stream.send_post("/v1/chat/completions", chat_body("c", true).dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  h.stop();
  for (RawConnection* c : {&running, &queued, &queued_stream}) {
    bool closed = false;
    std::string got = c->read_all(4000, &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
    EXPECT_NE(got.find("\"error\""), std::string::npos) << got;
  }
  EXPECT_LT(h.wait_returned(5), 0.5 + 2.0);
}

TEST(ServerShutdown, ReplyWithinGraceIsDeliveredWhole) {
  auto o = replay_options("one two three four five six<|im_end|>", 40);
  o.shutdown_grace_s = 5;
  Harness h(o);
  ASSERT_TRUE(h.ready());
  RawConnection c(h.port());
  c.send_post("/v1/chat/completions", chat_body("go", true).dump());
  ASSERT_NE(c.read_until("data:").find("data:"), std::string::npos);
  h.stop();
  std::string got = c.read_all(5000);
  EXPECT_NE(got.find("[DONE]"), std::string::npos) << got;
  EXPECT_EQ(got.find("shut down"), std::string::npos) << got;
  EXPECT_LT(h.wait_returned(7), 5.0);
}

TEST(ServerShutdown, ReturnsInTimeWhateverClientsDo) {
  auto o = replay_options(long_reply(), 40);
  o.shutdown_grace_s = 1;
  Harness h(o);
  ASSERT_TRUE(h.ready());
  // A stream that outlives the grace, an idle keep-alive connection, a trickling head,
  // a half-sent body, and a client that reads nothing.
  RawConnection stream(h.port()), idle(h.port()), trickle(h.port()), half(h.port()), deaf(h.port());
  stream.send_post("/v1/chat/completions", chat_body("go", true).dump());
  ASSERT_NE(stream.read_until("word").find("word"), std::string::npos);
  idle.send_raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  idle.read_until("ok");
  trickle.send_raw("GET /health HTTP/1.1\r\n");
  half.send_raw(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":");
  deaf.send_post("/v1/chat/completions", chat_body("deaf", true).dump());
  std::atomic<bool> go{true};
  std::thread t([&] {
    while (go) {
      trickle.send_raw("X: 1\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  h.stop();
  double took = h.wait_returned(10);
  go = false;
  t.join();
  EXPECT_LT(took, 1.0 + 2.0);
  // New connections are refused once the server stops.
  RawConnection late(h.port());
  if (late.ok()) {
    late.send_raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    bool closed = false;
    std::string got = late.read_all(1000, &closed);
    EXPECT_EQ(got.find("200 OK"), std::string::npos) << got;
  }
}

}  // namespace
}  // namespace qwen3::test
