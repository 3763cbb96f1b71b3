#include "engine/chat_session.h"

namespace qwen3::engine {

void ChatSession::start(const std::string& system_message) {
  history_ = ChatHistory{};
  if (!system_message.empty()) history_.push_back(ChatMessage::system(system_message));
  active_ = true;
}

void ChatSession::finish() {
  history_ = ChatHistory{};
  active_ = false;
}

ChatHistory ChatSession::with_user(const std::string& user_text) const {
  ChatHistory h = history_;
  h.push_back(ChatMessage::user(user_text));
  return h;
}

void ChatSession::record_turn(const std::string& user_text, const DecodedResult& reply) {
  history_.push_back(ChatMessage::user(user_text));
  ChatMessage a = ChatMessage::assistant(reply.text, reply.reasoning);
  a.tool_calls = reply.tool_calls;
  history_.push_back(std::move(a));
}

}  // namespace qwen3::engine
