// BatchEngine at the logits level: sequences evaluated from their own threads at the same
// time get exactly the logits InferenceContext gives each alone (prompts longer than a
// step are chunked); a long prompt does not stall a sequence that is decoding (chunked
// prefill); truncate, errors (bad id, context overflow) and cancellation; a full KV pool
// preempts the youngest (or a paused) sequence, which recomputes to the same logits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "batch_test_util.h"
#include "convert/random_model.h"
#include "engine/batch_engine.h"
#include "model/gguf_tensor_source.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "shape_util.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

namespace fs = std::filesystem;

// A small random model whose matrices all take the rows8 layout (rows a multiple of 8, as
// in every real Qwen3 model). The tiny preset's lm_head (151669 rows) stays plain, and the
// plain kernels switch micro-kernels at 4 tokens, so there results depend on the batch in
// the last bits.
std::shared_ptr<const Qwen3Model> tiny_model() {
  static const std::shared_ptr<const Qwen3Model> m = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("qwen3_batch_engine_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string p = (dir / "small.gguf").string();
    GenModelOptions o;
    o.config = Qwen3Config::tiny();
    o.config.name = "batch-engine-test";
    test::set_shape(o.config, {2, 128, 4, 2, 32, 256, 1024, 2048});
    o.type = parse_gen_model_type("q4_0");
    o.seed = 9;
    generate_random_model(o, *test::real_tokenizer(), p);
    return std::shared_ptr<const Qwen3Model>(test::load_model(p));
  }();
  return m;
}

// `max_seqs` sequences of up to `n_ctx` tokens, `max_batch_tokens` a step (the other
// options: their defaults).
BatchEngineOptions options(int max_seqs, int n_ctx,
                           int max_batch_tokens = BatchEngineOptions{}.max_batch_tokens) {
  BatchEngineOptions o;
  o.max_seqs = max_seqs;
  o.n_ctx = n_ctx;
  o.max_batch_tokens = max_batch_tokens;
  return o;
}

// The logits of ids alone: the prompt, then each token after it (batch_test_util.h).
std::vector<std::vector<float>> alone(const std::vector<std::int32_t>& ids, int prompt) {
  return test::logits_alone(tiny_model(), ids, prompt, KvType::F16, 2);
}

TEST(BatchEngine, ConcurrentSequencesGetTheirAloneLogitsBitForBit) {
  // 16 tokens a step: the 40- and 70-token prompts take several steps.
  BatchEngineOptions o = options(4, 512, 16);
  o.n_threads = 2;
  BatchEngine e(tiny_model(), o);
  const int prompts[4] = {3, 40, 70, 17};
  std::vector<std::vector<std::int32_t>> ids;
  for (int s = 0; s < 4; ++s) ids.push_back(test::random_ids(prompts[s] + 12, 1024, 50 + s));
  std::vector<std::vector<std::vector<float>>> got(4);
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s)
    threads.emplace_back([&, s] {
      got[static_cast<std::size_t>(s)] =
          test::logits_on_engine(e, s, ids[static_cast<std::size_t>(s)], prompts[s]);
    });
  for (auto& t : threads) t.join();
  for (int s = 0; s < 4; ++s) {
    const auto want = alone(ids[static_cast<std::size_t>(s)], prompts[s]);
    ASSERT_EQ(got[static_cast<std::size_t>(s)].size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(got[static_cast<std::size_t>(s)][i], want[i]) << "sequence " << s << " step " << i;
  }
  const BatchEngineStats st = e.stats();
  EXPECT_LE(st.max_batch, 16u);
  EXPECT_GT(st.multi_seq_steps, 0u);
  std::uint64_t sum = 0;
  for (auto c : st.seqs_per_step) sum += c;
  EXPECT_EQ(sum, st.steps);
  EXPECT_EQ(st.steps - st.seqs_per_step[0], st.multi_seq_steps);
  // release() gave every block back; the full ones stay cached for prefix reuse.
  EXPECT_EQ(e.n_past(2), 0);
  EXPECT_EQ(st.kv.used, 0);
  EXPECT_GE(st.kv.cached, (3 + 40 + 70 + 17 + 4 * 12) / 16 - 4);
}

