// HttpConnection: the per-connection state machine of http_connection.h.
#include "server/http_connection.h"

#include <array>
#include <future>

namespace qwen3::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

thread_local const std::atomic<bool>* tl_gone = nullptr;

constexpr std::size_t kMaxBuffered = 64 * 1024;  // read ahead of a request being handled
constexpr std::size_t kMaxDrain = 32u << 20;     // discarded before closing after an error
constexpr auto kDrainTime = std::chrono::milliseconds(2000);

std::string chunk(const char* data, std::size_t size) {
  char hex[20];
  int n = std::snprintf(hex, sizeof hex, "%zx\r\n", size);
  std::string out(hex, static_cast<std::size_t>(n));
  out.append(data, size);
  out += "\r\n";
  return out;
}

}  // namespace

bool client_gone() {
  return tl_gone && tl_gone->load();
}

// The stream's done callback, called once: by the worker when the stream ends, or by the
// network thread the moment the client leaves (so a generation stops at its next token).
struct HttpConnection::StreamEnd {
  StreamDone done;
  std::atomic<bool> fired{false};
  void fire(bool success) {
    if (!fired.exchange(true) && done) done(success);
  }
};

class HttpConnection::Sink : public StreamSink {
 public:
  explicit Sink(HttpConnection& c) : c_(c) {}
  bool write(const char* data, std::size_t size) override {
    if (failed || finished) return false;
    if (size == 0) return true;
    if (!c_.write_and_wait(chunk(data, size))) failed = true;
    return !failed;
  }
  void done() override { finished = true; }
  bool failed = false;
  bool finished = false;

 private:
  HttpConnection& c_;
};

HttpConnection::HttpConnection(net::ip::tcp::socket socket, HttpContext& ctx, std::string remote,
                               Closed closed)
    : socket_(std::move(socket)),
      ctx_(ctx),
      remote_(std::move(remote)),
      closed_(std::move(closed)),
      read_timer_(ctx.io),
      write_timer_(ctx.io),
      gone_(std::make_shared<std::atomic<bool>>(false)) {}

HttpConnection::~HttpConnection() {
  gone_->store(true);
}

void HttpConnection::start() {
  read_request();
}

void HttpConnection::arm(net::steady_timer& t, std::chrono::milliseconds d,
                         void (HttpConnection::*fn)()) {
  t.expires_after(d);
  t.async_wait([self = shared_from_this(), &t, fn](error_code ec) {
    // A wait whose timer was re-armed or cancelled after it fired does nothing.
    if (ec || t.expiry() > net::steady_timer::clock_type::now()) return;
    ((*self).*fn)();
  });
}

void HttpConnection::on_read_timeout() {
  if (phase_ == Phase::kClosing) {
    close();
    return;
  }
  timed_out_ = true;
  error_code ignored;
  socket_.cancel(ignored);  // the pending read ends with operation_aborted
}

void HttpConnection::on_write_timeout() {
  close();  // a client that does not read is gone
}

void HttpConnection::read_request() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  if (ctx_.draining || served_ >= ctx_.limits.max_requests_per_connection) {
    close();
    return;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.limits.max_header_bytes));
  parser_->body_limit(ctx_.limits.max_body_bytes);
  head_ = HttpRequest{};
  timed_out_ = false;
  // The first request's head deadline counts from the connection's start.
  if (served_ == 0 || buffer_.size() > 0) {
    read_head();
    return;
  }
  phase_ = Phase::kIdle;
  arm(read_timer_, ctx_.limits.idle_timeout, &HttpConnection::on_read_timeout);
  read_some();
}

void HttpConnection::read_some() {
  if (reading_ || buffer_.size() >= kMaxBuffered) return;
  reading_ = true;
  std::size_t room = std::min<std::size_t>(4096, kMaxBuffered - buffer_.size());
  socket_.async_read_some(
      buffer_.prepare(room),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read_some(ec, n); });
}

