// Server: options check, model loading in the background (with the loading and ready
// log lines), the HTTP layer's lifetime and the honest shutdown (stop accepting, a grace
// period for running generations, then cut them visibly and close every connection).
#include "server/server.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "engine/device_choice.h"
#include "server/http_server.h"
#include "server/request_limits.h"
#include "server/server_gate.h"
#include "server/server_log.h"
#include "server/server_state.h"

namespace qwen3::server {

struct Server::State : ServerState {
  std::unique_ptr<ServerGate> gate;
  std::unique_ptr<HttpServer> net;
  bool bound = false;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;
};

namespace {

using Clock = std::chrono::steady_clock;

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
  if (!(o.shutdown_grace_s >= 0) || o.shutdown_grace_s > 3600) {
    throw std::invalid_argument("--shutdown-grace must be 0..3600 seconds");
  }
  if (o.head_timeout_ms <= 0 || o.idle_timeout_ms <= 0) {
    throw std::invalid_argument("timeouts must be positive");
  }
  if (o.max_connections < 1 || o.max_connections_per_client < 1) {
    throw std::invalid_argument("connection limits must be positive");
  }
  parse_log_format(o.log_format);
}

std::string url_of(const ServerOptions& o) {
  const bool v6 = o.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

HttpLimits limits_of(const ServerOptions& o) {
  HttpLimits l;
  l.max_body_bytes = o.max_body_bytes;
  l.head_timeout = std::chrono::milliseconds(o.head_timeout_ms);
  l.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
  l.max_connections = o.max_connections;
  l.max_connections_per_client = o.max_connections_per_client;
  return l;
}

// Waits until no handler runs or `until`, whichever comes first.
void wait_idle(const HttpServer& net, Clock::time_point until) {
  while (net.busy() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Records the deployment tier (and AUTO's failed tiers) and logs them. The batched CPU
// path has no chain of its own: AUTO takes it only when this build has no OpenVINO
// backend, so the chain's reasons are those a preview finds without loading.
void report_device(ServerState& st, const PipelineInfo& info) {
  std::string device = st.opts.device;
  for (auto& c : device) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  st.tier = info.tier;
  st.failed_tiers = info.failed_tiers;
  if (device == "AUTO" && info.failed_tiers.empty() && !engine::openvino_available()) {
    const engine::ChainPreview p = engine::preview_auto_chain(st.opts.model_path);
    st.tier = p.chosen;
    for (const auto& f : p.failures) st.failed_tiers.push_back({f.tier.name(), f.reason});
  }
  if (device == "CPU" || device.empty()) return;
  for (const auto& f : st.failed_tiers)
    std::cerr << "qwen3 serve: device " << device << ": " << f.tier << " failed: " << f.reason
              << "\n";
  std::cerr << "qwen3 serve: device " << device << ": serving on " << st.tier << " (backend "
            << info.backend << (info.handoff != "never" ? ", hand-off " + info.handoff : "")
            << ")\n";
}

}  // namespace

Server::Server(ServerOptions options) : st_(std::make_unique<State>()) {
  validate(options);
  if (options.model_name.empty()) options.model_name = default_model_name(options.model_path);
  st_->opts = std::move(options);
  // A server that takes images takes the bodies that carry them (base64 data URLs).
  if (st_->opts.properties.count("mmproj"))
    st_->opts.max_body_bytes = std::max(st_->opts.max_body_bytes, limits::kMaxVisionBodyBytes);
  ServerState& st = *st_;
  const auto& o = st.opts;

  // Writes to a vanished client must fail, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  // Handlers (and streams) run on these threads; connections waiting for their request
  // hold none, so the pool is sized for every slot and queue place plus a margin.
  std::size_t threads = o.http_threads > 0
                            ? static_cast<std::size_t>(o.http_threads)
                            : static_cast<std::size_t>(o.parallel) + o.max_queue + 16;
  st_->gate = std::make_unique<ServerGate>(st);
  st_->net = std::make_unique<HttpServer>(limits_of(o), *st_->gate, threads);

  add_generation_routes(st);
  add_info_routes(st);
  add_text_routes(st);
  add_web_routes(st);
  add_lora_routes(st);
}

Server::~Server() {
  stop();
  st_->net.reset();  // joins the network and handler threads before the state goes
}

void Server::bind() {
  if (st_->bound) return;
  st_->net->bind(st_->opts.host, st_->opts.port);
  st_->opts.port = st_->net->port();
  st_->bound = true;
}

int Server::port() const {
  return st_->opts.port;
}

bool Server::run() {
  bind();
  State& st = *st_;
  const LogFormat fmt = parse_log_format(st.opts.log_format);
  if (st.opts.log && !st.opts.quiet) {
    st.opts.log(event_line("loading",
                           "loading " + st.opts.model_path + " (listening on " + url_of(st.opts) +
                               "; /health answers 503 until the model is ready)",
                           {{"model_path", st.opts.model_path}, {"url", url_of(st.opts)}}, fmt));
  }
  const auto load_start = Clock::now();
  std::thread loader([this, &st, fmt, load_start] {
    try {
      Properties props = st.opts.properties;
      if (st.opts.n_ctx > 0) props["n_ctx"] = std::to_string(st.opts.n_ctx);
      if (st.opts.n_threads > 0) props["n_threads"] = std::to_string(st.opts.n_threads);
      // One model load shared by all --parallel sequences (continuous batching).
      engine::KvPoolOptions kv;
      kv.kv_size = st.opts.kv_size;
      auto scheduler = std::make_unique<Scheduler>(st.opts.model_path, st.opts.device, props,
                                                   st.opts.parallel, st.opts.max_queue, 0, kv);
      if (st.stopping) return;
      st.n_ctx = scheduler->pipeline().info().n_ctx;
      report_device(st, scheduler->pipeline().info());
      st.scheduler = std::move(scheduler);
      st.ready = true;
      if (st.opts.log) {
        const double s = std::chrono::duration<double>(Clock::now() - load_start).count();
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.2f", s);
        const std::string url = url_of(st.opts);
        st.opts.log(event_line("ready",
                               "ready on " + url + ": model " + st.opts.model_name + ", parallel " +
                                   std::to_string(st.opts.parallel) + ", ctx " +
                                   std::to_string(st.n_ctx) + ", loaded in " + secs +
                                   " s (web chat at " + url + "/, OpenAI API at " + url + "/v1)",
                               {{"url", url},
                                {"model", st.opts.model_name},
                                {"parallel", std::to_string(st.opts.parallel), true},
                                {"ctx", std::to_string(st.n_ctx), true},
                                {"load_s", secs, true}},
                               fmt));
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> lock(st.mu);
        st.load_error = e.what();
      }
      stop();
    }
  });
  st.net->start();
  {
    std::unique_lock<std::mutex> lock(st.stop_mu);
    st.stop_cv.wait(lock, [&] { return st.stop_requested; });
  }
  // 1. No new connections or requests; idle keep-alive connections close.
  st.stopping = true;
  st.net->stop_accepting();
  // 2. Running requests get the grace period.
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(st.opts.shutdown_grace_s));
  wait_idle(*st.net, Clock::now() + grace);
  // 3. Cut what still runs: generations stop at their next token and their handlers
  //    answer 503 (or end the stream with an error event) within a poll period.
  st.aborting = true;
  wait_idle(*st.net, Clock::now() + std::chrono::milliseconds(1500));
  // 4. Close every connection, whatever its client does, and stop the network thread.
  st.net->stop();
  loader.join();
  st.ready = false;
  st.scheduler.reset();  // waits for running generations, which stop at their next token
  return load_error().empty();
}

void Server::stop() {
  st_->stopping = true;
  std::lock_guard<std::mutex> lock(st_->stop_mu);
  st_->stop_requested = true;
  st_->stop_cv.notify_all();
}

bool Server::ready() const {
  return st_->ready;
}

std::string Server::load_error() const {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->load_error;
}

}  // namespace qwen3::server