TEST(BatchEngine, ALongPromptDoesNotStallADecodingSequence) {
  BatchEngineOptions o = options(2, 1024, 16);
  o.n_threads = 2;
  BatchEngine e(tiny_model(), o);
  const auto a = test::random_ids(1000, 1024, 1);
  const auto b = test::random_ids(600, 1024, 2);
  e.eval(0, a.data(), 4);  // A is decoding
  std::atomic<bool> b_done{false};
  std::atomic<int> a_steps_during_b{0};
  std::thread tb([&] {
    e.eval(1, b.data(), static_cast<int>(b.size()));  // 600 tokens: 40+ steps
    b_done = true;
    e.release(1);
  });
  int t = 4;
  // A decodes one token per eval while B's prompt is in flight.
  while (!b_done && t < 1000) {
    e.eval(0, &a[static_cast<std::size_t>(t++)], 1);
    if (!b_done) ++a_steps_during_b;
  }
  tb.join();
  // Each of B's steps also carried one token of A: about 600 / 15 of them.
  EXPECT_GT(a_steps_during_b.load(), 20);
}

TEST(BatchEngine, TruncateErrorsAndCancel) {
  BatchEngineOptions o = options(1, 64, 8);
  BatchEngine e(tiny_model(), o);
  const auto ids = test::random_ids(64, 1024, 3);
  const std::size_t V = static_cast<std::size_t>(e.n_vocab());
  const float* l = e.eval(0, ids.data(), 20);
  const std::vector<float> first(l, l + V);
  e.truncate(0, 10);
  EXPECT_EQ(e.n_past(0), 10);
  l = e.eval(0, ids.data() + 10, 10);  // the same tokens again: the same logits
  EXPECT_EQ(std::vector<float>(l, l + V), first);
  EXPECT_THROW(e.truncate(0, 21), std::out_of_range);
  const std::int32_t bad[] = {1, e.n_vocab()};
  EXPECT_THROW(e.eval(0, bad, 2), std::invalid_argument);
  EXPECT_THROW(e.eval(0, ids.data(), 45), std::length_error);  // 20 + 45 > 64
  EXPECT_EQ(e.n_past(0), 20);
  std::atomic<bool> cancel{true};
  e.watch_cancel(0, &cancel);
  EXPECT_THROW(e.eval(0, ids.data(), 40), std::runtime_error);
  EXPECT_EQ(e.stats().cancelled, 1u);
  e.watch_cancel(0, nullptr);
  e.truncate(0, 0);
  EXPECT_NO_THROW(e.eval(0, ids.data(), 40));
  EXPECT_EQ(e.n_past(0), 40);
}

TEST(BatchEngine, PrefixHitsGiveTheSameLogitsAsComputingAlone) {
  BatchEngineOptions o = options(2, 256, 16);
  o.n_threads = 2;
  BatchEngine e(tiny_model(), o);
  // Two requests with a common 50-token "system prompt": the second one takes its three
  // whole blocks (48 tokens) from the first, copies the rows of the 2 system-prompt tokens
  // that start the first's fourth block, and computes the rest.
  const auto sys = test::random_ids(50, 1024, 11);
  auto a = sys, b = sys;
  for (auto id : test::random_ids(20, 1024, 12)) a.push_back(id);
  for (auto id : test::random_ids(30, 1024, 13)) b.push_back(id);
  const auto want_a = alone(a, 60), want_b = alone(b, 70);
  EXPECT_EQ(test::logits_on_engine(e, 0, a, 60), want_a);
  EXPECT_EQ(e.stats().prefix_hit_tokens, 0u);
  EXPECT_EQ(test::logits_on_engine(e, 1, b, 70), want_b);
  EXPECT_EQ(e.stats().prefix_hit_tokens, 50u);
  // The same request again, on the other sequence: everything but the last prompt token
  // (4 whole blocks, then 5 rows of the fifth).
  EXPECT_EQ(test::logits_on_engine(e, 0, b, 70), want_b);
  EXPECT_EQ(e.stats().prefix_hit_tokens, 50u + 69u);
  EXPECT_EQ(e.stats().kv.used, 0);
}

