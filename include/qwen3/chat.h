// Chat messages and histories as the Qwen3 chat template sees them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace qwen3 {

// A function call made by the assistant.
struct ToolCall {
  std::string id;         // e.g. "call_0"; assigned by the engine when the model made it
  std::string name;       // function name
  std::string arguments;  // JSON object text, e.g. {"city": "Paris"}
};

// An image in a user message, for Qwen3-VL models served with their vision encoder
// (the Pipeline property "mmproj"): the encoded file (PNG, JPEG or WebP bytes, never a
// path or URL), standing at byte `offset` of the message's content (0 = before the text,
// content.size() = after it; images at the same offset keep their order).
struct ChatImage {
  std::string bytes;
  std::size_t offset = 0;
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" or "tool"
  std::string content;
  std::string reasoning_content;     // assistant only; the template drops it from earlier turns
  std::vector<ToolCall> tool_calls;  // assistant only
  std::string tool_call_id;          // tool only: the call this result answers
  std::string name;                  // optional author / tool name
  std::vector<ChatImage> images;     // user only: images within the content

  static ChatMessage system(std::string text) {
    return {"system", std::move(text), {}, {}, {}, {}, {}};
  }
  static ChatMessage user(std::string text) {
    return {"user", std::move(text), {}, {}, {}, {}, {}};
  }
  static ChatMessage assistant(std::string text, std::string reasoning = {}) {
    return {"assistant", std::move(text), std::move(reasoning), {}, {}, {}, {}};
  }
  static ChatMessage tool(std::string result, std::string call_id = {}) {
    return {"tool", std::move(result), {}, {}, std::move(call_id), {}, {}};
  }
};

// A conversation plus what the template needs besides the messages.
struct ChatHistory {
  std::vector<ChatMessage> messages;
  // JSON array of tool definitions in OpenAI form ([{"type":"function","function":{...}}]);
  // empty = no tools.
  std::string tools_json;
  // JSON object of extra template variables (e.g. {"enable_thinking": false}); empty = none.
  // GenerationConfig::enable_thinking, when set, wins over a value here.
  std::string extra_context_json;

  void push_back(ChatMessage m) { messages.push_back(std::move(m)); }
  std::size_t size() const { return messages.size(); }
  bool empty() const { return messages.empty(); }
};

}  // namespace qwen3
