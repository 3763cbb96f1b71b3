// The OpenAI-compatible HTTP server behind `qwen3 serve`: chat and text completions
// (SSE streaming or not), models, health, tokenize / detokenize / apply-template,
// Prometheus metrics and the embedded web chat page.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "qwen3/pipeline.h"

namespace qwen3::server {

struct ServerOptions {
  std::string model_path;
  std::string model_name;  // id in /v1/models and responses; default: the file name
  std::vector<std::string> aliases;  // more ids a request's "model" may name (--alias)
  std::string device = "CPU";
  std::string host = "127.0.0.1";
  int port = 8080;             // 0 = any free port (see Server::port())
  std::string api_key;         // non-empty: Bearer auth on everything but /health and the page
  int parallel = 1;            // sequences generated at once, each with its own KV cache
  std::size_t max_queue = 64;  // requests waiting for a slot; beyond: 503 + Retry-After
  int n_ctx = 0;               // 0 = the Pipeline default
  int n_threads = 0;           // 0 = the Pipeline default
  std::size_t max_body_bytes = 8u << 20;
  int http_threads = 0;   // 0 = parallel + max_queue + 16 (each open connection holds one)
  Properties properties;  // passed to every Pipeline (backend, replay_file, ...)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; throws std::runtime_error if it cannot.
  void bind();
  int port() const;
  // Loads the model in the background (GET /health answers 503 until it is loaded) and
  // serves until stop(). Returns false if the model failed to load (error in load_error()).
  bool run();
  void stop();  // from any thread; running generations stop at their next token
  bool ready() const;
  std::string load_error() const;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace qwen3::server
