// What the route handlers share: options, the loaded slots, metrics, and the helpers
// that write JSON and OpenAI error responses. Internal to src/server.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <httplib.h>

#include "server/api_error.h"
#include "server/client_socket.h"
#include "server/json_fields.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/server.h"

namespace qwen3::server {

struct ServerState {
  ServerOptions opts;
  HttpServer http;
  Metrics metrics;
  std::unique_ptr<Scheduler> scheduler;  // set once loading finished
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  std::size_t n_ctx = 0;
  mutable std::mutex mu;
  std::string load_error;

  // The scheduler, or a 503 while the model loads.
  Scheduler& slots();
};

void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status = 200);
void send_error(httplib::Response& res, const ApiError& e);
// Runs `fn`, turning an escaping exception into the matching error response.
void guarded(httplib::Response& res, const std::function<void()>& fn);
// A route handler: counts the request, checks the API key (unless `open`), turns
// exceptions into error responses.
httplib::Server::Handler endpoint(
    ServerState& st, std::string name, bool open,
    std::function<void(const httplib::Request&, httplib::Response&)> fn);
// The body as a JSON object (400 if malformed, 413 if over the limit).
Json request_json(const ServerState& st, const httplib::Request& req);

void add_generation_routes(ServerState& st);  // /v1/chat/completions, /v1/completions
void add_info_routes(ServerState& st);        // /health, /v1/models, /metrics
void add_text_routes(ServerState& st);        // /tokenize, /detokenize, /apply-template
void add_web_routes(ServerState& st);         // GET / and the page's assets

}  // namespace qwen3::server
