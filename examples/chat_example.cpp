// A minimal chat program on the public API: streams each reply, reasoning in brackets.
//
//   example_chat_example model.gguf            (reads user lines from stdin)
#include <iostream>
#include <string>

#include "qwen3/pipeline.h"

namespace {

// Prints the reply as it is generated.
class PrintStreamer : public qwen3::StreamerBase {
 public:
  qwen3::StreamingStatus on_reasoning(std::string_view d) override {
    if (!thinking_) std::cout << "[thinking: ";
    thinking_ = true;
    std::cout << d << std::flush;
    return qwen3::StreamingStatus::kContinue;
  }
  qwen3::StreamingStatus on_content(std::string_view d) override {
    close();
    std::cout << d << std::flush;
    return qwen3::StreamingStatus::kContinue;
  }
  qwen3::StreamingStatus on_tool_call(int, const qwen3::ToolCall& c) override {
    close();
    std::cout << "\n(tool call " << c.name << " " << c.arguments << ")";
    return qwen3::StreamingStatus::kContinue;
  }
  void on_end(qwen3::FinishReason) override {
    close();
    std::cout << "\n";
  }

 private:
  void close() {
    if (thinking_) std::cout << "]\n";
    thinking_ = false;
  }
  bool thinking_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " MODEL.gguf\n";
    return 2;
  }
  try {
    qwen3::Pipeline pipe(argv[1], "CPU", {{"n_ctx", "4096"}});
    qwen3::GenerationConfig config;  // model-card sampling for the thinking mode in use
    config.max_new_tokens = 512;
    pipe.start_chat("You are a helpful assistant.");
    PrintStreamer streamer;
    std::string line;
    while (std::cout << "> " << std::flush, std::getline(std::cin, line)) {
      if (line.empty()) continue;
      const qwen3::DecodedResult r = pipe.generate(line, config, &streamer);
      const auto& m = r.perf_metrics;
      std::cerr << "[" << r.tokens.size() << " tokens, ttft " << m.ttft_ms.mean << " ms, "
                << m.throughput_tps.mean << " tok/s, " << qwen3::to_string(r.finish_reason)
                << "]\n";
    }
    pipe.finish_chat();
    const auto& s = pipe.session_metrics();
    std::cerr << "session: " << s.raw.generate_ms.size() << " replies, ttft " << s.ttft_ms.mean
              << " +- " << s.ttft_ms.std << " ms\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