TEST(BatchEngine, AFullPoolPreemptsAPausedSequenceWhichThenRecomputes) {
  BatchEngineOptions o = options(2, 64, 8);
  o.kv_size = 48;  // three blocks: also the most one sequence holds
  BatchEngine e(tiny_model(), o);
  EXPECT_EQ(e.n_ctx(), 48);
  const auto ids = test::random_ids(64, 1024, 4);
  EXPECT_THROW(e.eval(0, ids.data(), 49), std::length_error);  // more than the pool
  const std::size_t V = static_cast<std::size_t>(e.n_vocab());
  e.eval(0, ids.data(), 40);  // three blocks held; sequence 0 pauses
  // Sequence 1 finds no block: after a while it takes those of the paused sequence 0...
  const float* l = e.eval(1, ids.data() + 1, 10);
  const std::vector<std::int32_t> ids1(ids.begin() + 1, ids.begin() + 11);
  EXPECT_EQ(std::vector<float>(l, l + V), alone(ids1, 10)[0]);
  EXPECT_EQ(e.stats().preemptions, 1u);
  EXPECT_EQ(e.n_past(0), 40);  // its tokens are kept, its blocks are not
  // ...which, back, takes them again from sequence 1 (now paused and younger), adopts its
  // two full blocks still cached, recomputes the other 8 tokens and gives the logits it
  // would have given without the interruption.
  l = e.eval(0, ids.data() + 40, 1);
  EXPECT_EQ(std::vector<float>(l, l + V), alone(ids, 40)[1]);
  const BatchEngineStats st = e.stats();
  EXPECT_EQ(st.preemptions, 2u);
  EXPECT_EQ(st.recomputed_tokens, 8u);
  EXPECT_EQ(st.prefix_hit_tokens, 0u);  // adopting its own blocks again is no prefix hit
  EXPECT_EQ(st.kv_full, 0u);
  EXPECT_EQ(e.n_past(0), 41);
  EXPECT_EQ(e.n_past(1), 10);
  e.release(0);
  e.release(1);
  EXPECT_EQ(e.stats().kv.used, 0);
  EXPECT_EQ(e.waiting(), 0);
}

TEST(BatchEngine, TheDefaultStepBudgetShrinksToASmallPool) {
  // A pool of 3 blocks (48 positions) cannot hold the default 160-token step plus a
  // block: the budget becomes 32 tokens instead of the constructor failing (prompt chunks
  // of 4/5 of it: 26 + 19 for a 45-token prompt), and a 45-token sequence still gets the
  // logits it gets alone.
  BatchEngineOptions o = options(2, 64);
  o.kv_size = 48;
  ASSERT_GT(o.max_batch_tokens, o.kv_size);
  BatchEngine e(tiny_model(), o);
  const auto ids = test::random_ids(45, 1024, 6);
  EXPECT_EQ(test::logits_on_engine(e, 0, ids, 40), alone(ids, 40));
  EXPECT_EQ(e.stats().max_batch, 26u);
  EXPECT_EQ(e.stats().kv.used, 0);
}

TEST(BatchEngine, APromptIsNotCutToLeaveAShortTail) {
  // A 40-token step: prompt chunks of 32, and a prompt whose remainder then fits in the
  // last 8 tokens goes whole. 38 tokens: one step of 38 (not 32 + 6); 45: 32 + 13.
  const BatchEngineOptions o = options(2, 128, 40);
  for (const auto& [n, steps, largest] : {std::tuple{38, 1u, 38u}, std::tuple{45, 2u, 32u}}) {
    BatchEngine e(tiny_model(), o);
    const auto ids = test::random_ids(n, 1024, 7);
    EXPECT_EQ(test::logits_on_engine(e, 0, ids, n), alone(ids, n)) << n;
    EXPECT_EQ(e.stats().steps, steps) << n;
    EXPECT_EQ(e.stats().max_batch, largest) << n;
  }
}

