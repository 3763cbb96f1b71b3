// `qwen3 serve`: the OpenAI-compatible HTTP server and the web chat page. Logs to
// stderr: a loading line, a ready line (URL, model, parallel, ctx) once the model is
// loaded, and one access line per request (text or JSON, --quiet for only the ready line).
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "command.h"
#include "device_options.h"
#include "engine/replay_backend.h"
#include "kv_type_option.h"
#include "load_progress_printer.h"
#include "lora_options.h"
#include "model/load_progress.h"
#include "model_option.h"
#include "quantize_option.h"
#include "server/memory.h"
#include "server/server.h"
#include "server/server_log.h"

namespace qwen3::cli {
namespace {

struct ServeOpts {
  server::ServerOptions s;
  std::string backend, replay_file;
  int replay_delay_ms = 0;
  std::string quantize;
  std::string kv_type;
  bool special_in_content = false;
  DeviceOptions dev;
  std::vector<std::string> lora;
  std::string mmproj;
};

Registrar reg(
    {"serve", "OpenAI-compatible HTTP server with a web chat page", [](CLI::App& app) {
       auto o = std::make_shared<ServeOpts>();
       add_model_option(app, o->s.model_path);
       app.add_option("--host", o->s.host,
                      "Address to bind (default 127.0.0.1: this machine only)");
       app.add_option("--port", o->s.port, "TCP port (default 8080; 0 = any free port)")
           ->check(CLI::Range(0, 65535));
       app.add_option(
           "--api-key", o->s.api_key,
           "Require 'Authorization: Bearer KEY' on every endpoint but /health and the page");
       app.add_option("--parallel", o->s.parallel,
                      "Most sequences decoded at once, batched over one model (default 1)")
           ->check(CLI::Range(1, 64));
       app.add_option("--queue", o->s.max_queue,
                      "Requests that may wait for a free sequence; more get 503 (default 64)")
           ->check(CLI::Range(0, 4096));
       app.add_option("-c,--ctx", o->s.n_ctx, "Context length per sequence (default 4096)")
           ->check(CLI::PositiveNumber);
       app.add_option("--kv-size", o->s.kv_size,
                      "Positions in the KV cache shared by all sequences, in blocks of 16; "
                      "requests wait in the queue while it is full; prompts that share a prefix "
                      "share its blocks (default: parallel x ctx)")
           ->check(CLI::Range(16, 1 << 26));
       add_threads_option(app, o->s.n_threads);
       app.add_option("--alias", o->s.aliases,
                      "Model id shown to clients (default: file name); repeat it for more ids "
                      "that requests may name in \"model\" (others get 404)");
       add_device_options(app, o->dev, o->s.device);
       add_lora_option(app, o->lora);
       app.add_option("--mmproj", o->mmproj,
                      "Qwen3-VL vision encoder GGUF (llama.cpp's mmproj file): user messages "
                      "may then hold image_url parts (base64 data URLs; PNG, JPEG, WebP)");
       app.add_flag("--allow-remote-images", o->s.images.allow_remote,
                    "Fetch http:// and https:// image_url parts (10 s, 8 MiB, 3 redirects). "
                    "SSRF risk: clients can then make the server request any address it "
                    "reaches, loopback and private networks included");
       app.add_option("--allowed-image-dir", o->s.images.allowed_dirs,
                      "Read file:// (or absolute path) image_url parts inside DIR (symlinks "
                      "resolved); repeatable. Default: no local files")
           ->allow_extra_args(false);
       app.add_flag("--special-in-content", o->special_in_content,
                    "UNSAFE: parse special-token text (<|im_end|>, <|im_start|>, ...) in "
                    "messages, tool calls and tools as special tokens, as before; a client "
                    "can then close its turn and write a system turn. Off by default: only "
                    "the chat template writes special tokens");
       app.add_option("--shutdown-grace", o->s.shutdown_grace_s,
                      "On SIGTERM/SIGINT, seconds running replies get to finish before they "
                      "are cut with an error (default 10)")
           ->check(CLI::Range(0.0, 3600.0));
       app.add_option("--cors-origin", o->s.cors_origins,
                      "Allow browser pages from ORIGIN (e.g. http://localhost:3000) to call the "
                      "API; repeatable; '*' allows any origin. Default: none")
           ->allow_extra_args(false);
       app.add_option("--allowed-host", o->s.allowed_hosts,
                      "Serve requests whose Host header is NAME (without --api-key only loopback "
                      "names are served); repeatable")
           ->allow_extra_args(false);
       app.add_option("--max-connections", o->s.max_connections,
                      "Open connections at most; more are closed at once (default 512)")
           ->check(CLI::Range(1, 100000));
       app.add_option("--max-connections-per-client", o->s.max_connections_per_client,
                      "Open connections per client address, loopback exempt (default 64)")
           ->check(CLI::Range(1, 100000));
       app.add_option("--log-format", o->s.log_format,
                      "Log lines on stderr as text or json (one JSON object per line)")
           ->check(CLI::IsMember({"text", "json"}))
           ->capture_default_str();
       app.add_flag("-q,--quiet", o->s.quiet,
                    "Log only the ready line and errors (no loading line, no access log)");
       // Test-only: replay a fixed reply instead of running a model (-m is then a tokenizer).
       add_quantize_option(app, o->quantize);
       add_kv_type_option(app, o->kv_type);
       app.add_option("--backend", o->backend, "Backend name (testing)")->group("");
       app.add_option("--replay-file", o->replay_file, "Reply to replay (testing)")->group("");
       app.add_option("--replay-delay-ms", o->replay_delay_ms, "Delay per token (testing)")
           ->group("");
       return [o]() -> int {
         if (!o->s.aliases.empty()) o->s.model_name = o->s.aliases.front();
         if (!o->backend.empty()) {
           if (o->backend == "replay") engine::register_replay_backend();
           o->s.properties["backend"] = o->backend;
         }
         if (!o->quantize.empty()) o->s.properties["quantize"] = o->quantize;
         if (!o->kv_type.empty()) o->s.properties["kv_type"] = o->kv_type;
         apply_device_options(o->dev, o->s.properties);
         apply_lora_option(o->lora, o->s.properties);
         if (!o->mmproj.empty()) o->s.properties["mmproj"] = o->mmproj;
         if (o->special_in_content) o->s.properties["special_in_content"] = "true";
         if (!o->replay_file.empty()) o->s.properties["replay_file"] = o->replay_file;
         if (o->replay_delay_ms > 0) {
           o->s.properties["replay_delay_ms"] = std::to_string(o->replay_delay_ms);
         }
         server::bound_allocator_retention();
         o->s.log = [](const std::string& line) {
           static std::mutex mu;
           std::lock_guard<std::mutex> lock(mu);
           std::cerr << line << std::endl;  // flushed: a log reader sees each line at once
         };
         server::Server srv(o->s);  // checks the options before anything is printed
         // Long load steps (repacking, --quantize) as log lines of the chosen format.
         if (o->s.quiet) {
           set_load_progress(nullptr);
         } else {
           const auto fmt = server::parse_log_format(o->s.log_format);
           install_load_progress(
               [log = o->s.log, fmt](const std::string& step, int pct, const std::string& line) {
                 log(server::event_line("progress", line,
                                        {{"step", step}, {"percent", std::to_string(pct), true}},
                                        fmt));
               },
               true);
         }
         srv.bind();
         // Ctrl-C / SIGTERM: a thread waits for the signal and stops the server cleanly
         // (blocked here before run() starts any thread, so only that thread receives it).
         sigset_t sigs;
         sigemptyset(&sigs);
         sigaddset(&sigs, SIGINT);
         sigaddset(&sigs, SIGTERM);
         pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
         std::thread waiter([&] {
           int sig = 0;
           sigwait(&sigs, &sig);
           srv.stop();
         });
         bool ok = srv.run();
         pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if no signal came
         waiter.join();
         if (!ok) {
           std::cerr << "qwen3: error: " << srv.load_error() << "\n";
           return kExitBadInput;
         }
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
