// Honest shutdown, end to end on loopback: after stop() (what SIGTERM does) a stream cut
// at the end of the grace period ends with an SSE error event (no final "stop" chunk, no
// [DONE]); queued and running non-streaming requests get 503 (never a 200 with an empty
// body); a reply that finishes within the grace period is delivered whole; and
// Server::run returns within grace + 2 s even with a client trickling header bytes; the
// `qwen3 serve` process does the same on SIGTERM, and a second one on its port fails.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
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

// `qwen3 serve` as a child process; returns its pid, fills `port` (if given) from its
// first log line.
pid_t spawn_serve(const std::vector<std::string>& args, const std::string& log, int* port) {
  std::remove(log.c_str());
  pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stderr);
    std::string bin = QWEN3_BIN;
    std::vector<std::string> copy = args;
    std::vector<char*> argv{bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::regex re("http://127\\.0\\.0\\.1:(\\d+)");
  if (!port) return pid;
  *port = 0;
  for (int i = 0; i < 600 && *port == 0; ++i) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::smatch m;
    if (std::regex_search(text, m, re)) {
      *port = std::stoi(m[1]);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return pid;
}

// Waits up to `limit_s` for `pid`; the exit status, or -1 (then it is killed).
int wait_exit(pid_t pid, double limit_s) {
  auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(limit_s * 1000));
  int status = 0;
  while (Clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

TEST(ServerShutdown, ServeCommandExitsInTimeOnSigterm) {
  const std::string dir = QWEN3_BUILD_DIR;
  const std::string reply = dir + "/server_shutdown_reply.txt";
  std::ofstream(reply) << long_reply();
  int port = 0;
  pid_t pid =
      spawn_serve({"serve", "-m", tokenizer_path(), "--backend", "replay", "--replay-file", reply,
                   "--replay-delay-ms", "40", "--port", "0", "--shutdown-grace", "1", "--alias",
                   "replay-test"},
                  dir + "/server_shutdown_serve.log", &port);
  // A failed assertion must not leave the server running (it would hold CTest's pipe).
  struct KillOnExit {
    pid_t pid;
    ~KillOnExit() {
      if (kill(pid, 0) == 0) kill(pid, SIGKILL);
    }
  } guard{pid};
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    auto r = c.Get("/health");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ready);

  // A second server on the same port refuses to start, with a clear message.
  const std::string second_log = dir + "/server_shutdown_second.log";
  pid_t second = spawn_serve({"serve", "-m", tokenizer_path(), "--backend", "replay",
                              "--replay-file", reply, "--port", std::to_string(port)},
                             second_log, nullptr);
  EXPECT_NE(wait_exit(second, 30), 0);
  std::ifstream in(second_log);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("in use"), std::string::npos) << ss.str();

  RawConnection stream(port), trickle(port);
  stream.send_post("/v1/chat/completions", chat_body("go", true).dump());
  ASSERT_NE(stream.read_until("word").find("word"), std::string::npos);
  trickle.send_raw("GET /health HTTP/1.1\r\n");
  std::atomic<bool> go{true};
  std::thread t([&] {
    while (go) {
      trickle.send_raw("X: 1\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto t0 = Clock::now();
  kill(pid, SIGTERM);
  int status = wait_exit(pid, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  go = false;
  t.join();
  EXPECT_EQ(status, 0);
  EXPECT_LT(took, 1.0 + 2.0);
  std::string tail = stream.read_all(500);
  EXPECT_EQ(tail.find("[DONE]"), std::string::npos) << tail;
}

}  // namespace
}  // namespace qwen3::test
