#include "server/server_state.h"

namespace qwen3::server {
namespace {

// Compares without an early exit, so response time does not leak the key.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool authorized(const ServerState& st, const httplib::Request& req) {
  if (st.opts.api_key.empty()) return true;
  const std::string h = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) return false;
  return same_secret(h.substr(prefix.size()), st.opts.api_key);
}

}  // namespace

Scheduler& ServerState::slots() {
  if (!ready || !scheduler) throw unavailable("the model is loading");
  return *scheduler;
}

void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  nlohmann::ordered_json j = e.to_json();
  send_json(res, j, e.status());
  if (e.status() == 503) res.set_header("Retry-After", "1");
  if (e.status() == 401) res.set_header("WWW-Authenticate", "Bearer");
}

void guarded(httplib::Response& res, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    send_error(res, from_exception(e));
  } catch (...) {
    send_error(res, internal_error("unknown error"));
  }
}

httplib::Server::Handler endpoint(
    ServerState& st, std::string name, bool open,
    std::function<void(const httplib::Request&, httplib::Response&)> fn) {
  return [&st, name = std::move(name), open, fn = std::move(fn)](const httplib::Request& req,
                                                                 httplib::Response& res) {
    st.metrics.request(name);
    if (!open && !authorized(st, req)) {
      send_error(res, unauthorized("missing or wrong API key: send 'Authorization: Bearer KEY'"));
      return;
    }
    guarded(res, [&] { fn(req, res); });
  };
}

Json request_json(const ServerState& st, const httplib::Request& req) {
  // httplib enforces the limit on Content-Length bodies; chunked ones are checked here.
  if (req.body.size() > st.opts.max_body_bytes) throw payload_too_large(st.opts.max_body_bytes);
  return parse_json_object(req.body);
}

}  // namespace qwen3::server
