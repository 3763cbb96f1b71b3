// Shared by the server tests: an in-process server on a free port (replay backend by
// default, so replies are known), SSE parsing, and a raw socket for disconnect tests.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/replay_backend.h"
#include "server/server.h"

namespace qwen3::test {

using json = nlohmann::ordered_json;

inline std::string tokenizer_path() {
  return std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json";
}

// A reply with reasoning and Markdown content, as Qwen3 writes it.
inline const char* kReasoningReply =
    "<think>\nThe user greets me. I answer briefly.\n</think>\n\nHello! Here is **bold** and "
    "`code`.<|im_end|>";
// A reply that calls a tool.
inline const char* kToolReply =
    "<think>\nI need the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", "
    "\"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call><|im_end|>";

inline server::ServerOptions replay_options(const std::string& reply, int delay_ms = 0) {
  server::ServerOptions o;
  o.model_path = tokenizer_path();
  o.model_name = "replay-test";
  o.port = 0;
  o.n_ctx = 2048;
  o.properties["backend"] = "replay";
  o.properties["replay_text"] = reply;
  if (delay_ms > 0) o.properties["replay_delay_ms"] = std::to_string(delay_ms);
  return o;
}

class RunningServer {
 public:
  explicit RunningServer(server::ServerOptions o, bool wait_ready = true) {
    engine::register_replay_backend();
    server_ = std::make_unique<server::Server>(std::move(o));
    server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    if (wait_ready) wait_until_ready();
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  void wait_until_ready() {
    for (int i = 0; i < 600 && !server_->ready(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(server_->ready()) << server_->load_error();
  }
  int port() const { return server_->port(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(60, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }
  server::Server& server() { return *server_; }

 private:
  std::unique_ptr<server::Server> server_;
  std::thread thread_;
};

// The JSON payloads of an SSE body, in order; `done` tells whether [DONE] ended it.
struct SseStream {
  std::vector<json> events;
  bool done = false;
  bool well_formed = true;  // every event a `data:` line + blank line, nothing after [DONE]
};

inline SseStream parse_sse(const std::string& body) {
  SseStream s;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos || s.done) {
      s.well_formed = false;
      break;
    }
    std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) != 0 || event.find('\n') != std::string::npos) {
      s.well_formed = false;
      continue;
    }
    std::string data = event.substr(6);
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    s.events.push_back(json::parse(data));
  }
  return s;
}

inline json chat_body(const std::string& user, bool stream) {
  return {{"model", "replay-test"},
          {"messages", json::array({{{"role", "user"}, {"content", user}}})},
          {"stream", stream}};
}

// A client socket we can close in the middle of a response.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() { close(); }
  bool ok() const { return fd_ >= 0; }
  void send_post(const std::string& path, const std::string& body) {
    std::string req = "POST " + path +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_EQ(::send(fd_, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  }
  // Sends raw bytes as they are (false if the connection is gone).
  bool send_raw(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes the connection (or the timeout); `closed` tells which.
  std::string read_all(int timeout_ms, bool* closed = nullptr) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    timeval tv{0, 50000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        if (closed) *closed = true;
        break;
      }
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  int fd() const { return fd_; }
  // Reads until `needle` shows up (or the timeout); returns what was read.
  std::string read_until(const std::string& needle, int timeout_ms = 10000) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// One Prometheus sample's value from a /metrics text (-1 if absent).
inline double metric(const std::string& text, const std::string& name) {
  std::size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    std::size_t after = pos + name.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return std::stod(text.substr(after + 1, text.find('\n', after) - after - 1));
    }
    pos = after;
  }
  return -1;
}

}  // namespace qwen3::test
