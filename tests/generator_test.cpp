// Generator: prefix reuse, rollback, stop causes and errors, on a hash-chain backend
// whose logits depend on the whole cache (so a cache mistake changes the output).
#include "engine/reply_generator.h"

#include <gtest/gtest.h>

#include <random>

#include "engine_test_backend.h"

namespace qwen3::engine {
namespace {

using testing::HashChainBackend;

SamplerParams greedy() {
  return SamplerParams{};
}

SamplerParams sampled(uint64_t seed) {
  SamplerParams p;
  p.temperature = 0.8f;
  p.top_k = 20;
  p.top_p = 0.9f;
  p.presence_penalty = 0.5f;
  p.seed = seed;
  return p;
}

GenerationOutcome generate(Generator& g, const std::vector<int32_t>& prompt,
                           const SamplerParams& sp, size_t max_new, std::vector<int32_t> end = {}) {
  Sampler s(sp);
  GeneratorOptions o;
  o.max_new_tokens = max_new;
  o.end_tokens = std::move(end);
  return g.run(prompt, s, o, [](int32_t) { return TokenAction::kContinue; });
}

std::vector<int32_t> random_ids(std::mt19937_64& rng, size_t n, int vocab) {
  std::vector<int32_t> v(n);
  for (auto& x : v) x = static_cast<int32_t>(rng() % vocab);
  return v;
}

TEST(Generator, WarmTurnsMatchColdStartsAndPrefillOnlyNewTokens) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    HashChainBackend warm_b(500, 4096);
    Generator warm(warm_b);
    std::vector<int32_t> conversation = random_ids(rng, 1 + rng() % 40, 500);
    for (int turn = 0; turn < 4; ++turn) {
      const auto sp = (turn % 2) ? greedy() : sampled(trial * 10 + turn);
      const size_t before = warm_b.evaluated();
      const auto cached_before = warm.cached();
      auto w = generate(warm, conversation, sp, 1 + rng() % 12);
      HashChainBackend cold_b(500, 4096);
      Generator cold(cold_b);
      auto c = generate(cold, conversation, sp, w.tokens.size());
      ASSERT_EQ(w.tokens, c.tokens) << "trial " << trial << " turn " << turn;
      const size_t lcp = common_prefix(cached_before, conversation);
      const size_t expect_cached = std::min(lcp, conversation.size() - 1);
      EXPECT_EQ(w.timings.cached_tokens, expect_cached);
      EXPECT_EQ(w.timings.prompt_tokens, conversation.size());
      // Prefill = the uncached prompt tokens; decode = one per sampled token but the last.
      EXPECT_EQ(warm_b.evaluated() - before,
                conversation.size() - expect_cached + w.tokens.size() - 1);
      // Next turn: keep the reply, sometimes rewrite the tail (as the template does when it
      // drops reasoning), then add a new message.
      conversation.insert(conversation.end(), w.tokens.begin(), w.tokens.end());
      if (rng() % 2)
        conversation.resize(conversation.size() - rng() % (conversation.size() / 2 + 1));
      if (conversation.empty() || rng() % 2) {
        auto more = random_ids(rng, 1 + rng() % 10, 500);
        conversation.insert(conversation.end(), more.begin(), more.end());
      }
    }
  }
}

TEST(Generator, SamePromptAgainReevaluatesOnlyTheLastToken) {
  HashChainBackend b(100, 256);
  Generator g(b);
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  generate(g, prompt, greedy(), 1);
  const size_t before = b.evaluated();
  auto r = generate(g, prompt, greedy(), 1);
  EXPECT_EQ(r.timings.cached_tokens, 4u);
  EXPECT_EQ(b.evaluated() - before, 1u);
}

TEST(Generator, WithoutKvReuseEveryTurnPrefillsEverything) {
  HashChainBackend b(100, 256, Tokenizer(), /*kv_reuse=*/false);
  Generator g(b);
  generate(g, {1, 2, 3}, greedy(), 2);
  auto r = generate(g, {1, 2, 3, 9}, greedy(), 1);
  EXPECT_EQ(r.timings.cached_tokens, 0u);
}

TEST(Generator, StopCauses) {
  HashChainBackend b(50, 64);
  Generator g(b);
  auto len = generate(g, {1, 2}, sampled(1), 7);
  EXPECT_EQ(len.cause, StopCause::kLength);
  EXPECT_EQ(len.tokens.size(), 7u);

  // Every token is an end token: stops after the first.
  std::vector<int32_t> all(50);
  for (int i = 0; i < 50; ++i) all[i] = i;
  auto end = generate(g, {1, 2}, sampled(2), 100, all);
  EXPECT_EQ(end.cause, StopCause::kEndToken);
  EXPECT_EQ(end.tokens.size(), 1u);

  // ignore_eos keeps going.
  Sampler s(sampled(3));
  GeneratorOptions o;
  o.max_new_tokens = 5;
  o.end_tokens = all;
  o.ignore_eos = true;
  auto ign = g.run({1, 2}, s, o, [](int32_t) { return TokenAction::kContinue; });
  EXPECT_EQ(ign.cause, StopCause::kLength);
  EXPECT_EQ(ign.tokens.size(), 5u);

  // The callback cancels after 3 tokens.
  int seen = 0;
  Sampler s2(sampled(4));
  GeneratorOptions o2;
  o2.max_new_tokens = 100;
  auto cancel = g.run({1, 2}, s2, o2, [&](int32_t) {
    return ++seen == 3 ? TokenAction::kStop : TokenAction::kContinue;
  });
  EXPECT_EQ(cancel.cause, StopCause::kCallback);
  EXPECT_EQ(cancel.tokens.size(), 3u);

  // The context (64) fills up: prompt 60 + at most 5 sampled (4 of them evaluated).
  std::vector<int32_t> long_prompt(60, 7);
  auto full = generate(g, long_prompt, sampled(5), 100);
  EXPECT_EQ(full.cause, StopCause::kContextFull);
  EXPECT_EQ(full.tokens.size(), 5u);
  EXPECT_EQ(b.n_past(), 64);
}

TEST(Generator, BadPromptsAreClearErrors) {
  HashChainBackend b(50, 16);
  Generator g(b);
  EXPECT_THROW(generate(g, {}, greedy(), 4), std::invalid_argument);
  EXPECT_THROW(generate(g, std::vector<int32_t>(17, 1), greedy(), 4), std::length_error);
  EXPECT_THROW(generate(g, {1, 999}, greedy(), 4), std::invalid_argument);  // id >= vocab
  // The generator is still usable and consistent afterwards.
  auto ok = generate(g, {1, 2, 3}, greedy(), 3);
  EXPECT_EQ(ok.tokens.size(), 3u);
  EXPECT_EQ(std::vector<int32_t>(b.ids().begin(), b.ids().begin() + 3),
            (std::vector<int32_t>{1, 2, 3}));
}

TEST(Generator, PenaltiesSeeThePrompt) {
  // With a huge presence penalty and greedy decoding, no prompt token is ever repeated.
  HashChainBackend b(30, 256);
  Generator g(b);
  SamplerParams p;
  p.presence_penalty = 2.0f;
  p.repetition_penalty = 100.0f;
  p.penalty_last_n = -1;
  const std::vector<int32_t> prompt = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto r = generate(g, prompt, p, 15);
  std::vector<bool> seen(30, false);
  for (auto id : prompt) seen[id] = true;
  for (auto id : r.tokens) {
    EXPECT_FALSE(seen[id]) << id;
    seen[id] = true;
  }
}

}  // namespace
}  // namespace qwen3::engine
