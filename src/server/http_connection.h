// One client connection of the HTTP layer (Boost.Beast parser over an Asio socket, all
// reads and writes asynchronous on the network thread). A request goes: wait for the
// first byte (idle keep-alive limit) -> head under a deadline -> strict framing checks
// -> the application's head checks (route, host, origin, key, media type) -> body
// under a deadline scaled by its size, with the size limit -> a handler on a worker
// thread. While the handler runs the socket is watched, so a client that leaves is
// noticed at once (client_gone(), and a stream's done callback cancels its generation).
// Responses are written asynchronously; a streamed body is written chunk by chunk as the
// worker produces it, the worker waiting for each write (back pressure).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "server/http_framing.h"
#include "server/http_message.h"
#include "server/worker_pool.h"

namespace qwen3::server {

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8u << 20;
  std::chrono::milliseconds head_timeout{10000};  // request line + headers
  std::chrono::milliseconds idle_timeout{15000};  // keep-alive: wait for the next request
  std::chrono::milliseconds body_timeout_floor{10000};
  std::size_t body_min_rate = 256 * 1024;  // bytes/s a body must at least arrive at
  // One write to a client that does not read (plus 1 s per body_min_rate bytes written).
  std::chrono::milliseconds write_timeout{30000};
  int max_requests_per_connection = 100;
  int max_connections = 512;
  int max_connections_per_client = 64;  // per remote address; loopback (a proxy) is exempt
};

// What the transport asks of the application.
class HttpApp {
 public:
  virtual ~HttpApp() = default;
  // On the network thread once the head passed the framing checks: an answer here ends
  // the request before its body is read. Must be quick.
  virtual std::optional<HttpResponse> check_head(const HttpRequest& head) = 0;
  // On a worker thread, with the body.
  virtual void handle(const HttpRequest& req, HttpResponse& res) = 0;
  // An error response in the application's format.
  virtual HttpResponse error_response(int status, const std::string& message) = 0;
  // Last touches before a response's head is written (CORS headers); `req` may be a
  // partial head. Any thread.
  virtual void decorate(const HttpRequest& req, HttpResponse& res) = 0;
  virtual void on_status(int /*status*/) {}
};

// Shared by the listener and its connections.
struct HttpContext {
  boost::asio::io_context& io;
  const HttpLimits& limits;
  HttpApp& app;
  WorkerPool& pool;
  std::atomic<bool> draining{false};  // no new requests: close idle connections
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  using Closed = std::function<void(HttpConnection*)>;
  HttpConnection(boost::asio::ip::tcp::socket socket, HttpContext& ctx, std::string remote,
                 Closed closed);
  ~HttpConnection();

  // Network thread only:
  void start();
  void drain();  // close now unless a handler runs; then close after its response
  void close();  // close now
  const std::string& remote() const { return remote_; }

 private:
  enum class Phase { kIdle, kHead, kBody, kBusy, kAfter, kClosing, kClosed };
  class Sink;
  struct StreamEnd;

  void read_request();
  void read_some();
  void on_read_some(boost::system::error_code ec, std::size_t n);
  void read_head();
  void on_head(boost::system::error_code ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  void dispatch();
  void fail(int status, const std::string& message);
  void send(HttpResponse res);
  void finish_response();
  void graceful_close();
  void client_left();
  void arm(boost::asio::steady_timer& t, std::chrono::milliseconds d, void (HttpConnection::*fn)());
  void on_read_timeout();
  void on_write_timeout();
  void write(std::shared_ptr<std::string> data, std::function<void(bool)> done);
  void write(std::shared_ptr<std::string> head, std::shared_ptr<std::string> body,
             std::function<void(bool)> done);
  std::string serialize_head(const HttpResponse& res, bool chunked) const;

  // Worker thread:
  void run_handler(const std::shared_ptr<HttpRequest>& req);
  void stream(const HttpRequest& req, HttpResponse& res);
  bool write_and_wait(std::string data);

  boost::asio::ip::tcp::socket socket_;
  HttpContext& ctx_;
  std::string remote_;
  Closed closed_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Phase phase_ = Phase::kIdle;
  bool reading_ = false;    // a read_some is pending
  bool timed_out_ = false;  // the read deadline passed
  bool keep_alive_ = true;
  int served_ = 0;
  std::size_t drained_ = 0;
  HttpRequest head_;
  BodyFraming framing_;
  std::shared_ptr<std::atomic<bool>> gone_;  // the client left or the connection closed
  std::shared_ptr<StreamEnd> stream_end_;    // the running stream's done callback
};

// True when the client of the request handled on this thread has gone. Never blocks;
// false outside a request.
bool client_gone();

}  // namespace qwen3::server
