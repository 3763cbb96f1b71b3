// Prints a streamed reply for `qwen3 run` and `qwen3 chat`: reasoning dimmed on a
// terminal (wrapped in <think></think> otherwise, or hidden), content as is, tool calls
// as one JSON line each. Stops the generation when *cancel turns true (Ctrl-C).
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

#include "qwen3/pipeline.h"

namespace qwen3::cli {

class ReplyPrinter : public StreamerBase {
 public:
  ReplyPrinter(std::FILE* out, bool tty, bool hide_reasoning,
               const std::atomic<bool>* cancel = nullptr)
      : out_(out), tty_(tty), hide_(hide_reasoning), cancel_(cancel) {}

  StreamingStatus on_token(std::int32_t) override { return status(); }

  StreamingStatus on_reasoning(std::string_view d) override {
    if (!hide_ && !d.empty()) {
      if (!in_reasoning_) {
        std::fputs(tty_ ? "\x1b[2m" : "<think>\n", out_);
        in_reasoning_ = true;
      }
      write(d);
    }
    return status();
  }

  StreamingStatus on_content(std::string_view d) override {
    close_reasoning();
    write(d);
    return status();
  }

  StreamingStatus on_tool_call(int, const ToolCall& c) override {
    close_reasoning();
    std::string line = "<tool_call>{\"name\": \"" + c.name +
                       "\", \"arguments\": " + (c.arguments.empty() ? "{}" : c.arguments) +
                       "}</tool_call>\n";
    write(line);
    return status();
  }

  void on_end(FinishReason) override {
    close_reasoning();
    if (!ends_with_newline_) std::fputc('\n', out_);
    std::fflush(out_);
  }

 private:
  StreamingStatus status() const {
    return cancel_ && cancel_->load() ? StreamingStatus::kStop : StreamingStatus::kContinue;
  }
  void write(std::string_view d) {
    if (d.empty()) return;
    std::fwrite(d.data(), 1, d.size(), out_);
    std::fflush(out_);
    ends_with_newline_ = d.back() == '\n';
  }
  void close_reasoning() {
    if (!in_reasoning_) return;
    in_reasoning_ = false;
    if (tty_) {
      std::fputs("\x1b[0m", out_);
      if (!ends_with_newline_) std::fputc('\n', out_);
    } else {
      std::fputs(ends_with_newline_ ? "</think>\n\n" : "\n</think>\n\n", out_);
    }
    ends_with_newline_ = true;
  }

  std::FILE* out_;
  bool tty_, hide_;
  const std::atomic<bool>* cancel_;
  bool in_reasoning_ = false;
  bool ends_with_newline_ = true;
};

// One line for stderr after a reply.
inline std::string stats_line(const DecodedResult& r, double load_ms) {
  const auto& m = r.perf_metrics;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "[load %.0f ms | prompt %zu tokens (%zu cached), %.1f tok/s | generated %zu "
                "tokens, %.1f tok/s | ttft %.0f ms | %s]",
                load_ms, r.prompt_tokens, r.cached_tokens, m.prefill_tps.mean, r.tokens.size(),
                m.throughput_tps.mean, m.ttft_ms.mean, to_string(r.finish_reason));
  return buf;
}

}  // namespace qwen3::cli