void HttpConnection::on_read_some(error_code ec, std::size_t n) {
  reading_ = false;
  if (!ec) buffer_.commit(n);
  switch (phase_) {
    case Phase::kIdle:
      read_timer_.cancel();
      if (ec) {
        close();
        return;
      }
      read_head();
      return;
    case Phase::kBusy:
      if (ec) {
        if (ec != net::error::operation_aborted) client_left();
        return;
      }
      read_some();  // keep watching (pipelined bytes stay in the buffer)
      return;
    case Phase::kAfter:
      if (ec && ec != net::error::operation_aborted) {
        close();
        return;
      }
      read_request();
      return;
    case Phase::kClosing:
      // Discarding what the client still sends after our last response, so the close
      // does not reset the connection before the client read that response.
      drained_ += n;
      buffer_.consume(buffer_.size());
      if (ec || drained_ > kMaxDrain) {
        close();
        return;
      }
      read_some();
      return;
    default:
      return;
  }
}

void HttpConnection::read_head() {
  phase_ = Phase::kHead;
  arm(read_timer_, ctx_.limits.head_timeout, &HttpConnection::on_read_timeout);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_head(ec); });
}

void HttpConnection::on_head(error_code ec) {
  read_timer_.cancel();
  if (phase_ != Phase::kHead) return;
  if (ec) {
    if (timed_out_) {
      fail(408, "the request head did not arrive within " +
                    std::to_string(ctx_.limits.head_timeout.count() / 1000) + " s");
    } else if (ec == http::error::end_of_stream || ec == net::error::eof ||
               ec == net::error::connection_reset) {
      close();  // the client closed between requests (or mid-head)
    } else if (ec == http::error::header_limit) {
      fail(431, "request head over " + std::to_string(ctx_.limits.max_header_bytes) + " bytes");
    } else if (ec == http::error::body_limit) {
      fail(413, "request body over " + std::to_string(ctx_.limits.max_body_bytes) + " bytes");
    } else if (ec == net::error::operation_aborted) {
      close();
    } else {
      fail(400, "malformed HTTP request: " + ec.message());
    }
    return;
  }
  const auto& m = parser_->get();
  head_.method = std::string(m.method_string());
  head_.target = std::string(m.target());
  std::size_t q = head_.target.find('?');
  head_.path = head_.target.substr(0, q);
  if (q != std::string::npos) head_.params = parse_query(head_.target.substr(q + 1));
  head_.version = static_cast<int>(m.version());
  for (const auto& f : m) head_.headers.add(std::string(f.name_string()), std::string(f.value()));
  head_.remote_addr = remote_;
  keep_alive_ = m.keep_alive();

  if (auto err = check_framing(head_, framing_)) {
    fail(err->status, err->message);
    return;
  }
  if (framing_.kind == BodyFraming::Kind::kLength && framing_.length > ctx_.limits.max_body_bytes) {
    fail(413, "request body over " + std::to_string(ctx_.limits.max_body_bytes) + " bytes");
    return;
  }
  if (auto answer = ctx_.app.check_head(head_)) {
    if (framing_.has_body()) keep_alive_ = false;  // its body is not read: cannot go on
    ctx_.app.decorate(head_, *answer);
    send(std::move(*answer));
    return;
  }
  if (!framing_.has_body() || parser_->is_done()) {
    dispatch();
    return;
  }
  if (iequals(head_.get_header_value("Expect"), "100-continue")) {
    phase_ = Phase::kBody;
    write(std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n"),
          [self = shared_from_this()](bool ok) {
            if (!ok) {
              self->close();
              return;
            }
            self->read_body();
          });
    return;
  }
  read_body();
}

void HttpConnection::read_body() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  phase_ = Phase::kBody;
  const std::uint64_t size = framing_.kind == BodyFraming::Kind::kLength
                                 ? framing_.length
                                 : static_cast<std::uint64_t>(ctx_.limits.max_body_bytes);
  auto deadline =
      ctx_.limits.body_timeout_floor +
      std::chrono::milliseconds(size * 1000 / std::max<std::size_t>(1, ctx_.limits.body_min_rate));
  arm(read_timer_, std::chrono::duration_cast<std::chrono::milliseconds>(deadline),
      &HttpConnection::on_read_timeout);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpConnection::on_body(error_code ec) {
  read_timer_.cancel();
  if (phase_ != Phase::kBody) return;
  if (ec) {
    if (timed_out_) {
      fail(408, "the request body did not arrive in time");
    } else if (ec == http::error::body_limit) {
      fail(413, "request body over " + std::to_string(ctx_.limits.max_body_bytes) + " bytes");
    } else if (ec == http::error::end_of_stream || ec == net::error::eof ||
               ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      close();
    } else {
      fail(400, "malformed request body: " + ec.message());
    }
    return;
  }
  head_.body = std::move(parser_->get().body());
  dispatch();
}

