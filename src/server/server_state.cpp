// ServerState helpers: the slots accessor and the JSON / error response writers.
#include "server/server_state.h"

namespace qwen3::server {

Scheduler& ServerState::slots() {
  if (!ready || !scheduler) throw unavailable("the model is loading");
  return *scheduler;
}

void send_json(HttpResponse& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(HttpResponse& res, const ApiError& e) {
  nlohmann::ordered_json j = e.to_json();
  send_json(res, j, e.status());
  if (e.status() == 503) res.set_header("Retry-After", "1");
  if (e.status() == 401) res.set_header("WWW-Authenticate", "Bearer");
}

void guarded(HttpResponse& res, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    send_error(res, from_exception(e));
  } catch (...) {
    send_error(res, internal_error("unknown error"));
  }
}

Route endpoint(ServerState& st, std::string name, bool open,
               std::function<void(const HttpRequest&, HttpResponse&)> fn) {
  Handler h = [&st, name = std::move(name), fn = std::move(fn)](const HttpRequest& req,
                                                                HttpResponse& res) {
    st.metrics.request(name);
    guarded(res, [&] { fn(req, res); });
  };
  return Route{std::move(h), open};
}

Json request_json(const ServerState& st, const HttpRequest& req) {
  // The HTTP layer enforces the limit while reading; this guards other callers.
  if (req.body.size() > st.opts.max_body_bytes) throw payload_too_large(st.opts.max_body_bytes);
  return parse_json_object(req.body);
}

}  // namespace qwen3::server
