// Training data of `qwen3 finetune`: JSONL, one conversation per line in the OpenAI chat
// format ({"messages": [{"role", "content"}, ...], optional "tools"}), rendered through
// the model's own chat template (thinking off by default: what `qwen3 run/chat/serve`
// send at inference) and tokenized as the engine tokenizes prompts. The loss covers
// exactly the tokens the assistant's turns produce: for each assistant message, the text
// after the generation prompt the engine would send before it, up to and including the
// end-of-turn token <|im_end|>. Each span is tokenized on its own, so the trained tokens
// are the ones the model generates after that prompt.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "text/chat_message.h"
#include "train/lora_train_step.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::train {

struct ChatDataOptions {
  bool enable_thinking = false;
  int max_len = 512;  // longer conversations are cut (their tail dropped)
};

// One conversation -> ids and target marks. Throws std::invalid_argument if it has no
// assistant message, or the template does not render it as a prefix-stable sequence.
TrainSequence tokenize_chat(const std::vector<text::ChatMessage>& messages,
                            const nlohmann::ordered_json& tools, const Tokenizer& tok,
                            const ChatDataOptions& opts);

struct ChatDataset {
  std::vector<TrainSequence> sequences;
  int n_skipped = 0;  // conversations with no trained token left after max_len
  int64_t n_tokens = 0, n_target_tokens = 0;
};

// Throws std::runtime_error naming the file and line for unreadable files and bad lines.
ChatDataset load_chat_jsonl(const std::string& path, const Tokenizer& tok,
                            const ChatDataOptions& opts);
// The same from a stream (fuzz/train_chat_jsonl_fuzz.cpp); `name` stands for the file in
// the errors.
ChatDataset parse_chat_jsonl(std::istream& in, const std::string& name, const Tokenizer& tok,
                             const ChatDataOptions& opts);

}  // namespace qwen3::train
