// Turns sampled token ids into a reply: the text layer's stream parser splits reasoning,
// content and tool calls and applies stop strings; deltas go to the user's streamer, which
// may cancel (it hears nothing more after that). Collects the reply for DecodedResult.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qwen3/streamer.h"

namespace qwen3 {
class Tokenizer;
namespace text {
struct StreamEvent;
}
}  // namespace qwen3

namespace qwen3::engine {

class ReplyAssembler {
 public:
  // starts_in_reasoning: the prompt already opened <think> (Qwen3-2507 Thinking).
  // xml_tool_calls: the model writes Qwen3-Coder's XML tool calls, typed by tools_json.
  ReplyAssembler(const Tokenizer& tok, bool starts_in_reasoning, std::vector<std::string> stops,
                 StreamerBase* streamer, bool xml_tool_calls = false,
                 const std::string& tools_json = "");
  ~ReplyAssembler();

  // Feeds one sampled id. Returns false when generation must stop: a stop string
  // completed or the streamer returned kStop.
  bool push(std::int32_t id);
  // End of generation: flushes held-back text and unfinished markup.
  void finish();

  const std::string& content() const { return content_; }
  const std::string& reasoning() const { return reasoning_; }
  const std::vector<ToolCall>& tool_calls() const { return tool_calls_; }
  bool stop_string_hit() const { return stop_hit_; }
  bool cancelled() const { return cancelled_; }

 private:
  struct Impl;
  // Accumulates events and forwards them to the streamer; false to stop generating.
  bool deliver(const std::vector<text::StreamEvent>& events);
  std::unique_ptr<Impl> impl_;
  std::string content_, reasoning_;
  std::vector<ToolCall> tool_calls_;
  bool stop_hit_ = false;
  bool cancelled_ = false;
};

}  // namespace qwen3::engine
