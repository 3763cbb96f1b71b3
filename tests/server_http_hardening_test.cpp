// The HTTP layer under hostile or careless clients, end to end on loopback against an
// in-process server (replay backend): slowloris connections do not starve /health or a
// chat request; smuggling primitives (Content-Length with Transfer-Encoding, duplicate
// Content-Length, malformed request lines, bad chunk sizes) are refused with the
// connection closed; a POST without a length gets 411 at once; a taken port is refused;
// browser safety (no CORS by default, Host allow-list without a key, JSON media type);
// 405 with Allow; a lower-case "bearer" scheme; the connection cap; keep-alive.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

int count_of(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

std::string post_head(const std::string& path, const std::string& extra) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra + "\r\n";
}

// Sends `bytes` on a fresh connection; returns everything until the server closes it.
std::string exchange(int port, const std::string& bytes, bool* closed, int timeout_ms = 3000) {
  RawConnection c(port);
  EXPECT_TRUE(c.ok());
  c.send_raw(bytes);
  return c.read_all(timeout_ms, closed);
}

TEST(HttpHardening, SlowlorisDoesNotStarveOthers) {
  RunningServer srv(replay_options("Hi there.<|im_end|>"));
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawConnection>(srv.port()));
    ASSERT_TRUE(slow.back()->ok());
    slow.back()->send_raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    int line = 0;
    while (trickling) {
      for (auto& c : slow) c->send_raw("X-Slow-" + std::to_string(line) + ": a\r\n");
      ++line;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto cli = srv.client();
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = cli.Get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(ms_since(t0), 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto t0 = Clock::now();
  auto fresh = srv.client();
  auto r = fresh.Post("/v1/chat/completions", chat_body("hi", false).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_LT(ms_since(t0), 1000);
  trickling = false;
  trickle.join();
}

TEST(HttpHardening, SlowHeadIsCutAtTheDeadline) {
  auto o = replay_options("Hi.<|im_end|>");
  o.head_timeout_ms = 500;
  RunningServer srv(o);
  RawConnection c(srv.port());
  c.send_raw("GET /health HTTP/1.1\r\n");
  auto t0 = Clock::now();
  bool closed = false;
  std::string got;
  while (!closed && ms_since(t0) < 3000) {
    c.send_raw("X: y\r\n");
    got += c.read_all(100, &closed);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(ms_since(t0), 2000);
  EXPECT_NE(got.find("408"), std::string::npos) << got;
}

TEST(HttpHardening, ContentLengthWithTransferEncodingIsRefused) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  const std::string second = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const std::string& framing :
       {std::string("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")}) {
    SCOPED_TRACE(framing);
    bool closed = false;
    std::string got = exchange(
        srv.port(), post_head("/v1/chat/completions", framing) + "0\r\n\r\n" + second, &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_EQ(count_of(got, "HTTP/1.1 "), 1) << got;  // the smuggled request did not run
    EXPECT_TRUE(closed);
  }
}

TEST(HttpHardening, DuplicateContentLengthIsRefused) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  const std::string second = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const std::string& framing : {std::string("Content-Length: 2\r\nContent-Length: 2\r\n"),
                                     std::string("Content-Length: 2\r\nContent-Length: 40\r\n"),
                                     std::string("Content-Length: 2, 40\r\n")}) {
    SCOPED_TRACE(framing);
    bool closed = false;
    std::string got =
        exchange(srv.port(), post_head("/tokenize", framing) + "{}" + second, &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_EQ(count_of(got, "HTTP/1.1 "), 1) << got;
    EXPECT_TRUE(closed);
  }
}

TEST(HttpHardening, MalformedRequestLineClosesTheConnection) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  for (const std::string& line :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /health\r\n\r\n"),
        std::string("GET /health HTTP/1.1 extra\r\n\r\n"),
        std::string("GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n")}) {
    SCOPED_TRACE(line);
    bool closed = false;
    auto t0 = Clock::now();
    std::string got = exchange(srv.port(), line, &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_TRUE(closed);
    EXPECT_LT(ms_since(t0), 1000);
  }
}

