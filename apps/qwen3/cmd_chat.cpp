// `qwen3 chat`: an interactive terminal chat. Line editing and history with libedit when
// built with it (QWEN3_HAVE_LIBEDIT), plain std::getline otherwise.
// - Ctrl-C stops the reply being generated; at the prompt it clears the line, and a
//   second Ctrl-C on an empty line (or Ctrl-D, or /exit) quits. The conversation is never
//   lost by a single keystroke.
// - A paste of several lines is one message (lines that arrive together are joined), and
//   `"""` opens a block that runs until a line ending in `"""`.
// - Slash commands (/help lists them) change settings, edit the conversation (/undo,
//   /retry), and save and load it; an unknown command answers with the list. A message
//   that starts with "/" is sent by typing "//".
// - Qwen3-VL (--mmproj): /image FILE attaches an image to the next message (checked when
//   attached: a missing or bad file is a message and the chat goes on).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "command.h"
#include "device_options.h"
#include "engine/chat_json.h"
#include "kv_type_option.h"
#include "lora_options.h"
#include "quantize_option.h"
#include "qwen3/pipeline.h"
#include "reply_printer.h"
#include "sampling_options.h"
#include "vision/image_decode.h"

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
  int threads = 0, ctx = 0;
  SamplingOptions sampling{2048};
  std::string quantize;
  std::string kv_type;
  std::string device = "CPU";
  DeviceOptions dev;
  std::vector<std::string> lora;
  std::string mmproj;  // Qwen3-VL vision encoder: /image attaches images
};

enum class Read { kLine, kInterrupted, kEnd };

// Reads one line. SIGINT is installed without SA_RESTART, so Ctrl-C makes the read return.
Read read_line(const char* prompt, std::string& line) {
  g_interrupted.store(false);
#ifdef QWEN3_HAVE_LIBEDIT
  char* s = readline(prompt);
  if (g_interrupted.load()) {
    free(s);
    return Read::kInterrupted;
  }
  if (!s) return Read::kEnd;
  line = s;
  free(s);
  return Read::kLine;
#else
  std::fputs(prompt, stdout);
  std::fflush(stdout);
  if (std::getline(std::cin, line)) return Read::kLine;
  if (g_interrupted.load()) {
    std::cin.clear();
    return Read::kInterrupted;
  }
  return Read::kEnd;
#endif
}

// True if more input is already waiting (the rest of a paste).
bool input_pending(int wait_ms) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, wait_ms) > 0 && (p.revents & POLLIN);
}

// One message: a line, the lines of a paste joined, or a """ block. kInterrupted on
// Ctrl-C, kEnd at end of input.
Read read_message(std::string& msg) {
  std::string line;
  Read r = read_line("> ", line);
  if (r != Read::kLine) return r;
  msg = line;
  if (line.rfind("\"\"\"", 0) == 0) {  // """ block
    msg = line.substr(3);
    bool closed = msg.size() >= 3 && msg.compare(msg.size() - 3, 3, "\"\"\"") == 0;
    if (closed) msg.resize(msg.size() - 3);
    while (!closed) {
      r = read_line("... ", line);
      if (r != Read::kLine) return r;
      closed = line.size() >= 3 && line.compare(line.size() - 3, 3, "\"\"\"") == 0;
      if (closed) line.resize(line.size() - 3);
      msg += (msg.empty() ? "" : "\n") + line;
    }
  } else {
    while (input_pending(15)) {  // a paste: lines that arrive together are one message
      r = read_line("", line);
      if (r != Read::kLine) break;
      msg += "\n" + line;
    }
  }
#ifdef QWEN3_HAVE_LIBEDIT
  if (!msg.empty()) add_history(msg.c_str());
#endif
  return Read::kLine;
}

