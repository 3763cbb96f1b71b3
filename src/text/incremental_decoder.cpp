// Streaming detokenization: bytes of an unfinished UTF-8 sequence wait for the next
// token, so every piece handed out is whole UTF-8 and the concatenation equals
// Tokenizer::decode() of all ids (both replace invalid bytes the same WHATWG way).
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace qwen3 {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tok, bool skip_special)
    : tok_(&tok), skip_special_(skip_special) {}

std::string IncrementalDecoder::push(int32_t id) {
  if (skip_special_ && tok_->is_control(id)) return "";
  pending_ += tok_->token_bytes(id);
  const size_t ready = utf8::complete_prefix_length(pending_);
  std::string out = utf8::sanitize(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace qwen3