void HttpConnection::dispatch() {
  phase_ = Phase::kBusy;
  ++served_;
  if (ctx_.draining || served_ >= ctx_.limits.max_requests_per_connection) keep_alive_ = false;
  parser_.reset();
  auto req = std::make_shared<HttpRequest>(std::move(head_));
  head_ = HttpRequest{};
  head_.headers = req->headers;  // for decorate() of a 503 below
  read_some();                   // watch the client while the handler runs
  auto self = shared_from_this();
  if (!ctx_.pool.try_submit([self, req] { self->run_handler(req); })) {
    HttpResponse res = ctx_.app.error_response(503, "the server is busy; retry later");
    res.set_header("Retry-After", "1");
    ctx_.app.decorate(*req, res);
    send(std::move(res));
  }
}

void HttpConnection::fail(int status, const std::string& message) {
  keep_alive_ = false;
  HttpResponse res = ctx_.app.error_response(status, message);
  ctx_.app.decorate(head_, res);
  send(std::move(res));
}

std::string HttpConnection::serialize_head(const HttpResponse& res, bool chunked) const {
  std::string out =
      "HTTP/1.1 " + std::to_string(res.status) + " " + status_reason(res.status) + "\r\n";
  for (const auto& f : res.headers.fields()) {
    if (iequals(f.first, "Content-Length") || iequals(f.first, "Transfer-Encoding") ||
        iequals(f.first, "Connection")) {
      continue;
    }
    // Header values come from our own code; still, never let a line break through.
    if (f.second.find_first_of("\r\n") != std::string::npos) continue;
    out += f.first + ": " + f.second + "\r\n";
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (res.status != 304) {  // a 304's length would be the unsent file's
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  }
  out += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  return out + "\r\n";
}

void HttpConnection::send(HttpResponse res) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  if (ctx_.draining) keep_alive_ = false;
  ctx_.app.on_status(res.status);
  auto head = std::make_shared<std::string>(serialize_head(res, false));
  // The body goes out as it is (no copy into one buffer: /tokenize replies can be large).
  auto body = std::make_shared<std::string>(std::move(res.body));
  write(head, body, [self = shared_from_this()](bool ok) {
    if (!ok) {
      self->close();
      return;
    }
    self->finish_response();
  });
}

void HttpConnection::finish_response() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  if (!keep_alive_ || ctx_.draining) {
    graceful_close();
    return;
  }
  if (reading_) {
    // The watch read still pends: stop it; its completion starts the next request.
    phase_ = Phase::kAfter;
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  read_request();
}

void HttpConnection::write(std::shared_ptr<std::string> data, std::function<void(bool)> done) {
  write(std::move(data), nullptr, std::move(done));
}

void HttpConnection::write(std::shared_ptr<std::string> head, std::shared_ptr<std::string> body,
                           std::function<void(bool)> done) {
  if (phase_ == Phase::kClosed) {
    done(false);
    return;
  }
  // A client reading at least body_min_rate gets the whole of a large body.
  const std::size_t size = head->size() + (body ? body->size() : 0);
  arm(write_timer_,
      ctx_.limits.write_timeout +
          std::chrono::milliseconds(size * 1000 /
                                    std::max<std::size_t>(1, ctx_.limits.body_min_rate)),
      &HttpConnection::on_write_timeout);
  std::array<net::const_buffer, 2> buffers{net::buffer(*head),
                                           body ? net::buffer(*body) : net::const_buffer()};
  net::async_write(
      socket_, buffers,
      [self = shared_from_this(), head, body, done = std::move(done)](error_code ec, std::size_t) {
        self->write_timer_.cancel();
        done(!ec && self->phase_ != Phase::kClosed);
      });
}