const char* kHelp =
    "commands:\n"
    "  /help                  this list\n"
    "  /exit, /quit, /bye     quit (also Ctrl-D, or Ctrl-C twice on an empty line)\n"
    "  /reset, /clear         start over (keeps the system message)\n"
    "  /undo                  remove the last exchange\n"
    "  /retry                 answer the last message again\n"
    "  /think, /no_think      thinking on / off for the next replies\n"
    "  /system TEXT           set the system message (starts over)\n"
    "  /set KEY VALUE         temp, top_p, top_k, min_p, presence_penalty, repeat_penalty,\n"
    "                         max_tokens, seed, system, think (on/off); /set KEY clears it\n"
    "  /show                  model, context used, settings\n"
    "  /stats                 speed of the replies so far\n"
    "  /save FILE, /load FILE the conversation as JSON (without images)\n"
    "  /image FILE            attach an image (JPEG, PNG, WebP) to the next message; again\n"
    "                         for several; /image lists them, /image clear drops them\n"
    "                         (a Qwen3-VL model with --mmproj)\n"
    "input: a paste of several lines is one message; \"\"\" starts a block that ends with \"\"\";\n"
    "  //text sends \"/text\". Ctrl-C stops a reply or clears the line.\n";

struct ChatState {
  std::string system;
  ChatHistory history;  // without the system message
  GenerationConfig cfg;
  bool quit = false;
};

ChatHistory with_system(const ChatState& st) {
  ChatHistory h;
  if (!st.system.empty()) h.push_back(ChatMessage::system(st.system));
  for (const auto& m : st.history.messages) h.push_back(m);
  return h;
}

void print_stats(const PerfMetrics& m) {
  std::printf(
      "load %.0f ms | replies %zu | prompt tokens %zu (%zu cached) | generated %zu | "
      "ttft %.0f +- %.0f ms | prefill %.1f tok/s | decode %.1f +- %.1f tok/s\n",
      m.load_time_ms, m.raw.generate_ms.size(), m.num_input_tokens, m.num_cached_tokens,
      m.num_generated_tokens, m.ttft_ms.mean, m.ttft_ms.std, m.prefill_tps.mean,
      m.throughput_tps.mean, m.throughput_tps.std);
}

std::string opt_str(const std::optional<float>& v) {
  if (!v) return "model default";
  std::ostringstream s;
  s << *v;
  return s.str();
}

void show(const Pipeline& pipe, const ChatOpts& o, const ChatState& st, size_t ctx_used) {
  const auto& c = st.cfg;
  std::printf("model %s | context %zu of %zu tokens | %zu messages\n", o.model.c_str(), ctx_used,
              pipe.info().n_ctx, st.history.size());
  std::printf(
      "think %s | temp %s | top_p %s | top_k %s | min_p %s | presence_penalty %g | "
      "repeat_penalty %g | max_tokens %zu | seed %s\n",
      c.enable_thinking.value_or(true) ? "on" : "off", opt_str(c.temperature).c_str(),
      opt_str(c.top_p).c_str(), c.top_k ? std::to_string(*c.top_k).c_str() : "model default",
      opt_str(c.min_p).c_str(), c.presence_penalty, c.repetition_penalty, c.max_new_tokens,
      c.seed ? std::to_string(*c.seed).c_str() : "random");
  std::printf("system: %s\n", st.system.empty() ? "(none)" : st.system.c_str());
}

// /set KEY [VALUE]; returns an error message or "".
std::string set_option(ChatState& st, const std::string& key, const std::string& value) {
  auto& c = st.cfg;
  auto number = [&](double lo, double hi) -> double {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value.size() || !(v >= lo && v <= hi))
      throw std::invalid_argument(key + " must be a number from " +
                                  std::to_string(lo).substr(0, 4) + " to " +
                                  std::to_string(hi).substr(0, 4));
    return v;
  };
  const bool clear = value.empty();
  try {
    if (key == "temp" || key == "temperature") {
      c.temperature = clear ? std::nullopt : std::optional<float>(number(0, 100));
    } else if (key == "top_p") {
      c.top_p = clear ? std::nullopt : std::optional<float>(number(0, 1));
    } else if (key == "min_p") {
      c.min_p = clear ? std::nullopt : std::optional<float>(number(0, 1));
    } else if (key == "top_k") {
      c.top_k = clear ? std::nullopt : std::optional<int>(static_cast<int>(number(0, 1e9)));
    } else if (key == "presence_penalty") {
      c.presence_penalty = clear ? 0.0f : static_cast<float>(number(-2, 2));
    } else if (key == "repeat_penalty") {
      c.repetition_penalty = clear ? 1.0f : static_cast<float>(number(0, 10));
    } else if (key == "max_tokens") {
      if (clear) return "max_tokens needs a value";
      c.max_new_tokens = static_cast<size_t>(number(1, 1e9));
    } else if (key == "seed") {
      c.seed =
          clear ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(number(0, 1.8e19)));
    } else if (key == "think") {
      if (value != "on" && value != "off") return "think must be on or off";
      c.enable_thinking = value == "on";
    } else if (key == "system") {
      st.system = value;
    } else {
      return "unknown setting '" + key +
             "'; settings: temp, top_p, top_k, min_p, presence_penalty, repeat_penalty, "
             "max_tokens, seed, system, think";
    }
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

