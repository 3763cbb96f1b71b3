// The token loop of one reply on a token-level backend: reuse the cached prefix, prefill
// the rest of the prompt, then sample and decode one token at a time until an end token,
// the length limit, a full context or the callback says stop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/backend.h"
#include "engine/sampler.h"

namespace qwen3::engine {

enum class StopCause { kEndToken, kLength, kContextFull, kCallback };

// What the per-token callback wants next.
enum class TokenAction { kContinue, kStop };

struct GenerationTimings {
  std::size_t prompt_tokens = 0;  // whole prompt
  std::size_t cached_tokens = 0;  // reused from the KV cache (not prefilled)
  std::size_t generated_tokens = 0;
  double prefill_ms = 0;                   // evaluating the uncached prompt tokens
  double ttft_ms = 0;                      // run() start -> first token sampled
  std::vector<double> token_intervals_ms;  // between successive sampled tokens
  double total_ms = 0;
};

struct GenerationOutcome {
  StopCause cause = StopCause::kEndToken;
  std::vector<std::int32_t> tokens;  // sampled ids, including an end token that stopped it
  GenerationTimings timings;
};

// Decode-time control of the next token (constrained decoding, reasoning budgets): a
// forced token skips sampling, else the mask limits what may be drawn; every chosen
// token is reported back.
class TokenControl {
 public:
  virtual ~TokenControl() = default;
  virtual std::optional<std::int32_t> forced() = 0;
  virtual const std::vector<std::uint64_t>* mask() = 0;  // nullptr = any token
  virtual void accept(std::int32_t id) = 0;
};

struct GeneratorOptions {
  std::size_t max_new_tokens = 1024;
  bool ignore_eos = false;
  std::vector<std::int32_t> end_tokens;  // e.g. <|im_end|>, <|endoftext|>
  TokenControl* control = nullptr;
};

class Generator {
 public:
  explicit Generator(TokenBackend& backend) : backend_(backend) {}

  // Prompt tokens are fed to the sampler's penalty history. on_token sees every sampled
  // id (end tokens included) and may stop the loop.
  GenerationOutcome run(const std::vector<std::int32_t>& prompt, Sampler& sampler,
                        const GeneratorOptions& opts,
                        const std::function<TokenAction(std::int32_t)>& on_token);

  // Tokens whose keys/values the backend holds, in order.
  const std::vector<std::int32_t>& cached() const { return cached_; }
  // Forget the cache (after an error left it in an unknown state).
  void reset();

 private:
  // Makes the cache hold exactly `prompt` and returns the last token's logits.
  const float* prefill(const std::vector<std::int32_t>& prompt, GenerationTimings& t);

  TokenBackend& backend_;
  std::vector<std::int32_t> cached_;
};

// Length of the common prefix of a and b.
std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b);

}  // namespace qwen3::engine