TEST(BatchEngine, ANewRequestWaitsForRoomForItsPromptInsteadOfPreemptingOthers) {
  // A pool of 4 blocks. Sequence 0 holds 3 (a 40-token prompt) and decodes 12 more
  // tokens into the fourth. Sequence 1's 30-token prompt (2 blocks plus one to grow) does
  // not fit meanwhile: its eval waits (waiting() says so) rather than taking the free
  // block that sequence 0 then needs, which would preempt it and compute it again. Once
  // sequence 0 ends, it runs. Both get the logits they get alone.
  BatchEngineOptions o = options(2, 64, 8);
  o.kv_size = 64;
  BatchEngine e(tiny_model(), o);
  const auto a = test::random_ids(52, 1024, 21), b = test::random_ids(30, 1024, 22);
  const auto want_a = alone(a, 40), want_b = alone(b, 30);
  std::atomic<bool> a_started{false}, a_ended{false}, b_early{false}, seen_waiting{false};
  std::vector<std::vector<float>> got_a;
  std::thread ta([&] {
    const std::size_t V = static_cast<std::size_t>(e.n_vocab());
    const float* l = e.eval(0, a.data(), 40);
    got_a.emplace_back(l, l + V);
    a_started = true;
    // Decodes once sequence 1's request is in (it must not pause long: a sequence idle
    // for a whole retry period may be preempted for a waiting one).
    for (int i = 0; i < 5000 && e.waiting() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    seen_waiting = e.waiting() == 1;
    for (std::size_t t = 40; t < a.size(); ++t) {
      l = e.eval(0, &a[t], 1);
      got_a.emplace_back(l, l + V);
    }
    a_ended = true;
    e.release(0);
  });
  while (!a_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread tb([&] {
    const float* l = e.eval(1, b.data(), 30);
    b_early = !a_ended;
    const std::size_t V = static_cast<std::size_t>(e.n_vocab());
    EXPECT_EQ(std::vector<float>(l, l + V), want_b[0]);
  });
  ta.join();
  tb.join();
  EXPECT_EQ(got_a, want_a);
  EXPECT_TRUE(seen_waiting);
  EXPECT_FALSE(b_early);
  EXPECT_EQ(e.stats().preemptions, 0u);
  EXPECT_EQ(e.waiting(), 0);
  e.release(1);
  EXPECT_EQ(e.stats().kv.used, 0);
}

TEST(BatchEngine, SequencesThatOutgrowThePoolArePreemptedWithTheSameLogits) {
  // Four sequences of 20 prompt + 40 decoded tokens (4 blocks each) over a pool of 8
  // blocks: the oldest requests go on, the youngest give their blocks up and recompute
  // them later. Every logits row is still the one computed alone, bit for bit.
  BatchEngineOptions o = options(4, 256, 16);
  o.kv_size = 128;
  o.n_threads = 2;
  BatchEngine e(tiny_model(), o);
  std::vector<std::vector<std::int32_t>> ids;
  for (int s = 0; s < 4; ++s) ids.push_back(test::random_ids(60, 1024, 70 + s));
  std::vector<std::vector<std::vector<float>>> got(4);
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s)
    threads.emplace_back([&, s] {
      got[static_cast<std::size_t>(s)] =
          test::logits_on_engine(e, s, ids[static_cast<std::size_t>(s)], 20);
    });
  for (auto& t : threads) t.join();
  for (int s = 0; s < 4; ++s) {
    const auto want = alone(ids[static_cast<std::size_t>(s)], 20);
    ASSERT_EQ(got[static_cast<std::size_t>(s)].size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(got[static_cast<std::size_t>(s)][i], want[i]) << "sequence " << s << " step " << i;
  }
  const BatchEngineStats st = e.stats();
  std::printf("  %llu preemptions, %llu tokens recomputed, %llu steps\n",
              static_cast<unsigned long long>(st.preemptions),
              static_cast<unsigned long long>(st.recomputed_tokens),
              static_cast<unsigned long long>(st.steps));
  EXPECT_GT(st.preemptions, 0u);
  EXPECT_EQ(st.kv_full, 0u);
  EXPECT_EQ(st.kv.used, 0);
}

}  // namespace
}  // namespace qwen3::engine