class Chat {
 public:
  Chat(Pipeline& pipe, const ChatOpts& o, bool tty) : pipe_(pipe), o_(o), tty_(tty) {
    st_.system = o.system;
    o.sampling.apply(st_.cfg);
  }

  bool quit() const { return st_.quit; }

  // What a command left of its input to be read next (see /image); "" if nothing.
  std::string take_rest() { return std::exchange(rest_, {}); }

  // Runs `line` if it is a command (true), else returns false: it is a message.
  bool command(const std::string& line) {
    if (line.empty() || line[0] != '/' || line.rfind("//", 0) == 0) return false;
    const auto space = line.find(' ');
    const std::string cmd = line.substr(0, space);
    std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    // Qwen3's own soft switches followed by text are messages for the model.
    if ((cmd == "/think" || cmd == "/no_think") && !arg.empty()) return false;
    if (cmd == "/exit" || cmd == "/quit" || cmd == "/bye") {
      st_.quit = true;
    } else if (cmd == "/help" || cmd == "/?") {
      std::fputs(kHelp, stdout);
    } else if (cmd == "/reset" || cmd == "/clear") {
      st_.history = {};
      std::printf("(conversation cleared)\n");
    } else if (cmd == "/think" || cmd == "/no_think") {
      st_.cfg.enable_thinking = cmd == "/think";
      std::printf("(thinking %s)\n", cmd == "/think" ? "on" : "off");
    } else if (cmd == "/system") {
      st_.system = arg;
      st_.history = {};
      std::printf("(system message %s; conversation cleared)\n", arg.empty() ? "removed" : "set");
    } else if (cmd == "/set") {
      const auto sp = arg.find(' ');
      const std::string key = arg.substr(0, sp),
                        value = sp == std::string::npos ? "" : arg.substr(sp + 1);
      if (key.empty()) {
        std::printf("usage: /set KEY VALUE (see /help)\n");
      } else if (const std::string err = set_option(st_, key, value); !err.empty()) {
        std::printf("%s\n", err.c_str());
      } else {
        std::printf("(%s %s)\n", key.c_str(),
                    value.empty() ? "reset to default" : ("= " + value).c_str());
      }
    } else if (cmd == "/show") {
      show(pipe_, o_, st_, ctx_used_);
    } else if (cmd == "/stats") {
      print_stats(pipe_.session_metrics());
    } else if (cmd == "/undo") {
      undo(true);
    } else if (cmd == "/retry") {
      if (!undo(false)) return true;
      ChatMessage last = std::move(st_.history.messages.back());
      st_.history.messages.pop_back();
      send(std::move(last));
    } else if (cmd == "/save") {
      save(arg);
    } else if (cmd == "/load") {
      load(arg);
    } else if (cmd == "/image") {
      // In a paste (or piped input) /image takes its own line; the lines after it are
      // read as if typed next (more /image lines, the message).
      if (const auto nl = arg.find('\n'); nl != std::string::npos) {
        rest_ = arg.substr(nl + 1);
        arg.resize(nl);
      }
      image(arg);
    } else {
      std::printf("unknown command %s\n%s", cmd.c_str(), kHelp);
    }
    return true;
  }

  // A typed message: the attached images go with it (before its text).
  void send(const std::string& text) {
    ChatMessage m = ChatMessage::user(text);
    m.images = std::move(images_);
    images_.clear();
    image_names_.clear();
    send(std::move(m));
  }

