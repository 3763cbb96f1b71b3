#include "server/server.h"

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "server/server_state.h"

namespace qwen3::server {

struct Server::State : ServerState {
  bool bound = false;
  std::atomic<bool> run_started{false};
  std::atomic<bool> listen_done{false};
};

namespace {

std::string default_model_name(const std::string& path) {
  std::filesystem::path p(path);
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return name.empty() ? "qwen3" : name;
}

void validate(const ServerOptions& o) {
  if (o.model_path.empty()) throw std::invalid_argument("a model path is required");
  if (o.parallel < 1 || o.parallel > 64) throw std::invalid_argument("--parallel must be 1..64");
  if (o.port < 0 || o.port > 65535) throw std::invalid_argument("--port must be 0..65535");
  if (o.n_ctx < 0) throw std::invalid_argument("--ctx must be positive");
  if (o.max_queue > 4096) throw std::invalid_argument("--queue must be at most 4096");
  if (o.max_body_bytes == 0) throw std::invalid_argument("the body limit must be positive");
}

}  // namespace

Server::Server(ServerOptions options) : st_(std::make_unique<State>()) {
  validate(options);
  if (options.model_name.empty()) options.model_name = default_model_name(options.model_path);
  st_->opts = std::move(options);
  ServerState& st = *st_;
  const auto& o = st.opts;

  // Writes to a vanished client must fail, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  // Each open connection holds a thread (also while it waits for a slot), so the pool is
  // sized for every slot and queue place plus idle keep-alive connections.
  std::size_t threads = o.http_threads > 0
                            ? static_cast<std::size_t>(o.http_threads)
                            : static_cast<std::size_t>(o.parallel) + o.max_queue + 16;
  st.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  st.http.set_payload_max_length(o.max_body_bytes);
  st.http.set_keep_alive_max_count(100);
  st.http.set_read_timeout(30, 0);
  st.http.set_write_timeout(30, 0);
  st.http.set_default_headers({{"Access-Control-Allow-Origin", "*"}});

  st.http.set_error_handler(
      httplib::Server::Handler([&st](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        int status = res.status;
        if (status == 404) {
          send_error(res, not_found("no route for " + req.method + " " + req.path));
        } else if (status == 413) {
          send_error(res, payload_too_large(st.opts.max_body_bytes));
        } else if (status == 400) {
          send_error(res, invalid_request("malformed HTTP request"));
        } else {
          send_error(res, ApiError(status, status >= 500 ? "server_error" : "invalid_request_error",
                                   std::to_string(status), "HTTP error " + std::to_string(status)));
        }
        res.status = status;
      }));
  st.http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          send_error(res, from_exception(e));
        } catch (...) {
          send_error(res, internal_error("unknown error"));
        }
      });
  st.http.set_logger([&st](const httplib::Request&, const httplib::Response& res) {
    if (res.status >= 400) st.metrics.http_status(res.status);
  });
  // CORS preflight for browser clients on other origins.
  st.http.Options(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.status = 204;
  });

  add_generation_routes(st);
  add_info_routes(st);
  add_text_routes(st);
  add_web_routes(st);
}

Server::~Server() {
  stop();
}

void Server::bind() {
  if (st_->bound) return;
  const auto& o = st_->opts;
  if (o.port == 0) {
    st_->opts.port = st_->http.bind_to_any_port(o.host);
    if (st_->opts.port <= 0) throw std::runtime_error("cannot bind to " + o.host);
  } else if (!st_->http.bind_to_port(o.host, o.port)) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (address in use or not available)");
  }
  st_->bound = true;
}

int Server::port() const {
  return st_->opts.port;
}

bool Server::run() {
  bind();
  st_->run_started = true;
  ServerState& st = *st_;
  std::thread loader([this, &st] {
    try {
      Properties props = st.opts.properties;
      if (st.opts.n_ctx > 0) props["n_ctx"] = std::to_string(st.opts.n_ctx);
      if (st.opts.n_threads > 0) props["n_threads"] = std::to_string(st.opts.n_threads);
      std::vector<std::unique_ptr<Pipeline>> pipelines;
      for (int i = 0; i < st.opts.parallel && !st.stopping; ++i) {
        pipelines.push_back(std::make_unique<Pipeline>(st.opts.model_path, st.opts.device, props));
      }
      if (st.stopping) return;
      st.n_ctx = pipelines.front()->info().n_ctx;
      st.scheduler = std::make_unique<Scheduler>(std::move(pipelines), st.opts.max_queue);
      st.ready = true;
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> lock(st.mu);
        st.load_error = e.what();
      }
      stop();
    }
  });
  st.http.listen_after_bind();
  st_->listen_done = true;
  st.stopping = true;
  loader.join();
  st.ready = false;
  st.scheduler.reset();  // waits for running generations, which stop at their next token
  return load_error().empty();
}

void Server::stop() {
  st_->stopping = true;
  // listen may not have started yet; httplib's stop() only acts on a running server.
  for (int i = 0; i < 500 && st_->run_started && !st_->listen_done && !st_->http.is_running();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  st_->http.stop();
}

bool Server::ready() const {
  return st_->ready;
}

std::string Server::load_error() const {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->load_error;
}

}  // namespace qwen3::server