void HttpConnection::graceful_close() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  // Stop sending, then read and drop what the client still sends for a moment, so our
  // response is not lost to a reset caused by unread data.
  error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  bool was_reading = reading_;
  phase_ = Phase::kClosing;
  buffer_.consume(buffer_.size());
  arm(read_timer_, kDrainTime, &HttpConnection::on_read_timeout);
  if (!was_reading) read_some();
}

void HttpConnection::client_left() {
  gone_->store(true);
  if (stream_end_) stream_end_->fire(false);
  close();
}

void HttpConnection::drain() {
  if (phase_ == Phase::kIdle || phase_ == Phase::kHead || phase_ == Phase::kBody) {
    close();
  } else {
    keep_alive_ = false;
  }
}

void HttpConnection::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  gone_->store(true);
  if (stream_end_) stream_end_->fire(false);
  read_timer_.cancel();
  write_timer_.cancel();
  error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (closed_) {
    auto cb = std::move(closed_);
    closed_ = nullptr;
    cb(this);
  }
}

// ---- worker thread ----

void HttpConnection::run_handler(const std::shared_ptr<HttpRequest>& req) {
  tl_gone = gone_.get();
  HttpResponse res;
  try {
    ctx_.app.handle(*req, res);
  } catch (const std::exception& e) {
    res = ctx_.app.error_response(500, e.what());
  } catch (...) {
    res = ctx_.app.error_response(500, "unknown error");
  }
  ctx_.app.decorate(*req, res);
  if (res.provider) {
    stream(*req, res);
  } else {
    res.provider_done = nullptr;
    net::post(ctx_.io, [self = shared_from_this(), r = std::move(res)]() mutable {
      self->send(std::move(r));
    });
  }
  tl_gone = nullptr;
}

bool HttpConnection::write_and_wait(std::string data) {
  if (gone_->load()) return false;
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  auto buf = std::make_shared<std::string>(std::move(data));
  net::post(ctx_.io, [self = shared_from_this(), buf, result] {
    if (self->phase_ != Phase::kBusy) {
      result->set_value(false);
      return;
    }
    self->write(buf, [result](bool ok) { result->set_value(ok); });
  });
  // The write has its own deadline on the network thread; the wait also ends when the
  // connection closes (or the network thread stopped and will never answer).
  while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (gone_->load()) return false;
  }
  return future.get();
}

void HttpConnection::stream(const HttpRequest& req, HttpResponse& res) {
  (void)req;
  auto end = std::make_shared<StreamEnd>();
  end->done = std::move(res.provider_done);
  net::post(ctx_.io, [self = shared_from_this(), end] {
    self->stream_end_ = end;
    if (self->phase_ == Phase::kClosed) end->fire(false);
  });
  // The head is written from the network thread (keep-alive is decided there).
  auto head_written = std::make_shared<std::promise<bool>>();
  auto head_future = head_written->get_future();
  net::post(ctx_.io,
            [self = shared_from_this(), status = res.status, headers = res.headers, head_written] {
              if (self->phase_ != Phase::kBusy) {
                head_written->set_value(false);
                return;
              }
              if (self->ctx_.draining) self->keep_alive_ = false;
              self->ctx_.app.on_status(status);
              HttpResponse h;
              h.status = status;
              h.headers = headers;
              self->write(std::make_shared<std::string>(self->serialize_head(h, true)),
                          [head_written](bool ok) { head_written->set_value(ok); });
            });
  bool ok = false;
  while (head_future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (gone_->load()) break;
  }
  if (head_future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    ok = head_future.get();
  }
  Sink sink(*this);
  while (ok && !gone_->load()) {
    bool more = false;
    try {
      more = res.provider(sink);
    } catch (...) {
      more = false;
    }
    if (!more || sink.failed) {
      ok = false;
      break;
    }
    if (sink.finished) break;
  }
  if (ok && sink.finished && write_and_wait("0\r\n\r\n")) {
    end->fire(true);
    net::post(ctx_.io, [self = shared_from_this()] {
      self->stream_end_.reset();
      if (self->phase_ == Phase::kBusy) self->finish_response();
    });
    return;
  }
  // Cut: end the connection without the terminating chunk, so the client sees it.
  end->fire(false);
  net::post(ctx_.io, [self = shared_from_this()] {
    self->stream_end_.reset();
    self->close();
  });
}

}  // namespace qwen3::server