  void send(ChatMessage msg) {
    st_.history.push_back(std::move(msg));
    ReplyPrinter printer(stdout, tty_, o_.hide_thinking, &g_interrupted);
    try {
      const DecodedResult r = pipe_.generate(with_system(st_), st_.cfg, &printer);
      ChatMessage a = ChatMessage::assistant(r.text, r.reasoning);
      a.tool_calls = r.tool_calls;
      st_.history.push_back(std::move(a));  // a stopped reply stays, as far as it got
      ctx_used_ = r.prompt_tokens + r.tokens.size();
      if (r.finish_reason == FinishReason::kCancelled) std::printf("(stopped)\n");
      if (r.dropped_turns > 0)
        std::printf(
            "(%zu oldest turns left out to fit the %zu-token context; /reset or -c to "
            "raise it)\n",
            r.dropped_turns, pipe_.info().n_ctx);
      std::fflush(stdout);
      if (!r.note.empty()) std::fprintf(stderr, "note: %s\n", r.note.c_str());
      print_handoff(r);
      std::fprintf(stderr, "%s\n", stats_line(r, pipe_.session_metrics().load_time_ms).c_str());
    } catch (const std::exception& e) {
      // The message was not answered: not part of the chat; its images stay attached.
      std::vector<ChatImage> imgs = std::move(st_.history.messages.back().images);
      st_.history.messages.pop_back();
      std::fprintf(stderr, "error: %s\n", e.what());
      if (!imgs.empty() && images_.empty()) {
        images_ = std::move(imgs);
        for (auto& im : images_) im.offset = 0;
        image_names_.assign(images_.size(), "of the unanswered message");
        std::fprintf(stderr, "(%zu image%s still attached; /image clear drops them)\n",
                     images_.size(), images_.size() == 1 ? "" : "s");
      }
    }
  }

 private:
  // Removes the last assistant reply (and, with user_too, the message it answered).
  bool undo(bool user_too) {
    auto& m = st_.history.messages;
    if (m.empty() || m.back().role != "assistant") {
      std::printf("(nothing to %s)\n", user_too ? "undo" : "retry");
      return false;
    }
    m.pop_back();
    if (user_too) {
      while (!m.empty() && m.back().role != "user") m.pop_back();
      if (!m.empty()) m.pop_back();
      std::printf("(last exchange removed; %zu messages left)\n", m.size());
    }
    return true;
  }

  void save(const std::string& file) {
    if (file.empty()) {
      std::printf("usage: /save FILE\n");
      return;
    }
    std::ofstream f(file);
    f << engine::chat_messages_to_json(with_system(st_).messages).dump(2) << "\n";
    f.close();
    const size_t n = with_system(st_).size();
    if (!f)
      std::printf("could not write %s\n", file.c_str());
    else
      std::printf("(saved %zu message%s to %s)\n", n, n == 1 ? "" : "s", file.c_str());
  }

  void load(const std::string& file) {
    if (file.empty()) {
      std::printf("usage: /load FILE\n");
      return;
    }
    try {
      std::ifstream f(file);
      if (!f) throw std::runtime_error("cannot read " + file);
      ChatHistory h;
      h.messages = engine::chat_messages_from_json(nlohmann::ordered_json::parse(f));
      st_.history = {};
      st_.system.clear();
      for (auto& m : h.messages) {
        if (m.role == "system" && st_.history.empty() && st_.system.empty())
          st_.system = m.content;
        else
          st_.history.push_back(std::move(m));
      }
      const size_t n = with_system(st_).size();
      std::printf("(loaded %zu message%s from %s)\n", n, n == 1 ? "" : "s", file.c_str());
    } catch (const std::exception& e) {
      std::printf("could not load %s: %s\n", file.c_str(), e.what());
    }
  }