TEST(HttpHardening, BodyWithoutLengthIs411AtOnce) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto t0 = Clock::now();
  bool closed = false;
  std::string got = exchange(srv.port(), post_head("/v1/chat/completions", ""), &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 411", 0), 0u) << got;
  EXPECT_TRUE(closed);
  EXPECT_LT(ms_since(t0), 1000);
  // A negative (malformed) chunk size: 400 at once too.
  t0 = Clock::now();
  got = exchange(srv.port(),
                 post_head("/v1/chat/completions", "Transfer-Encoding: chunked\r\n") + "-5\r\nab",
                 &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  EXPECT_TRUE(closed);
  EXPECT_LT(ms_since(t0), 1000);
}

TEST(HttpHardening, OversizedBodyIs413BeforeItIsRead) {
  auto o = replay_options("Hi.<|im_end|>");
  o.max_body_bytes = 1000;
  RunningServer srv(o);
  bool closed = false;
  auto t0 = Clock::now();
  std::string got = exchange(
      srv.port(), post_head("/v1/chat/completions", "Content-Length: 5000000\r\n"), &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  EXPECT_LT(ms_since(t0), 1000);
  // Chunked: cut once the chunks pass the limit.
  std::string chunks;
  for (int i = 0; i < 20; ++i) chunks += "64\r\n" + std::string(100, 'x') + "\r\n";
  got = exchange(srv.port(),
                 post_head("/v1/chat/completions", "Transfer-Encoding: chunked\r\n") + chunks,
                 &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
}

TEST(HttpHardening, TakenPortIsRefused) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto o = replay_options("Hi.<|im_end|>");
  o.port = srv.port();
  server::Server second(o);
  EXPECT_THROW(second.bind(), std::runtime_error);
  // The first one still answers every request.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(srv.client().Get("/health")->status, 200);
}

TEST(HttpHardening, NoCorsUnlessConfigured) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto cli = srv.client();
  auto r = cli.Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  r = cli.Get("/v1/models", httplib::Headers{{"Origin", "http://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  r = cli.Options("/v1/chat/completions",
                  httplib::Headers{{"Origin", "http://evil.example"},
                                   {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 204);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  // The page's own origin is not cross-origin.
  std::string self = "http://127.0.0.1:" + std::to_string(srv.port());
  r = cli.Get("/v1/models", httplib::Headers{{"Origin", self}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpHardening, CorsForConfiguredOrigins) {
  auto o = replay_options("Hi.<|im_end|>");
  o.cors_origins = {"http://app.example:3000"};
  RunningServer srv(o);
  auto cli = srv.client();
  httplib::Headers from_app = {{"Origin", "http://app.example:3000"}};
  auto r = cli.Get("/v1/models", from_app);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://app.example:3000");
  r = cli.Options("/v1/chat/completions",
                  httplib::Headers{{"Origin", "http://app.example:3000"},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "content-type"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://app.example:3000");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Content-Type"),
            std::string::npos);
  r = cli.Options("/v1/chat/completions", httplib::Headers{{"Origin", "http://other.example"}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 204);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));

  auto any = replay_options("Hi.<|im_end|>");
  any.cors_origins = {"*"};
  RunningServer open(any);
  r = open.client().Get("/v1/models", httplib::Headers{{"Origin", "http://whatever.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->has_header("Access-Control-Allow-Origin"));
}

TEST(HttpHardening, ForeignHostRefusedWithoutKey) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto cli = srv.client();
  for (const char* host : {"evil.example", "evil.example:8080", "10.0.0.5", "localhost.evil.com"}) {
    SCOPED_TRACE(host);
    auto r = cli.Get("/v1/models", httplib::Headers{{"Host", host}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("--allowed-host"), std::string::npos) << r->body;
  }
  for (const char* host : {"localhost", "LOCALHOST:1234", "127.0.0.1", "127.1.2.3:80", "[::1]:9"}) {
    SCOPED_TRACE(host);
    auto r = cli.Get("/v1/models", httplib::Headers{{"Host", host}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }

  auto allowed = replay_options("Hi.<|im_end|>");
  allowed.allowed_hosts = {"chat.example"};
  RunningServer named(allowed);
  auto r = named.client().Get("/v1/models", httplib::Headers{{"Host", "chat.example:8080"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  auto keyed = replay_options("Hi.<|im_end|>");
  keyed.api_key = "k";
  RunningServer with_key(keyed);
  r = with_key.client().Get(
      "/v1/models", httplib::Headers{{"Host", "evil.example"}, {"Authorization", "Bearer k"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpHardening, TextPlainPostDoesNotRun) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto cli = srv.client();
  for (const char* type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    SCOPED_TRACE(type);
    auto r = cli.Post("/v1/chat/completions", chat_body("hi", false).dump(), type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415);
  }
  EXPECT_EQ(metric(cli.Get("/metrics")->body, "qwen3_generations_total"), 0);
  auto r = cli.Post("/v1/chat/completions", chat_body("hi", false).dump(),
                    "application/json; charset=utf-8");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpHardening, WrongMethodIs405WithAllow) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto cli = srv.client();
  auto r = cli.Get("/v1/chat/completions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = cli.Post("/health", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  r = cli.Delete("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = cli.Get("/no/such/path");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(HttpHardening, BearerSchemeIsCaseInsensitive) {
  auto o = replay_options("Hi.<|im_end|>");
  o.api_key = "sekret";
  RunningServer srv(o);
  auto cli = srv.client();
  for (const char* auth : {"bearer sekret", "BEARER sekret", "Bearer   sekret"}) {
    SCOPED_TRACE(auth);
    auto r = cli.Get("/v1/models", httplib::Headers{{"Authorization", auth}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  auto r = cli.Get("/v1/models", httplib::Headers{{"Authorization", "Basic sekret"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST(HttpHardening, ConnectionCapClosesTheExcessAtOnce) {
  auto o = replay_options("Hi.<|im_end|>");
  o.max_connections = 20;
  RunningServer srv(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 20; ++i) held.push_back(std::make_unique<RawConnection>(srv.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RawConnection excess(srv.port());
  bool closed = false;
  auto t0 = Clock::now();
  excess.read_all(2000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(ms_since(t0), 1000);
  held.resize(10);  // frees ten places
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto r = srv.client().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpHardening, IdleKeepAliveConnectionIsClosed) {
  auto o = replay_options("Hi.<|im_end|>");
  o.idle_timeout_ms = 300;
  RunningServer srv(o);
  RawConnection c(srv.port());
  c.send_raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto t0 = Clock::now();
  bool closed = false;
  std::string got = c.read_all(3000, &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_TRUE(closed);
  EXPECT_LT(ms_since(t0), 1500);
}

TEST(HttpHardening, KeepAliveAndPipelining) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  RawConnection c(srv.port());
  const std::string get = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  c.send_raw(get + get + get);
  std::string got = c.read_until("ok\"}", 3000);
  for (int i = 0; i < 30 && count_of(got, "HTTP/1.1 200") < 3; ++i) got += c.read_all(100);
  EXPECT_EQ(count_of(got, "HTTP/1.1 200"), 3) << got;
}

}  // namespace
}  // namespace qwen3::test
