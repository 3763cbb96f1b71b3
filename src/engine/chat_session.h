// The state of a stateful conversation (Pipeline::start_chat .. finish_chat): the history
// the next turn extends, and the metrics of the session.
#pragma once

#include <string>

#include "qwen3/chat.h"
#include "qwen3/pipeline.h"

namespace qwen3::engine {

class ChatSession {
 public:
  void start(const std::string& system_message);
  void finish();
  bool active() const { return active_; }
  const ChatHistory& history() const { return history_; }

  // The history with `user_text` appended (the session itself is unchanged until
  // record_reply, so a failed or cancelled turn leaves no trace).
  ChatHistory with_user(const std::string& user_text) const;
  // Appends the user message and the assistant reply (content, reasoning, tool calls).
  void record_turn(const std::string& user_text, const DecodedResult& reply);

 private:
  bool active_ = false;
  ChatHistory history_;
};

}  // namespace qwen3::engine
