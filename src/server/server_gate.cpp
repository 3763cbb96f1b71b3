// ServerGate: the per-request rules of server_gate.h, and the access log (one line per
// request, written when its response, or its stream, ends).
#include "server/server_gate.h"

#include <memory>

#include "server/http_access.h"
#include "server/server_log.h"

namespace qwen3::server {
HttpResponse ServerGate::error(const ApiError& e) {
  HttpResponse res;
  send_error(res, e);
  return res;
}

HttpResponse ServerGate::error_response(int status, const std::string& message) {
  return error(http_error(status, message));
}

bool ServerGate::logging() const {
  return st_.opts.log && !st_.opts.quiet;
}

void ServerGate::log_access(const AccessRecord& r, int status, bool complete) {
  st_.opts.log(access_line(r, status, complete, parse_log_format(st_.opts.log_format)));
}

std::optional<HttpResponse> ServerGate::check_head(const HttpRequest& head) {
  auto answer = check_head_rules(head);
  if (answer && logging()) {
    AccessRecord r;
    r.remote = head.remote_addr;
    r.method = head.method;
    r.path = head.path;
    log_access(r, answer->status, true);
  }
  return answer;
}

std::optional<HttpResponse> ServerGate::check_head_rules(const HttpRequest& head) {
  const auto& o = st_.opts;
  const std::string host = head.get_header_value("Host");
  if (o.api_key.empty() && !host_allowed(host, o.allowed_hosts)) {
    return error_response(403, "Host '" + host +
                                   "' is not served: without --api-key only loopback names "
                                   "(localhost, 127.0.0.1, [::1]) are; start the server with "
                                   "--allowed-host NAME (or --api-key) to serve other names");
  }
  const std::string origin = head.get_header_value("Origin");
  const bool cors = origin_allowed(origin, o.cors_origins);
  if (!origin.empty() && !cors && !same_origin(origin, host)) {
    return error_response(403, "cross-origin requests from '" + origin +
                                   "' are not allowed; start the server with --cors-origin " +
                                   origin + " to allow them");
  }
  std::string allow;
  const Route* route = st_.http.find(head.method, head.path, &allow);
  if (head.method == "OPTIONS" && !allow.empty()) {
    if (!cors) {
      HttpResponse res = error_response(405, "OPTIONS is only answered for --cors-origin origins");
      res.set_header("Allow", allow);
      return res;
    }
    HttpResponse res;
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", allow + ", OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    return res;
  }
  if (!route) {
    if (allow.empty()) {
      return error(not_found("no route for " + head.method + " " + head.path));
    }
    HttpResponse res = error_response(
        405, head.method + " is not allowed on " + head.path + " (allowed: " + allow + ")");
    res.set_header("Allow", allow);
    return res;
  }
  if (!route->open && !o.api_key.empty()) {
    auto token = bearer_token(head.get_header_value("Authorization"));
    if (!token || !same_secret(*token, o.api_key)) {
      return error(unauthorized("missing or wrong API key: send 'Authorization: Bearer KEY'"));
    }
  }
  if (head.method == "POST" && !is_json_media_type(head.get_header_value("Content-Type"))) {
    return error_response(415, "the body must be JSON sent with 'Content-Type: application/json'");
  }
  if (st_.stopping) return error(unavailable("the server is shutting down"));
  return std::nullopt;
}

void ServerGate::handle(const HttpRequest& req, HttpResponse& res) {
  const Route* route = st_.http.find(req.method, req.path, nullptr);
  if (!route) {
    send_error(res, not_found("no route for " + req.method + " " + req.path));
    return;
  }
  if (!logging()) {
    route->handler(req, res);
    return;
  }
  auto rec = std::make_shared<AccessRecord>();
  rec->remote = req.remote_addr;
  rec->method = req.method;
  rec->path = req.path;
  try {
    AccessScope scope(rec.get());
    route->handler(req, res);
  } catch (...) {
    log_access(*rec, 500, true);
    throw;
  }
  if (!res.provider) {
    log_access(*rec, res.status, true);
    return;
  }
  // A stream: the tokens are noted while it runs, the line is written when it ends.
  res.provider = [rec, inner = std::move(res.provider)](StreamSink& sink) {
    AccessScope scope(rec.get());
    return inner(sink);
  };
  res.provider_done = [this, rec, status = res.status,
                       done = std::move(res.provider_done)](bool complete) {
    if (done) done(complete);
    log_access(*rec, status, complete);
  };
}

void ServerGate::decorate(const HttpRequest& req, HttpResponse& res) {
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty() || !origin_allowed(origin, st_.opts.cors_origins)) return;
  res.set_header("Access-Control-Allow-Origin", origin);
  res.set_header("Vary", "Origin");
}

void ServerGate::on_status(int status) {
  if (status >= 400) st_.metrics.http_status(status);
}

}  // namespace qwen3::server
