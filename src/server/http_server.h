// The HTTP listener: one Asio io_context on one network thread accepts connections and
// runs every connection's reads and writes asynchronously, so a connection waiting for
// its head or body holds no thread. Caps open connections in total and per client
// address (the excess is closed at once, never queued); handlers run on a WorkerPool.
// Binds without SO_REUSEPORT, so a second server on a taken port fails to start.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>

#include "server/http_connection.h"
#include "server/worker_pool.h"

namespace qwen3::server {

class HttpServer {
 public:
  HttpServer(HttpLimits limits, HttpApp& app, std::size_t worker_threads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; throws std::runtime_error (address in use, bad host).
  void bind(const std::string& host, int port);
  int port() const { return port_; }

  void start();           // starts the network thread
  void stop_accepting();  // closes the listener and idle connections; no more keep-alive
  void close_all();       // closes every connection (running handlers see client_gone())
  void stop();            // stops the network thread and waits for the handlers
  std::size_t busy() const { return pool_.busy(); }  // handlers and streams running

 private:
  void shut(bool hard);  // stop_accepting (drain) or close_all (hard)
  void accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  HttpLimits limits_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  WorkerPool pool_;
  HttpContext ctx_;
  int port_ = 0;
  std::thread thread_;
  bool stopped_ = false;
  // Network thread only:
  std::unordered_map<HttpConnection*, std::weak_ptr<HttpConnection>> connections_;
  std::unordered_map<std::string, int> per_client_;
};

}  // namespace qwen3::server
