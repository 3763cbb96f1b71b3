// Picks the next token from logits: penalties, temperature, top-k, top-p, min-p, then a
// seeded draw (or argmax when greedy).
//
// Order (as Hugging Face / vLLM, which the Qwen3 model-card values were tuned for):
//   0. logit_bias added to the logits it names (OpenAI semantics, as llama.cpp: before
//      penalties),
//   1. penalties (llama.cpp semantics) on the last `penalty_last_n` accepted tokens:
//      a token seen c > 0 times: l = (l > 0 ? l / repetition : l * repetition)
//                                    - c * frequency - presence
//   2. greedy (temperature 0 or top_k 1): argmax, lowest id on ties; else
//   3. l / temperature, keep the top_k largest (0 = all), softmax,
//   4. top_p: keep the smallest most-probable prefix whose mass reaches top_p,
//   5. min_p: keep tokens with p >= min_p * p_max, renormalize, draw.
// The draw uses std::mt19937_64 with a 53-bit uniform computed by hand, so a seed gives the
// same tokens on every platform.
//
// No heap allocation per token: the penalty window is a ring buffer and its token counts
// a flat list, both sized for penalty_last_n at construction; the candidate and
// probability buffers keep their capacity from one sample() to the next. (Only
// penalty_last_n = -1, an unbounded window, grows, amortized.)
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "qwen3/generation_config.h"

namespace qwen3::engine {

// The resolved sampling numbers (qwen3/sampling.h) plus the bias this sampler adds.
struct SamplerParams : SamplingValues {
  std::vector<std::pair<std::int32_t, float>> logit_bias;  // token id -> added to its logit

  // From a resolved config (every sampling optional set); an unset seed draws one from
  // std::random_device.
  static SamplerParams from(const GenerationConfig& resolved);
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);

  // Records a token of the prompt or the reply for the penalties.
  void accept(std::int32_t id);
  void accept(const std::vector<std::int32_t>& ids);
  void clear_history();

  std::int32_t sample(const float* logits, int n_vocab);

  // Constrained decoding: while set, only tokens whose bit is set (bit i of word i/64) can
  // be drawn; applied after bias and penalties, before temperature / top-k / top-p / min-p
  // (the kept mass renormalizes over the allowed tokens). nullptr = every token.
  void set_mask(const std::vector<std::uint64_t>* mask) { mask_ = mask; }

  // The final distribution sample() draws from (ids with probability > 0, sorted by
  // descending probability; greedy: the argmax with 1). For tests.
  std::vector<std::pair<std::int32_t, float>> distribution(const float* logits, int n_vocab);
  // The logits after penalties only (for tests).
  std::vector<float> penalized(const float* logits, int n_vocab) const;

  const SamplerParams& params() const { return p_; }

 private:
  bool penalties_on() const;
  float penalize(float logit, int count) const;
  void build(const float* logits, int n_vocab);  // fills cand_ with the final distribution

  SamplerParams p_;
  std::mt19937_64 rng_;
  // The penalty window: the last accepted tokens in a ring (oldest at head_), and each
  // distinct token of it with its count (order irrelevant; removal swaps with the last).
  std::vector<std::int32_t> ring_;
  std::size_t head_ = 0, filled_ = 0;
  std::vector<std::pair<std::int32_t, int>> counts_;
  std::vector<std::pair<std::int32_t, float>> cand_;  // reused buffers
  std::vector<double> prob_;
  std::vector<float> scratch_;
  const std::vector<std::uint64_t>* mask_ = nullptr;
};

}  // namespace qwen3::engine
