// Chat history -> prompt token ids that fit the context: renders the model's own chat
// template (text::ChatTemplate: the tokenizer's chat_template, the official Qwen3 one if
// it has none), tokenizes,
// and drops the oldest whole turns (a user message and the replies / tool results after
// it; the system message stays) until a minimum reply length fits too. Only the template
// writes special tokens: special-token text in messages or tools stays plain text, so a
// message cannot close its turn or open a system turn (unless special_in_content).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "text/chat_template.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::engine {

struct BuiltPrompt {
  std::string text;
  std::vector<std::int32_t> ids;
  std::size_t dropped_turns = 0;
  bool starts_in_reasoning = false;  // the template opened <think> itself (2507 Thinking)
  // How this model writes tool calls (its template's family), and the request's tools
  // (JSON text) that type XML argument values.
  text::ToolCallFormat tool_format = text::ToolCallFormat::kJson;
  std::string tools_json;
  // Non-empty when a thinking switch was ignored because the template has none.
  std::string note;
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
// special_in_content = true is the old, unsafe behaviour (the Pipeline property
// "special_in_content"): special-token text anywhere in the rendered prompt, message and
// tool text included, becomes special tokens.
// images: the token-id run of each image of the history (history_images order,
// engine/image_prompt.h); nullptr = a history without images.
BuiltPrompt build_chat_prompt(const ChatHistory& history, std::optional<bool> enable_thinking,
                              const Tokenizer& tok, const PromptBudget& budget,
                              bool special_in_content = false,
                              const std::vector<std::vector<std::int32_t>>* images = nullptr);

// A prompt used as is (no template); special-token text becomes special tokens: whoever
// writes a raw prompt is its template author (qwen3 run --raw, /v1/completions).
BuiltPrompt build_raw_prompt(const std::string& prompt, const Tokenizer& tok,
                             const PromptBudget& budget);

}  // namespace qwen3::engine
