// `qwen3 chat`: an interactive terminal chat. Line editing and history with libedit when
// built with it (QWEN3_HAVE_LIBEDIT), plain std::getline otherwise. Ctrl-C stops the reply
// being generated, not the program; /exit or Ctrl-D ends the chat.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "quantize_option.h"
#include "qwen3/pipeline.h"
#include "reply_printer.h"

#ifdef QWEN3_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace qwen3::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
}

struct ChatOpts {
  std::string model, system;
  bool hide_thinking = false;
  int threads = 0, ctx = 0, n_predict = 2048;
  std::optional<std::uint64_t> seed;
  std::string quantize;
};

// Reads one line; false at end of input.
bool read_line(const char* prompt, std::string& line) {
#ifdef QWEN3_HAVE_LIBEDIT
  char* s = readline(prompt);
  if (!s) return false;
  line = s;
  if (!line.empty()) add_history(s);
  free(s);
  return true;
#else
  std::fputs(prompt, stdout);
  std::fflush(stdout);
  return static_cast<bool>(std::getline(std::cin, line));
#endif
}

std::string history_json(const ChatHistory& h) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& m : h.messages) {
    nlohmann::ordered_json j = {{"role", m.role}, {"content", m.content}};
    if (!m.reasoning_content.empty()) j["reasoning_content"] = m.reasoning_content;
    if (!m.tool_calls.empty()) {
      j["tool_calls"] = nlohmann::ordered_json::array();
      for (const auto& c : m.tool_calls)
        j["tool_calls"].push_back({{"id", c.id},
                                   {"type", "function"},
                                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    a.push_back(std::move(j));
  }
  return a.dump(2);
}

const char* kHelp =
    "commands: /reset  /think  /no_think  /system TEXT  /stats  /save FILE  /exit\n"
    "Ctrl-C stops a reply; Ctrl-D or /exit quits.\n";

void print_stats(const PerfMetrics& m) {
  std::printf(
      "load %.0f ms | replies %zu | prompt tokens %zu (%zu cached) | generated %zu | "
      "ttft %.0f +- %.0f ms | prefill %.1f tok/s | decode %.1f +- %.1f tok/s\n",
      m.load_time_ms, m.raw.generate_ms.size(), m.num_input_tokens, m.num_cached_tokens,
      m.num_generated_tokens, m.ttft_ms.mean, m.ttft_ms.std, m.prefill_tps.mean,
      m.throughput_tps.mean, m.throughput_tps.std);
}

void save(const Pipeline& pipe, const std::string& file) {
  std::ofstream f(file);
  f << history_json(pipe.history()) << "\n";
  f.close();
  if (!f)
    std::printf("could not write %s\n", file.c_str());
  else
    std::printf("(saved %zu messages to %s)\n", pipe.history().size(), file.c_str());
}

struct ChatState {
  std::string system;
  bool thinking = true;
  bool quit = false;
};

// Runs `line` if it is a command and returns true. Anything else, including /think or
// /no_think followed by text, is a message for the model, sent as written.
bool handle_command(const std::string& line, Pipeline& pipe, ChatState& st) {
  if (line[0] != '/') return false;
  const auto space = line.find(' ');
  const std::string cmd = line.substr(0, space);
  const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
  if ((cmd == "/exit" || cmd == "/quit") && arg.empty()) {
    st.quit = true;
  } else if (cmd == "/help" && arg.empty()) {
    std::fputs(kHelp, stdout);
  } else if (cmd == "/reset" && arg.empty()) {
    pipe.start_chat(st.system);
    std::printf("(conversation cleared)\n");
  } else if ((cmd == "/think" || cmd == "/no_think") && arg.empty()) {
    st.thinking = cmd == "/think";
    std::printf("(thinking %s)\n", st.thinking ? "on" : "off");
  } else if (cmd == "/system") {
    st.system = arg;
    pipe.start_chat(st.system);
    std::printf("(system message %s; conversation cleared)\n", arg.empty() ? "removed" : "set");
  } else if (cmd == "/stats" && arg.empty()) {
    print_stats(pipe.session_metrics());
  } else if (cmd == "/save") {
    if (arg.empty())
      std::printf("usage: /save FILE\n");
    else
      save(pipe, arg);
  } else {
    return false;
  }
  return true;
}

void reply(Pipeline& pipe, const std::string& line, const ChatOpts& o, const ChatState& st,
           bool tty) {
  GenerationConfig cfg;
  cfg.enable_thinking = st.thinking;
  cfg.max_new_tokens = static_cast<std::size_t>(o.n_predict);
  cfg.seed = o.seed;
  ReplyPrinter printer(stdout, tty, o.hide_thinking, &g_interrupted);
  try {
    const DecodedResult r = pipe.generate(line, cfg, &printer);
    if (r.finish_reason == FinishReason::kCancelled) std::printf("(stopped)\n");
    if (r.dropped_turns > 0)
      std::printf("(%zu oldest turns left out to fit the context)\n", r.dropped_turns);
    std::fflush(stdout);
    if (!r.note.empty()) std::fprintf(stderr, "note: %s\n", r.note.c_str());
    std::fprintf(stderr, "%s\n", stats_line(r, pipe.session_metrics().load_time_ms).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
}

int chat(const ChatOpts& o) {
  Properties props;
  if (o.threads > 0) props["n_threads"] = std::to_string(o.threads);
  if (o.ctx > 0) props["n_ctx"] = std::to_string(o.ctx);
  if (!o.quantize.empty()) props["quantize"] = o.quantize;
  Pipeline pipe(o.model, "CPU", props);
  const bool tty = isatty(STDOUT_FILENO) != 0;

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a Ctrl-C at the prompt must not end the read
  sigaction(SIGINT, &sa, nullptr);

  ChatState st;
  st.system = o.system;
  pipe.start_chat(st.system);
  std::printf("qwen3 chat: %s (%zu-token context). /help for commands.\n", o.model.c_str(),
              pipe.info().n_ctx);
  std::string line;
  while (!st.quit) {
    g_interrupted.store(false);
    if (!read_line("> ", line)) {
      std::printf("\n");
      break;
    }
    if (line.empty() || handle_command(line, pipe, st)) continue;
    reply(pipe, line, o, st, tty);
  }
  return kExitOk;
}

Registrar reg(
    {"chat", "Interactive terminal chat", [](CLI::App& app) {
       auto o = std::make_shared<ChatOpts>();
       app.add_option("-m,--model", o->model, "GGUF file or Hugging Face model folder")->required();
       app.add_option("--system", o->system, "System message");
       app.add_flag("--hide-thinking", o->hide_thinking, "Do not show the reasoning");
       app.add_option("-t,--threads", o->threads, "CPU threads (default: physical cores)")
           ->check(CLI::PositiveNumber);
       app.add_option("-c,--ctx", o->ctx, "Context length (default: min(4096, model maximum))")
           ->check(CLI::PositiveNumber);
       app.add_option("-n,--n-predict", o->n_predict, "Maximum tokens per reply")
           ->check(CLI::PositiveNumber);
       app.add_option("--seed", o->seed, "Sampling seed (default: random)");
       add_quantize_option(app, o->quantize);
       return [o]() -> int { return chat(*o); };
     }});

}  // namespace
}  // namespace qwen3::cli
