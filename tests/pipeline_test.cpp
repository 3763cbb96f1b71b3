// Pipeline end to end on a hash-chain backend (logits = hash of the whole cache, real
// Qwen3 tokenizer and template): chat-turn KV reuse vs cold starts, context budget,
// thinking switches, cancellation, errors.
#include "qwen3/pipeline.h"

#include <gtest/gtest.h>

#include "engine/backend.h"
#include "engine_test_backend.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

using engine::testing::HashChainBackend;

const Tokenizer& tokenizer() {
  return test::qwen3_tokenizer();
}

// The last backend the factory made, so tests can look inside.
HashChainBackend* g_last = nullptr;

void register_hash_backend() {
  engine::register_backend("hash", [](const engine::BackendOptions& o) {
    auto b = std::make_unique<HashChainBackend>(tokenizer().n_vocab(), o.n_ctx ? o.n_ctx : 4096,
                                                tokenizer());
    g_last = b.get();
    return std::unique_ptr<engine::Backend>(std::move(b));
  });
}

Pipeline make(int n_ctx = 4096) {
  register_hash_backend();
  return Pipeline("unused", "CPU", {{"backend", "hash"}, {"n_ctx", std::to_string(n_ctx)}});
}

GenerationConfig cfg(size_t n, uint64_t seed = 1) {
  GenerationConfig c;
  c.max_new_tokens = n;
  c.seed = seed;
  c.min_reply_tokens = n;
  return c;
}

class Recorder : public StreamerBase {
 public:
  int stop_after = -1;
  std::string content, reasoning;
  int tokens = 0, ends = 0;
  FinishReason reason{};
  StreamingStatus on_token(int32_t) override {
    return ++tokens == stop_after ? StreamingStatus::kStop : StreamingStatus::kContinue;
  }
  StreamingStatus on_content(std::string_view d) override {
    content += d;
    return StreamingStatus::kContinue;
  }
  StreamingStatus on_reasoning(std::string_view d) override {
    reasoning += d;
    return StreamingStatus::kContinue;
  }
  void on_end(FinishReason r) override {
    reason = r;
    ++ends;
  }
};

TEST(Pipeline, ChatTurnTwoPrefillsOnlyNewTokensAndMatchesAColdStart) {
  Pipeline warm = make();
  warm.start_chat("You are terse.");
  auto r1 = warm.generate("Hello there", cfg(12, 5));
  HashChainBackend* wb = g_last;
  EXPECT_EQ(r1.cached_tokens, 0u);
  const size_t before = wb->evaluated();
  auto r2 = warm.generate("And now?", cfg(12, 6));

  // The prompt of turn 2 is the template over the recorded history + the new message.
  ChatHistory h;
  h.push_back(ChatMessage::system("You are terse."));
  h.push_back(ChatMessage::user("Hello there"));
  ChatMessage a = ChatMessage::assistant(r1.text, r1.reasoning);
  a.tool_calls = r1.tool_calls;
  h.push_back(a);
  h.push_back(ChatMessage::user("And now?"));
  const auto prompt2 = tokenizer().encode(warm.apply_chat_template(h));
  EXPECT_EQ(r2.prompt_tokens, prompt2.size());
  EXPECT_GT(r2.cached_tokens, 0u);
  // Exactly the tokens after the cached prefix were prefilled (+ one per decoded token).
  EXPECT_EQ(wb->evaluated() - before, prompt2.size() - r2.cached_tokens + r2.tokens.size() - 1);
  EXPECT_EQ(std::vector<int32_t>(wb->ids().begin(), wb->ids().begin() + prompt2.size()), prompt2);

  // A fresh pipeline given the same history from cold produces the same reply.
  Pipeline cold = make();
  auto c2 = cold.generate(h, cfg(12, 6));
  EXPECT_EQ(c2.cached_tokens, 0u);
  EXPECT_EQ(c2.tokens, r2.tokens);
  EXPECT_EQ(c2.text, r2.text);
  EXPECT_EQ(r2.perf_metrics.num_cached_tokens, r2.cached_tokens);
  EXPECT_EQ(warm.session_metrics().raw.generate_ms.size(), 2u);
}

TEST(Pipeline, StatelessHistoriesReuseTheLongestCommonPrefix) {
  Pipeline p = make();
  ChatHistory h;
  h.push_back(ChatMessage::system("sys"));
  h.push_back(ChatMessage::user("one two three four five six seven"));
  auto r1 = p.generate(h, cfg(4));
  // A different last message: the cache is rolled back to the divergence point.
  ChatHistory h2;
  h2.push_back(ChatMessage::system("sys"));
  h2.push_back(ChatMessage::user("one two three"));
  auto r2 = p.generate(h2, cfg(4));
  const auto a = tokenizer().encode(p.apply_chat_template(h));
  const auto b = tokenizer().encode(p.apply_chat_template(h2));
  size_t lcp = 0;
  while (lcp < a.size() && lcp < b.size() && a[lcp] == b[lcp]) ++lcp;
  EXPECT_EQ(r2.cached_tokens, lcp);
  Pipeline cold = make();
  EXPECT_EQ(cold.generate(h2, cfg(4)).tokens, r2.tokens);
}

