// A test-only token backend that "generates" a fixed token sequence, so the server and
// the stream parser can be tested end to end with real reasoning / tool-call output that a
// random-weight model never produces.
//
// Options (Pipeline properties):
//   "backend"          "replay"
//   "replay_file"      a text file with the raw reply, special tokens written as text, e.g.
//                      "<think>\nhm\n</think>\n\nHi!<|im_end|>" (tokenized with specials)
//   "replay_text"      the same, inline (wins over replay_file)
//   "replay_delay_ms"  sleep per eval() call, to make generations take time in tests
// The model path is a tokenizer (tokenizer.json, a folder holding one, or a GGUF).
//
// Every reply replays the sequence from its start: eval() of a prompt (anything but the
// token the replay expects next) rewinds it. After the sequence it keeps asking for
// <|im_end|>. Logits: +30 for the wanted token, -30 for all others, so every sampler
// setting picks it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qwen3::engine {

// Registers the factory under the name "replay" (idempotent). Static libraries drop
// self-registering objects nobody references, so callers register explicitly.
void register_replay_backend();

// The ids a replay of `text` produces with the tokenizer at `tokenizer_path`.
std::vector<std::int32_t> replay_tokens(const std::string& tokenizer_path, const std::string& text);

}  // namespace qwen3::engine