  // /image FILE attaches; /image lists; /image clear drops. Each file is decoded once here
  // so a missing, truncated or non-image file is a message now, not an error at send.
  void image(const std::string& arg) {
    if (arg.empty() || arg == "list") {
      if (images_.empty()) std::printf("(no images attached; /image FILE attaches one)\n");
      for (std::size_t i = 0; i < images_.size(); ++i)
        std::printf("(image %zu: %s)\n", i + 1, image_names_[i].c_str());
      return;
    }
    if (arg == "clear") {
      std::printf("(%zu image%s dropped)\n", images_.size(), images_.size() == 1 ? "" : "s");
      images_.clear();
      image_names_.clear();
      return;
    }
    if (o_.mmproj.empty()) {
      std::printf(
          "/image needs a Qwen3-VL model and its vision encoder: qwen3 chat -m MODEL --mmproj "
          "MMPROJ.gguf\n");
      return;
    }
    vision::ImageLimits lim;
    std::string bytes;
    try {
      std::ifstream f(arg, std::ios::binary);
      if (!f) throw std::runtime_error("cannot open the file");
      bytes.assign(std::istreambuf_iterator<char>(f), {});
      if (f.bad()) throw std::runtime_error("cannot read the file");
      if (bytes.size() > lim.max_file_bytes)
        throw std::runtime_error("the file is larger than " +
                                 std::to_string(lim.max_file_bytes >> 20) + " MiB");
      const vision::RgbImage im = vision::decode_image(
          reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), lim);
      images_.push_back({std::move(bytes), 0});
      image_names_.push_back(arg);
      std::printf("(image %zu attached: %s, %dx%d; it goes with your next message)\n",
                  images_.size(), arg.c_str(), im.width, im.height);
    } catch (const std::exception& e) {
      std::printf("cannot attach %s: %s\n", arg.c_str(), e.what());
    }
  }

  Pipeline& pipe_;
  const ChatOpts& o_;
  std::vector<ChatImage> images_;  // attached to the next message
  std::vector<std::string> image_names_;
  std::string rest_;  // input after a command's own line (take_rest)
  bool tty_;
  ChatState st_;
  size_t ctx_used_ = 0;
};

int chat(const ChatOpts& o) {
  Properties props;
  if (o.threads > 0) props["n_threads"] = std::to_string(o.threads);
  if (o.ctx > 0) props["n_ctx"] = std::to_string(o.ctx);
  if (!o.quantize.empty()) props["quantize"] = o.quantize;
  if (!o.kv_type.empty()) props["kv_type"] = o.kv_type;
  apply_device_options(o.dev, props);
  apply_lora_option(o.lora, props);
  if (!o.mmproj.empty()) props["mmproj"] = o.mmproj;
  Pipeline pipe(o.model, o.device, props);
  print_device_report(pipe, o.device);
  const bool tty = isatty(STDOUT_FILENO) != 0;

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: Ctrl-C at the prompt ends the read
  sigaction(SIGINT, &sa, nullptr);
#ifdef QWEN3_HAVE_LIBEDIT
  rl_catch_signals = 0;  // our handler, not libedit's, sees Ctrl-C
#endif

  Chat c(pipe, o, tty);
  std::printf("qwen3 chat: %s (%zu-token context). /help for commands.\n", o.model.c_str(),
              pipe.info().n_ctx);
  std::string msg;
  bool armed = false;  // a Ctrl-C on an empty line was just pressed
  while (!c.quit()) {
    const Read r = read_message(msg);
    if (r == Read::kEnd) {
      std::printf("\n");
      break;
    }
    if (r == Read::kInterrupted) {
      if (armed) {
        std::printf("\n");
        break;
      }
      armed = true;
      std::printf("\n(Ctrl-C again, Ctrl-D or /exit to quit; /save FILE keeps the chat)\n");
      continue;
    }
    armed = false;
    while (!msg.empty() && !c.quit()) {
      if (!c.command(msg)) {
        c.send(msg.rfind("//", 0) == 0 ? msg.substr(1) : msg);
        break;
      }
      msg = c.take_rest();
    }
  }
  return kExitOk;
}

Registrar reg(
    {"chat", "Interactive terminal chat (/help inside lists its commands)", [](CLI::App& app) {
       auto o = std::make_shared<ChatOpts>();
       app.add_option("-m,--model", o->model, "GGUF file, Hugging Face model folder or hf:// name")
           ->required();
       app.add_option("--system", o->system, "System message");
       app.add_flag("--hide-thinking", o->hide_thinking, "Do not show the reasoning");
       app.add_option("-t,--threads", o->threads, "CPU threads (default: physical cores)")
           ->check(CLI::PositiveNumber);
       app.add_option("-c,--ctx", o->ctx, "Context length (default: min(4096, model maximum))")
           ->check(CLI::PositiveNumber);
       o->sampling.add_to(app);
       add_quantize_option(app, o->quantize);
       add_kv_type_option(app, o->kv_type);
       add_device_options(app, o->dev, o->device);
       add_lora_option(app, o->lora);
       app.add_option("--mmproj", o->mmproj,
                      "Qwen3-VL vision encoder GGUF (llama.cpp's mmproj file): /image FILE "
                      "attaches images")
           ->type_name("MMPROJ");
       app.footer(kHelp);
       return [o]() -> int { return chat(*o); };
     }});

}  // namespace
}  // namespace qwen3::cli