TEST(Pipeline, DropsOldestTurnsToFitAndKeepsTheSystemMessage) {
  Pipeline p = make(/*n_ctx=*/160);
  ChatHistory h;
  h.push_back(ChatMessage::system("SYSTEM-MARK"));
  for (int i = 0; i < 8; ++i) {
    h.push_back(ChatMessage::user("question number " + std::to_string(i) + " about cats"));
    h.push_back(ChatMessage::assistant("answer number " + std::to_string(i) + " about dogs"));
  }
  h.push_back(ChatMessage::user("LAST-QUESTION"));
  auto r = p.generate(h, cfg(16));
  EXPECT_GT(r.dropped_turns, 0u);
  EXPECT_LE(r.prompt_tokens + 16, 160u);
  const std::string prompt = tokenizer().decode(
      std::vector<int32_t>(g_last->ids().begin(), g_last->ids().begin() + r.prompt_tokens));
  EXPECT_NE(prompt.find("SYSTEM-MARK"), std::string::npos);
  EXPECT_NE(prompt.find("LAST-QUESTION"), std::string::npos);
  EXPECT_EQ(prompt.find("question number 0 "), std::string::npos);
  // The turns kept are the newest ones, whole.
  const std::string kept_q = "question number " + std::to_string(8 - (8 - r.dropped_turns)) + " ";
  EXPECT_NE(prompt.find(kept_q), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("question number " + std::to_string(r.dropped_turns - 1) + " "),
            std::string::npos);
}

TEST(Pipeline, AMessageThatAloneDoesNotFitIsAClearError) {
  Pipeline p = make(/*n_ctx=*/64);
  std::string big;
  for (int i = 0; i < 100; ++i) big += "word ";
  try {
    p.generate(big, cfg(8));
    FAIL() << "expected an error";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  // Raw prompts too.
  GenerationConfig raw = cfg(8);
  raw.apply_chat_template = false;
  EXPECT_THROW(p.generate(big, raw), std::length_error);
}

TEST(Pipeline, ThinkingSwitchAndSlashCommandsPassThrough) {
  Pipeline p = make();
  GenerationConfig off = cfg(3);
  off.enable_thinking = false;
  auto r = p.generate("hi /no_think", off);
  const std::string prompt = tokenizer().decode(
      std::vector<int32_t>(g_last->ids().begin(), g_last->ids().begin() + r.prompt_tokens));
  EXPECT_NE(prompt.find("hi /no_think<|im_end|>"), std::string::npos);
  EXPECT_NE(prompt.find("<think>\n\n</think>\n\n"), std::string::npos);
  auto r2 = p.generate("hi /think", cfg(3));
  const std::string prompt2 = tokenizer().decode(
      std::vector<int32_t>(g_last->ids().begin(), g_last->ids().begin() + r2.prompt_tokens));
  EXPECT_EQ(prompt2.find("</think>"), std::string::npos);
  EXPECT_NE(prompt2.find("hi /think<|im_end|>"), std::string::npos);
}

TEST(Pipeline, StreamerCancelsAndLengthLimits) {
  Pipeline p = make();
  Recorder rec;
  rec.stop_after = 4;
  auto r = p.generate("tell me", cfg(50), &rec);
  EXPECT_EQ(r.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(r.tokens.size(), 4u);
  EXPECT_EQ(rec.ends, 1);
  EXPECT_EQ(rec.reason, FinishReason::kCancelled);

  Recorder all;
  auto r2 = p.generate("tell me", cfg(9), &all);
  EXPECT_EQ(r2.finish_reason, FinishReason::kLength);
  EXPECT_EQ(r2.tokens.size(), 9u);
  EXPECT_EQ(all.content, r2.text);
  EXPECT_EQ(all.reasoning, r2.reasoning);
  EXPECT_EQ(r2.perf_metrics.num_generated_tokens, 9u);
  EXPECT_EQ(r2.perf_metrics.raw.token_intervals_ms.size(), 8u);
  EXPECT_GT(r2.perf_metrics.ttft_ms.mean, 0.0);
}

TEST(Pipeline, SameSeedSameReplyAcrossPipelines) {
  Pipeline a = make(), b = make();
  EXPECT_EQ(a.generate("x", cfg(10, 77)).tokens, b.generate("x", cfg(10, 77)).tokens);
}

TEST(Pipeline, BadConstructionAndConfigAreClearErrors) {
  register_hash_backend();
  EXPECT_THROW(Pipeline("m", "TPU", {{"backend", "hash"}}), std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "CPU", {{"backend", "nope"}}), std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "CPU", {{"backend", "hash"}, {"n_ctx", "-5"}}), std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "CPU", {{"backend", "hash"}, {"n_ctx", "12x"}}),
               std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "CPU", {{"backend", "hash"}, {"kv_type", "q4"}}),
               std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "CPU", {{"bogus", "1"}}), std::invalid_argument);
  EXPECT_THROW(Pipeline("m", "NPU", {}), std::invalid_argument);
  EXPECT_THROW(Pipeline("/nonexistent/model.gguf", "CPU", {}), std::exception);
  Pipeline p = make();
  GenerationConfig bad;
  bad.top_p = 2.0f;
  EXPECT_THROW(p.generate("hi", bad), std::invalid_argument);
  ChatHistory empty;
  EXPECT_THROW(p.generate(empty, cfg(3)), std::invalid_argument);
  ChatHistory wrong;
  wrong.push_back(ChatMessage{"robot", "hi", {}, {}, {}, {}});
  EXPECT_THROW(p.generate(wrong, cfg(3)), std::invalid_argument);
}

TEST(Pipeline, ChatSessionRecordsTurnsAndResets) {
  Pipeline p = make();
  p.start_chat("sys");
  EXPECT_TRUE(p.in_chat());
  auto r = p.generate("hi", cfg(5));
  ASSERT_EQ(p.history().size(), 3u);
  EXPECT_EQ(p.history().messages[1].content, "hi");
  EXPECT_EQ(p.history().messages[2].content, r.text);
  EXPECT_EQ(p.history().messages[2].reasoning_content, r.reasoning);
  p.finish_chat();
  EXPECT_FALSE(p.in_chat());
  EXPECT_TRUE(p.history().empty());
}

}  // namespace
}  // namespace qwen3
