// The server's rules at the HTTP boundary, applied to each request head before its body
// is read: route lookup (404 / 405 + Allow), the Host allow-list when no API key is set
// (DNS rebinding), cross-origin requests only from --cors-origin origins (preflight
// answered only for them), the API key (Bearer, any case), and application/json for
// every POST (a text/plain form post from a web page must not run). Also turns
// transport errors into OpenAI-style error bodies, adds the CORS headers, and writes the
// access log (ServerOptions::log) when a request's response or stream ends.
#pragma once

#include <optional>
#include <string>

#include "server/http_connection.h"
#include "server/server_state.h"

namespace qwen3::server {

struct AccessRecord;

class ServerGate : public HttpApp {
 public:
  explicit ServerGate(ServerState& st) : st_(st) {}

  std::optional<HttpResponse> check_head(const HttpRequest& head) override;
  void handle(const HttpRequest& req, HttpResponse& res) override;
  HttpResponse error_response(int status, const std::string& message) override;
  void decorate(const HttpRequest& req, HttpResponse& res) override;
  void on_status(int status) override;

 private:
  HttpResponse error(const ApiError& e);
  std::optional<HttpResponse> check_head_rules(const HttpRequest& head);
  bool logging() const;
  void log_access(const AccessRecord& r, int status, bool complete);
  ServerState& st_;
};

}  // namespace qwen3::server
