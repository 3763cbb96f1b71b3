// HttpServer: the listener, the connection registry and the network thread.
#include "server/http_server.h"

#include <future>
#include <stdexcept>

namespace qwen3::server {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

namespace {

bool is_loopback(const net::ip::address& a) {
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).is_loopback();
}

}  // namespace

HttpServer::HttpServer(HttpLimits limits, HttpApp& app, std::size_t worker_threads)
    : limits_(limits),
      acceptor_(io_),
      accept_retry_(io_),
      pool_(worker_threads),
      ctx_{io_, limits_, app, pool_} {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::bind(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  tcp::endpoint ep;
  try {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(host, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
    if (results.empty()) throw std::runtime_error("no address");
    ep = results.begin()->endpoint();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + where + ": unknown host (" + e.what() + ")");
  }
  error_code ec;
  acceptor_.open(ep.protocol(), ec);
  // SO_REUSEADDR only (restarts do not wait for TIME_WAIT); never SO_REUSEPORT, so a
  // port another server listens on is refused instead of shared.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    throw std::runtime_error(
        "cannot listen on " + where + ": " + ec.message() +
        (ec == net::error::address_in_use ? " (another server runs on this port?)" : ""));
  }
  port_ = acceptor_.local_endpoint().port();
}

void HttpServer::start() {
  accept();
  thread_ = std::thread([this] {
    auto guard = net::make_work_guard(io_);
    for (;;) {
      try {
        io_.run();
        break;
      } catch (...) {
        // A handler threw on the network thread: keep serving the others.
      }
    }
  });
}

void HttpServer::accept() {
  acceptor_.async_accept(
      [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpServer::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec && !ctx_.draining) {
    error_code e2;
    auto remote = socket.remote_endpoint(e2);
    std::string addr = e2 ? std::string() : remote.address().to_string();
    bool exempt = !e2 && is_loopback(remote.address());
    bool over_total = static_cast<int>(connections_.size()) >= limits_.max_connections;
    bool over_client = !exempt && per_client_[addr] >= limits_.max_connections_per_client;
    if (e2 || over_total || over_client) {
      socket.close(e2);  // refused at once: no thread, no queue
    } else {
      socket.set_option(tcp::no_delay(true), e2);
      ++per_client_[addr];
      auto conn = std::make_shared<HttpConnection>(
          std::move(socket), ctx_, addr, [this](HttpConnection* c) {
            auto it = per_client_.find(c->remote());
            if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
            connections_.erase(c);
          });
      connections_[conn.get()] = conn;
      conn->start();
    }
  }
  if (ec) {
    // Out of file descriptors and the like: try again shortly, without spinning.
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](error_code e) {
      if (!e && acceptor_.is_open()) accept();
    });
    return;
  }
  accept();
}

void HttpServer::stop_accepting() {
  shut(false);
}

void HttpServer::close_all() {
  shut(true);
}

// Closes the listener; then each connection either drains (finishes its running response,
// no more keep-alive) or is closed at once.
void HttpServer::shut(bool hard) {
  ctx_.draining = true;
  net::post(io_, [this, hard] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    auto conns = connections_;
    for (auto& c : conns) {
      if (auto p = c.second.lock()) hard ? p->close() : p->drain();
    }
  });
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    close_all();
    // Let the posted closes run, then stop the loop.
    std::promise<void> closed;
    auto f = closed.get_future();
    net::post(io_, [&closed] { closed.set_value(); });
    f.wait_for(std::chrono::seconds(2));
    io_.stop();
    thread_.join();
  }
  pool_.shutdown();  // handlers see client_gone() and end; streams fail their next write
}

}  // namespace qwen3::server
