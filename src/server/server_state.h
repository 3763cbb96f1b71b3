// What the route handlers share: options, the routes, the loaded slots, metrics, and the
// helpers that write JSON and OpenAI error responses. Internal to src/server.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/api_error.h"
#include "server/http_connection.h"
#include "server/http_message.h"
#include "server/http_router.h"
#include "server/json_fields.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/server_lora.h"

namespace qwen3::server {

struct ServerState {
  ServerOptions opts;
  Router http;
  Metrics metrics;
  std::unique_ptr<Scheduler> scheduler;  // set once loading finished
  std::unique_ptr<ServerLora> lora;      // serve --lora adapters (add_lora_routes)
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};  // shutdown began: no new requests
  std::atomic<bool> aborting{false};  // the grace period is over: cut what still runs
  std::size_t n_ctx = 0;
  // The deployment tier serving and, for --device AUTO, why each earlier tier failed
  // (set with `ready`; shown in /v1/models meta).
  std::string tier;
  std::vector<TierAttempt> failed_tiers;
  mutable std::mutex mu;
  std::string load_error;

  // The scheduler, or a 503 while the model loads.
  Scheduler& slots();
};

void send_json(HttpResponse& res, const nlohmann::ordered_json& body, int status = 200);
void send_error(HttpResponse& res, const ApiError& e);
// Runs `fn`, turning an escaping exception into the matching error response.
void guarded(HttpResponse& res, const std::function<void()>& fn);
// A route: counts the request, turns exceptions into error responses. The API key
// (unless `open`) is checked before the body is read (server_gate.cpp).
Route endpoint(ServerState& st, std::string name, bool open,
               std::function<void(const HttpRequest&, HttpResponse&)> fn);
// The body as a JSON object (400 if malformed, 413 if over the limit).
Json request_json(const ServerState& st, const HttpRequest& req);

void add_generation_routes(ServerState& st);  // /v1/chat/completions, /v1/completions
void add_info_routes(ServerState& st);        // /health, /v1/models, /metrics
void add_text_routes(ServerState& st);        // /tokenize, /detokenize, /apply-template
void add_web_routes(ServerState& st);         // GET / and the page's assets
void add_lora_routes(ServerState& st);        // GET / POST /lora-adapters (routes_lora.cpp)

}  // namespace qwen3::server
