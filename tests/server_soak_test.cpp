// Soak: 30 concurrent clients against an in-process server (replay backend) mixing
// normal streams, non-streaming replies, mid-stream disconnects, slowloris connections,
// oversized and malformed requests, while a prober times GET /health. Passes when
// nothing crashed, every well-formed request got an answer, /health p99 < 200 ms and the
// RSS at the end is within 10% of the RSS after warm-up. QWEN3_SOAK_SECONDS sets the
// duration (default 120).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

using Clock = std::chrono::steady_clock;

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int soak_seconds() {
  const char* s = std::getenv("QWEN3_SOAK_SECONDS");
  int v = s ? std::atoi(s) : 120;
  return v > 0 ? v : 120;
}

struct Tally {
  std::atomic<long> sent{0};      // well-formed requests
  std::atomic<long> answered{0};  // ... that got a status line
  std::atomic<long> hostile{0};   // slowloris, oversized, malformed, disconnects
  std::atomic<long> wrong_status{0};
  std::atomic<long> streams{0};  // complete 200 streams
  std::mutex mu;
  std::vector<std::string> failures;
  void fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (failures.size() < 20) failures.push_back(what);
  }
};

std::string raw_status(const std::string& response) {
  return response.size() >= 12 ? response.substr(9, 3) : std::string("---");
}

void client(int id, int port, Clock::time_point until, Tally& t) {
  const std::string host = "Host: 127.0.0.1\r\n";
  int round = 0;
  while (Clock::now() < until) {
    ++round;
    switch (id % 6) {
      case 0:
      case 1: {  // a normal stream
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        ++t.sent;
        auto r =
            c.Post("/v1/chat/completions", chat_body("soak " + std::to_string(round), true).dump(),
                   "application/json");
        if (!r) {
          t.fail("stream: no answer");
          break;
        }
        ++t.answered;
        if (r->status == 200) {
          auto s = parse_sse(r->body);
          if (!s.done || !s.well_formed) t.fail("stream: incomplete " + r->body.substr(0, 200));
          ++t.streams;
        } else if (r->status != 503) {
          ++t.wrong_status;
          t.fail("stream: status " + std::to_string(r->status));
        }
        break;
      }
      case 2: {  // non-streaming, keep-alive
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        for (int i = 0; i < 3 && Clock::now() < until; ++i) {
          ++t.sent;
          auto r = c.Post("/v1/chat/completions", chat_body("q", false).dump(), "application/json");
          if (!r) {
            t.fail("chat: no answer");
            continue;
          }
          ++t.answered;
          if (r->status != 200 && r->status != 503) {
            ++t.wrong_status;
            t.fail("chat: status " + std::to_string(r->status));
          }
        }
        break;
      }
      case 3: {  // leaves mid-stream
        RawConnection c(port);
        ++t.hostile;
        c.send_post("/v1/chat/completions", chat_body("bye", true).dump());
        c.read_until("data:", 5000);
        break;
      }
      case 4: {  // slowloris: a head trickled for a few seconds (sometimes past the deadline)
        RawConnection c(port);
        ++t.hostile;
        c.send_raw("POST /v1/chat/completions HTTP/1.1\r\n" + host);
        int lines = round % 4 == 0 ? 120 : 20;
        for (int i = 0; i < lines && Clock::now() < until; ++i) {
          if (!c.send_raw("X-Slow: " + std::to_string(i) + "\r\n")) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        break;
      }
      case 5: {  // oversized and malformed requests, and small well-formed ones between
        RawConnection c(port);
        ++t.hostile;
        std::string expect;
        switch (round % 4) {
          case 0:
            c.send_raw("POST /v1/chat/completions HTTP/1.1\r\n" + host +
                       "Content-Type: application/json\r\nContent-Length: 9000000\r\n\r\n{");
            expect = "413";
            break;
          case 1:
            c.send_raw("BLAH\r\n\r\n");
            expect = "400";
            break;
          case 2:
            c.send_raw("POST /tokenize HTTP/1.1\r\n" + host +
                       "Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n0\r\n\r\n");
            expect = "400";
            break;
          case 3:
            c.send_raw("POST /tokenize HTTP/1.1\r\n" + host +
                       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "zz\r\n");
            expect = "400";
            break;
        }
        std::string got = c.read_all(3000);
        if (raw_status(got) != expect) {
          ++t.wrong_status;
          t.fail("hostile: expected " + expect + ", got " + got.substr(0, 80));
        }
        httplib::Client ok("127.0.0.1", port);
        ++t.sent;
        auto r = ok.Post("/tokenize", "{\"content\": \"hello world\"}", "application/json");
        if (r) {
          ++t.answered;
          if (r->status != 200) t.fail("tokenize: status " + std::to_string(r->status));
        } else {
          t.fail("tokenize: no answer");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        break;
      }
    }
  }
}

TEST(ServerSoak, HostileMixHolds) {
  const int seconds = soak_seconds();
  std::string reply;
  for (int i = 0; i < 30; ++i) reply += " tok";
  auto o = replay_options(reply + "<|im_end|>", 5);
  o.parallel = 4;
  o.max_queue = 64;
  RunningServer srv(o);
  const int port = srv.port();

  Tally t;
  std::vector<double> health_ms;
  std::atomic<long> health_fail{0};
  std::atomic<bool> probing{true};
  std::thread prober([&] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    while (probing) {
      auto t0 = Clock::now();
      auto r = c.Get("/health");
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!r || r->status != 200) {
        ++health_fail;
      } else {
        health_ms.push_back(ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  const auto start = Clock::now();
  const auto until = start + std::chrono::seconds(seconds);
  std::vector<std::thread> clients;
  for (int i = 0; i < 30; ++i) clients.emplace_back(client, i, port, until, std::ref(t));
  // The baseline: after a warm-up under the full mix (threads, arenas, caches exist).
  std::this_thread::sleep_for(std::chrono::seconds(std::max(2, std::min(10, seconds / 6))));
  const long rss_start = rss_kb();
  for (auto& c : clients) c.join();
  probing = false;
  prober.join();
  // Let closes, drains and cancelled generations settle.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const long rss_end = rss_kb();

  std::sort(health_ms.begin(), health_ms.end());
  const double p99 = health_ms.empty()
                         ? 1e9
                         : health_ms[std::min(health_ms.size() - 1, health_ms.size() * 99 / 100)];
  std::printf(
      "soak: %d s, %ld well-formed requests (%ld answered, %ld complete streams), %ld hostile, "
      "/health n=%zu p50=%.2f ms "
      "p99=%.2f ms max=%.2f ms, RSS start %ld kB end %ld kB\n",
      seconds, t.sent.load(), t.answered.load(), t.streams.load(), t.hostile.load(),
      health_ms.size(), health_ms.empty() ? 0 : health_ms[health_ms.size() / 2], p99,
      health_ms.empty() ? 0 : health_ms.back(), rss_start, rss_end);
  for (const auto& f : t.failures) ADD_FAILURE() << f;
  EXPECT_EQ(t.sent.load(), t.answered.load());
  EXPECT_EQ(t.wrong_status.load(), 0);
  EXPECT_EQ(health_fail.load(), 0);
  EXPECT_LT(p99, 200.0);
  EXPECT_GT(t.sent.load(), seconds);
  EXPECT_LE(rss_end, rss_start + rss_start / 10);
  EXPECT_TRUE(srv.server().ready());
}

}  // namespace
}  // namespace qwen3::test
