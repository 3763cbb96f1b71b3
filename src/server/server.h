// The OpenAI-compatible HTTP server behind `qwen3 serve`: chat and text completions
// (SSE streaming or not), models, health, tokenize / detokenize / apply-template,
// Prometheus metrics and the embedded web chat page.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qwen3/pipeline.h"
#include "server/image_sources.h"

namespace qwen3::server {

struct ServerOptions {
  std::string model_path;
  std::string model_name;            // id in /v1/models and responses; default: the file name
  std::vector<std::string> aliases;  // more ids a request's "model" may name (--alias)
  std::string device = "CPU";
  std::string host = "127.0.0.1";
  int port = 8080;             // 0 = any free port (see Server::port())
  std::string api_key;         // non-empty: Bearer auth on everything but /health and the page
  int parallel = 1;            // sequences generated at once, each with its own KV cache
  std::size_t max_queue = 64;  // requests waiting for a slot; beyond: 503 + Retry-After
  int n_ctx = 0;               // 0 = the Pipeline default (the most one sequence holds)
  int kv_size = 0;             // positions in the shared paged KV cache; 0 = parallel * n_ctx
  int n_threads = 0;           // 0 = the Pipeline default
  std::size_t max_body_bytes = 8u << 20;
  int http_threads = 0;  // handler threads; 0 = parallel + max_queue + 16 (beyond: 503)
  // Shutdown: running generations get this long to finish, then are cut (SSE error
  // event / 503); the process is gone within grace + 2 s.
  double shutdown_grace_s = 10;
  // Browser safety. CORS headers only for these origins ("*" = any, only if given).
  std::vector<std::string> cors_origins;
  // Without an API key, only Host values that are loopback or listed here are served.
  std::vector<std::string> allowed_hosts;
  // Slow or idle clients: the deadline for a request head (the body gets its own,
  // scaled by size), the keep-alive wait for the next request, connection caps.
  int head_timeout_ms = 10000;
  int idle_timeout_ms = 15000;
  int max_connections = 512;
  int max_connections_per_client = 64;  // per remote address; loopback is exempt
  ImageSources images;    // image_url parts beyond data URLs (--allow-remote-images, ...)
  Properties properties;  // passed to every Pipeline (backend, replay_file, ...)
  // Log lines (loading, ready, one per request) go to `log`, one complete line per call
  // from any thread; nothing is logged without it (`qwen3 serve` writes to stderr).
  std::function<void(const std::string& line)> log;
  std::string log_format = "text";  // or "json": one JSON object per line
  bool quiet = false;               // only the ready line: no loading line, no access log
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; throws std::runtime_error if it cannot (port taken).
  void bind();
  int port() const;
  // Loads the model in the background (GET /health answers 503 until it is loaded) and
  // serves until stop(). Returns false if the model failed to load (error in load_error()).
  bool run();
  // From any thread (a signal handler's thread): stop accepting, let running
  // generations finish within the grace period, cut the rest; run() then returns.
  void stop();
  bool ready() const;
  std::string load_error() const;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace qwen3::server
