// Receives a reply while it is generated; any callback can stop the generation.
#pragma once

#include <cstdint>
#include <string_view>

#include "qwen3/chat.h"

namespace qwen3 {

enum class StreamingStatus { kContinue, kStop };

enum class FinishReason {
  kStop,       // end-of-turn token or a stop string
  kLength,     // max_new_tokens or the context is full
  kToolCalls,  // the turn ended after one or more tool calls
  kCancelled,  // a streamer callback returned kStop
};

// "stop", "length", "tool_calls", "cancelled" (the OpenAI spellings).
const char* to_string(FinishReason r);

// Callbacks arrive in generation order on the thread that called generate(). Deltas are
// whole UTF-8 characters; special tokens and the <think>/<tool_call> markup are removed.
class StreamerBase {
 public:
  virtual ~StreamerBase() = default;
  // Every sampled token id, before any text it produces (for counting / raw streaming).
  virtual StreamingStatus on_token(std::int32_t /*id*/) { return StreamingStatus::kContinue; }
  // Text inside <think>...</think>.
  virtual StreamingStatus on_reasoning(std::string_view /*delta*/) {
    return StreamingStatus::kContinue;
  }
  // The visible answer.
  virtual StreamingStatus on_content(std::string_view /*delta*/) {
    return StreamingStatus::kContinue;
  }
  // A tool call being written, as OpenAI streams one: first its id and name (`call` has
  // empty arguments), then its JSON argument text in pieces as they are generated.
  virtual StreamingStatus on_tool_call_begin(int /*index*/, const ToolCall& /*call*/) {
    return StreamingStatus::kContinue;
  }
  virtual StreamingStatus on_tool_call_arguments(int /*index*/, std::string_view /*delta*/) {
    return StreamingStatus::kContinue;
  }
  // A complete <tool_call> block, parsed; `index` counts the calls of this reply from 0.
  // Its arguments are the pieces on_tool_call_arguments gave, joined.
  virtual StreamingStatus on_tool_call(int /*index*/, const ToolCall& /*call*/) {
    return StreamingStatus::kContinue;
  }
  // Called once when generation ends (by any cause but an exception from generate()).
  virtual void on_end(FinishReason /*reason*/) {}
};

}  // namespace qwen3
