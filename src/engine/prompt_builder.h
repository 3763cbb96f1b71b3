// Chat history -> prompt token ids that fit the context: renders the template, tokenizes,
// and drops the oldest whole turns (a user message and the replies / tool results after
// it; the system message stays) until a minimum reply length fits too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/chat.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::engine {

struct BuiltPrompt {
  std::string text;
  std::vector<std::int32_t> ids;
  std::size_t dropped_turns = 0;
  bool starts_in_reasoning = false;  // the template opened <think> itself (2507 Thinking)
  double template_ms = 0;
  double tokenize_ms = 0;
};

struct PromptBudget {
  std::size_t n_ctx = 0;
  std::size_t reply_reserve = 0;  // tokens kept free for the reply
};

// Index ranges [begin, end) of the droppable turns, oldest first; the last turn (from the
// last user message) is not listed. A leading system message belongs to no turn.
std::vector<std::pair<std::size_t, std::size_t>> droppable_turns(
    const std::vector<ChatMessage>& messages);

// Throws std::length_error when even the system message + the last turn + the reserve do
// not fit, std::invalid_argument for histories the template rejects.
BuiltPrompt build_chat_prompt(const ChatHistory& history, std::optional<bool> enable_thinking,
                              const Tokenizer& tok, const PromptBudget& budget);

// A prompt used as is (no template); special-token text becomes special tokens.
BuiltPrompt build_raw_prompt(const std::string& prompt, const Tokenizer& tok,
                             const PromptBudget& budget);

}  // namespace qwen3::engine
