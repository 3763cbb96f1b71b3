// The continuous-batching engine on random-weight models from `qwen3 gen-model`:
// - a request's tokens (greedy and seeded sampling) are identical whether it runs alone
//   on a plain Pipeline or batched with 7 others, prompts chunked across steps;
// - the model is loaded once: 8 sequences cost one model plus 8 KV caches of memory;
// - cancellation (queued and running), a full queue, and the server's SlotPool batching;
// - a KV pool too small for all running requests preempts the youngest, which recompute
//   and still stream the same tokens; a request larger than the pool is a clear error.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/shared_pipelines.h"
#include "engine/slot_pool.h"
#include "qwen3/continuous_batching.h"
#include "qwen3/pipeline.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

fs::path test_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("qwen3_cb_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Generates (once per process) a random model with `extra` gen-model options.
std::string model(const std::string& name, const std::string& extra) {
  const std::string path = (test_dir() / (name + ".gguf")).string();
  if (!fs::exists(path)) {
    const std::string cmd = std::string(QWEN3_BIN) + " gen-model " + extra + " --tokenizer " +
                            QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 3 -o " + path +
                            " > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  return path;
}

const std::string& tiny_q4() {
  static const std::string p = model("tiny_q4_0", "--preset tiny --type q4_0");
  return p;
}

// Resident set size of this process, in bytes.
std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

struct Req {
  std::string prompt;
  GenerationConfig config;
};

// `n` new tokens exactly (EOS ignored) at `temperature` (0: greedy).
GenerationConfig exactly(std::size_t n, float temperature = 0.0f) {
  GenerationConfig c;
  c.max_new_tokens = n;
  c.ignore_eos = true;
  c.temperature = temperature;
  return c;
}

// Eight requests: prompts of different lengths, raw and chat, greedy and seeded.
std::vector<Req> eight_requests() {
  const char* prompts[] = {
      "Hello",
      "Tell me a story about a dragon who learned to bake bread in a small village.",
      "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30",
      "Why is the sky blue?",
      "List the planets of the solar system, from the sun outwards, with one fact each.",
      "x",
      "The quick brown fox jumps over the lazy dog. The quick brown fox jumps again.",
      "What is 2+2?"};
  std::vector<Req> out;
  for (int i = 0; i < 8; ++i) {
    GenerationConfig c = exactly(16 + static_cast<std::size_t>(i));  // even ones greedy
    c.apply_chat_template = i % 3 != 0;
    c.enable_thinking = false;
    if (i % 2 != 0) {
      c.temperature = 0.9f;
      c.top_k = 40;
      c.top_p = 0.95f;
      c.seed = 100 + static_cast<std::uint64_t>(i);
    }
    out.push_back({prompts[i], c});
  }
  return out;
}

Properties props() {
  return {{"n_ctx", "256"}, {"n_threads", "2"}};
}

// `seqs` requests decoded at once, `batched` tokens a step, a KV pool of `kv` positions
// (0: the defaults).
SchedulerConfig scheduler(std::size_t seqs, std::size_t batched = 0, std::size_t kv = 0) {
  SchedulerConfig sc;
  sc.max_num_seqs = seqs;
  sc.max_num_batched_tokens = batched;
  sc.kv_cache_size = kv;
  return sc;
}

// The tokens of each request run alone: the single-sequence Pipeline, one at a time.
std::vector<std::vector<std::int32_t>> alone_tokens(const std::vector<Req>& reqs) {
  std::vector<std::vector<std::int32_t>> alone;
  Pipeline p(tiny_q4(), "CPU", props());
  for (const auto& r : reqs) alone.push_back(p.generate(r.prompt, r.config).tokens);
  return alone;
}

// Every request added at once.
std::vector<GenerationHandle> add_all(ContinuousBatchingPipeline& cb,
                                      const std::vector<Req>& reqs) {
  std::vector<GenerationHandle> handles;
  for (const auto& r : reqs) handles.push_back(cb.add_request(r.prompt, r.config));
  return handles;
}

TEST(ContinuousBatching, SameTokensAloneAndWithSevenOthers) {
  const auto reqs = eight_requests();
  // Alone: the single-sequence Pipeline, one request at a time.
  const auto alone = alone_tokens(reqs);
  // Together: all eight at once, 16 tokens per step so the prompts go in chunks.
  SchedulerConfig sc = scheduler(8, 16);
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  std::vector<GenerationHandle> handles = add_all(cb, reqs);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const DecodedResult res = handles[i].wait();
    EXPECT_EQ(res.tokens, alone[i]) << "request " << i;
    EXPECT_EQ(res.tokens.size(), reqs[i].config.max_new_tokens) << "request " << i;
    EXPECT_EQ(res.finish_reason, FinishReason::kLength);
  }
  const BatchingStats st = cb.stats();
  std::printf("  %llu steps, %llu tokens, largest %llu, %llu with 2+ requests\n",
              static_cast<unsigned long long>(st.steps), static_cast<unsigned long long>(st.tokens),
              static_cast<unsigned long long>(st.max_batch),
              static_cast<unsigned long long>(st.multi_seq_steps));
  EXPECT_GT(st.multi_seq_steps, 0u);
  EXPECT_LE(st.max_batch, 16u);
  EXPECT_GE(st.max_batch, 8u);
  // And again one by one on the same engine (its KV caches reused): still the same.
  for (std::size_t i = 0; i < reqs.size(); i += 3)
    EXPECT_EQ(cb.add_request(reqs[i].prompt, reqs[i].config).wait().tokens, alone[i]) << i;
}

TEST(ContinuousBatching, StreamsEachRequestAndChatHistoryWorks) {
  SchedulerConfig sc = scheduler(2);
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  GenerationConfig c = exactly(12);
  c.enable_thinking = false;
  ChatHistory h;
  h.push_back(ChatMessage::user("Hi there"));
  auto a = cb.add_request(h, c);
  auto b = cb.add_request("Hi there", c);  // the same conversation as a user message
  std::vector<std::int32_t> streamed;
  std::string text;
  while (!a.finished()) {
    GenerationDelta d = a.read(std::chrono::milliseconds(50));
    streamed.insert(streamed.end(), d.tokens.begin(), d.tokens.end());
    text += d.reasoning + d.content;
  }
  const DecodedResult ra = a.wait(), rb = b.wait();
  EXPECT_EQ(streamed, ra.tokens);
  EXPECT_EQ(ra.tokens, rb.tokens);
  EXPECT_EQ(a.status(), GenerationStatus::kFinished);
  EXPECT_EQ(text, ra.reasoning + ra.text);
}

TEST(ContinuousBatching, CancelRunningAndQueuedRequests) {
  SchedulerConfig sc = scheduler(1);
  sc.max_queue = 1;
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  GenerationConfig c = exactly(200);
  auto running = cb.add_request("Count to a thousand", c);
  auto queued = cb.add_request("never runs", c);
  EXPECT_THROW(cb.add_request("no room", c), std::runtime_error);  // 1 running + 1 queued
  while (running.status() == GenerationStatus::kWaiting)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  queued.cancel();
  running.read(std::chrono::milliseconds(2000));  // some output first
  running.cancel();
  const DecodedResult r = running.wait();
  EXPECT_EQ(r.finish_reason, FinishReason::kCancelled);
  EXPECT_LT(r.tokens.size(), 200u);
  EXPECT_THROW(queued.wait(), std::runtime_error);
  EXPECT_EQ(queued.status(), GenerationStatus::kFailed);
  EXPECT_THROW(cb.add_request("bad",
                              [] {
                                GenerationConfig b;
                                b.temperature = -1.0f;
                                return b;
                              }()),
               std::invalid_argument);
}

TEST(ContinuousBatching, CancelInTheMiddleOfALongPromptStopsItsPrefill) {
  SchedulerConfig sc = scheduler(1, 4);  // a 2000-token prompt takes 500 steps
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", {{"n_ctx", "4096"}, {"n_threads", "1"}});
  GenerationConfig c;
  c.max_new_tokens = 4;
  c.apply_chat_template = false;
  std::string prompt;
  for (int i = 0; i < 2000; ++i) prompt += " w";
  auto h = cb.add_request(prompt, c);
  while (h.status() == GenerationStatus::kWaiting)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  h.cancel();
  EXPECT_THROW(h.wait(), std::runtime_error);
  EXPECT_LT(cb.stats().tokens, 1000u);  // stopped well before the end of the prompt
  // The sequence is fine afterwards.
  GenerationConfig g = exactly(3);
  EXPECT_EQ(cb.add_request("hello", g).wait().tokens.size(), 3u);
}

TEST(ContinuousBatching, NoMemoryGrowthOverManyRequestsWithRandomCancels) {
  SchedulerConfig sc = scheduler(4, 16);
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  std::mt19937_64 rng(5);
  auto round = [&](int n) {
    std::vector<GenerationHandle> hs;
    for (int i = 0; i < n; ++i) {
      GenerationConfig c;
      c.max_new_tokens = 4 + rng() % 12;
      c.temperature = 0.8f;
      c.seed = rng();
      c.enable_thinking = false;
      hs.push_back(cb.add_request("request " + std::to_string(rng() % 1000), c));
    }
    for (auto& h : hs)
      if (rng() % 3 == 0) h.cancel();
    for (auto& h : hs) {
      try {
        h.wait();
      } catch (const std::runtime_error&) {  // cancelled before or during its prompt
      }
    }
  };
  round(40);  // warm up: every sequence and buffer touched once
  const std::size_t before = rss_bytes();
  for (int r = 0; r < 8; ++r) round(40);
  const std::size_t after = rss_bytes();
  std::printf("  RSS after 40 requests %.1f MB, after 360 %.1f MB\n", before / 1e6, after / 1e6);
  EXPECT_LT(after, before + 4'000'000);
}

// A request's handle ends before its slot gives the KV blocks back: wait for the slots.
void wait_idle(const ContinuousBatchingPipeline& cb) {
  for (int i = 0; i < 5000 && cb.running() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Chat requests that share a long system prompt, greedy and seeded.
std::vector<std::pair<ChatHistory, GenerationConfig>> shared_prefix_requests() {
  std::string system = "You are a careful assistant for a shop that sells bread.";
  for (int i = 0; i < 6; ++i) system += " Rule " + std::to_string(i) + ": answer politely.";
  std::vector<std::pair<ChatHistory, GenerationConfig>> out;
  for (int i = 0; i < 6; ++i) {
    ChatHistory h;
    h.push_back(ChatMessage::system(system));
    h.push_back(ChatMessage::user("Question " + std::to_string(i) + ": what do you bake?"));
    if (i % 3 == 2) {  // a follow-up turn of the conversation before it
      h.push_back(ChatMessage::assistant("We bake rye and wheat."));
      h.push_back(ChatMessage::user("And on Sundays?"));
    }
    GenerationConfig c = exactly(12);  // even ones greedy
    c.enable_thinking = false;
    if (i % 2 != 0) {
      c.temperature = 0.9f;
      c.top_k = 40;
      c.seed = 7 + static_cast<std::uint64_t>(i);
    }
    out.emplace_back(h, c);
  }
  return out;
}

TEST(ContinuousBatching, SameTokensWithAndWithoutPrefixCacheHits) {
  const auto reqs = shared_prefix_requests();
  SchedulerConfig off = scheduler(4, 16);
  off.enable_prefix_caching = false;
  std::vector<std::vector<std::int32_t>> want;
  {
    ContinuousBatchingPipeline cb(tiny_q4(), off, "CPU", props());
    for (const auto& [h, c] : reqs) want.push_back(cb.add_request(h, c).wait().tokens);
    EXPECT_EQ(cb.stats().prefix_hit_tokens, 0u);
  }
  SchedulerConfig on = off;
  on.enable_prefix_caching = true;
  ContinuousBatchingPipeline cb(tiny_q4(), on, "CPU", props());
  // The first request alone fills the cache; then all of them twice, at once.
  EXPECT_EQ(cb.add_request(reqs[0].first, reqs[0].second).wait().tokens, want[0]);
  const std::uint64_t after_first = cb.stats().prefix_hit_tokens;
  std::vector<GenerationHandle> hs;
  for (int round = 0; round < 2; ++round)
    for (const auto& [h, c] : reqs) hs.push_back(cb.add_request(h, c));
  for (std::size_t i = 0; i < hs.size(); ++i)
    EXPECT_EQ(hs[i].wait().tokens, want[i % reqs.size()]) << "request " << i;
  wait_idle(cb);
  const BatchingStats st = cb.stats();
  std::printf(
      "  prefix-cache hits: %llu prompt tokens over %zu requests; KV blocks %llu used, "
      "%llu cached of %llu\n",
      static_cast<unsigned long long>(st.prefix_hit_tokens), hs.size() + 1,
      static_cast<unsigned long long>(st.kv_blocks_used),
      static_cast<unsigned long long>(st.kv_blocks_cached),
      static_cast<unsigned long long>(st.kv_blocks_total));
  // Every request after the first takes at least the system prompt's whole blocks.
  EXPECT_GE(st.prefix_hit_tokens - after_first, hs.size() * 48u);
  EXPECT_EQ(st.kv_blocks_used, 0u);  // all given back
}

TEST(ContinuousBatching, SmallKvPoolQueuesRequestsAndNeverLeaksBlocks) {
  // Room for about two requests at a time: the others wait in the queue, running ones
  // that cannot grow preempt younger ones; cancels and ends in random order. Every request
  // not cancelled finishes whole.
  SchedulerConfig sc = scheduler(4, 16, 160);
  sc.max_queue = 64;
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  std::mt19937_64 rng(11);
  std::vector<GenerationHandle> hs;
  std::vector<std::size_t> want;
  std::vector<bool> cancelled;
  for (int i = 0; i < 48; ++i) {
    GenerationConfig c = exactly(2 + rng() % 40, 0.7f);
    c.seed = rng();
    c.enable_thinking = false;
    hs.push_back(cb.add_request("shared opening words " + std::to_string(rng() % 4) + " then " +
                                    std::to_string(rng() % 100),
                                c));
    want.push_back(c.max_new_tokens);
    cancelled.push_back(false);
    if (rng() % 4 == 0) {
      const std::size_t k = rng() % hs.size();
      hs[k].cancel();
      cancelled[k] = true;
    }
    if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
  }
  int ok = 0, failed = 0;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    try {
      const DecodedResult r = hs[i].wait();
      if (!cancelled[i]) {
        EXPECT_EQ(r.tokens.size(), want[i]) << "request " << i;
      }
      ++ok;
    } catch (const std::exception& e) {
      EXPECT_TRUE(cancelled[i]) << "request " << i << ": " << e.what();
      ++failed;
    }
  }
  wait_idle(cb);
  const BatchingStats st = cb.stats();
  std::printf(
      "  %d finished, %d cancelled; KV blocks %llu used, %llu cached of %llu; %llu "
      "preemptions, %llu tokens recomputed\n",
      ok, failed, static_cast<unsigned long long>(st.kv_blocks_used),
      static_cast<unsigned long long>(st.kv_blocks_cached),
      static_cast<unsigned long long>(st.kv_blocks_total),
      static_cast<unsigned long long>(st.preemptions),
      static_cast<unsigned long long>(st.recomputed_tokens));
  EXPECT_GT(ok, 16);
  EXPECT_EQ(st.kv_blocks_used, 0u);
  EXPECT_EQ(st.kv_blocks_total, 10u);
  EXPECT_EQ(cb.running(), 0u);
  EXPECT_EQ(cb.queued(), 0u);
}

TEST(ContinuousBatching, PreemptedRequestsStreamTheSameTokensAsAlone) {
  // The eight requests over a KV pool of 8 blocks (128 positions) that one of them nearly
  // fills: running requests take the blocks of younger ones, which recompute them later.
  // The streams are whole, and the tokens (greedy and seeded) those of a run alone.
  const auto reqs = eight_requests();
  const auto alone = alone_tokens(reqs);
  SchedulerConfig sc = scheduler(4, 16, 128);
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  EXPECT_EQ(cb.pipeline().info().n_ctx, 128u);  // one request holds at most the pool
  std::vector<GenerationHandle> handles = add_all(cb, reqs);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    std::vector<std::int32_t> streamed;
    while (!handles[i].finished()) {
      const GenerationDelta d = handles[i].read(std::chrono::milliseconds(50));
      streamed.insert(streamed.end(), d.tokens.begin(), d.tokens.end());
    }
    const DecodedResult res = handles[i].wait();
    EXPECT_EQ(res.tokens, alone[i]) << "request " << i;
    EXPECT_EQ(streamed, res.tokens) << "request " << i;
  }
  wait_idle(cb);
  const BatchingStats st = cb.stats();
  std::printf("  %llu preemptions, %llu tokens recomputed, %llu steps\n",
              static_cast<unsigned long long>(st.preemptions),
              static_cast<unsigned long long>(st.recomputed_tokens),
              static_cast<unsigned long long>(st.steps));
  // A resumed request recomputes what it lost, adopts its blocks if they are still cached,
  // or had computed nothing yet: which one depends on when the requests arrive (a fresh-
  // clone run saw 1 preemption and 0 tokens recomputed), so only the preemption is asserted.
  EXPECT_GT(st.preemptions, 0u);
  EXPECT_EQ(st.kv_blocks_used, 0u);
}

TEST(ContinuousBatching, ARequestLargerThanTheKvPoolIsAClearErrorNotAHang) {
  SchedulerConfig sc = scheduler(2, 16, 48);
  ContinuousBatchingPipeline cb(tiny_q4(), sc, "CPU", props());
  GenerationConfig c = exactly(100);
  c.apply_chat_template = false;
  std::string big;
  for (int i = 0; i < 60; ++i) big += " w";
  try {
    cb.add_request(big, c).wait();
    ADD_FAILURE() << "a 60-token prompt fit a 48-position pool";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("48"), std::string::npos) << e.what();
  }
  // So is one whose reply would not fit (max_new_tokens is kept free for the reply, up to
  // min_reply_tokens).
  EXPECT_THROW(cb.add_request("one two three", c).wait(), std::length_error);
  // With less kept free, the reply stops at the pool's end (finish reason length), like
  // at the end of a context.
  c.min_reply_tokens = 8;
  const DecodedResult r = cb.add_request("one two three", c).wait();
  EXPECT_EQ(r.finish_reason, FinishReason::kLength);
  EXPECT_GT(r.tokens.size(), 30u);
  EXPECT_LT(r.tokens.size(), 48u);
  wait_idle(cb);
  EXPECT_EQ(cb.stats().kv_blocks_used, 0u);
}

// Runs f in a forked child (a fresh heap, so nothing freed earlier is reused); f returns
// rss_bytes() taken while what it built is alive. Returns how much the child's RSS grew.
std::size_t rss_growth_in_child(const std::function<std::size_t()>& f) {
  int fds[2];
  if (::pipe(fds) != 0) return 0;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::size_t before = rss_bytes();
    const std::size_t grew = f() - before;
    (void)!::write(fds[1], &grew, sizeof grew);
    ::_exit(0);
  }
  std::size_t grew = 0;
  (void)!::read(fds[0], &grew, sizeof grew);
  ::close(fds[0]);
  ::close(fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return grew;
}

TEST(ContinuousBatching, ModelLoadedOnceEachSequenceAddsOnlyItsKvCache) {
  // A 0.6B-shaped model cut to 2 blocks: ~100 MB of Q4_0 weights (most of it the
  // embedding, which the tied lm_head shares).
  const std::string path = model("small06_q4_0", "--preset 0.6b --layers 2 --type q4_0");
  const Properties p = {{"n_ctx", "512"}, {"n_threads", "2"}};
  GenerationConfig c = exactly(4);
  auto load = [&](int n) {
    return rss_growth_in_child([&] {
      auto s = engine::make_shared_pipelines(path, "CPU", p, n);
      // Every sequence generates a few tokens, touching its KV cache and buffers.
      std::vector<std::thread> threads;
      for (auto& pl : s.pipelines)
        threads.emplace_back([&pl, &c] { pl->generate("a prompt to fill the cache", c); });
      for (auto& t : threads) t.join();
      return rss_bytes();
    });
  };
  const std::size_t one = load(1), eight = load(8);
  // How it was: every slot its own Pipeline, loading and repacking the file again.
  const std::size_t two_separate = rss_growth_in_child([&] {
    Pipeline a(path, "CPU", p), b(path, "CPU", p);
    a.generate("a prompt", c);
    b.generate("a prompt", c);
    return rss_bytes();
  });
  std::size_t kv = 0;
  {
    auto s = engine::make_shared_pipelines(path, "CPU", p, 1);
    kv = s.engine->kv_bytes_per_seq();
  }
  const std::size_t file = fs::file_size(path);
  std::printf(
      "  model file %.1f MB; RSS growth: 1 sequence %.1f MB, 8 sequences %.1f MB, 2 separate "
      "Pipelines %.1f MB; KV reserved %.2f MB per sequence\n",
      file / 1e6, one / 1e6, eight / 1e6, two_separate / 1e6, kv / 1e6);
  EXPECT_GT(one, file / 2);  // the model really is in memory
  // Eight sequences: the one model plus, per sequence, at most its KV cache, a logits row
  // and sampler scratch (~3 MB with the 152k vocabulary).
  EXPECT_LT(eight, one + 7 * (kv + 3'000'000));
  EXPECT_GT(two_separate, one + one / 2);  // the old way: the model twice
}

TEST(ContinuousBatching, SlotPoolBatchesTheServersJobs) {
  engine::SlotPool pool(engine::make_shared_pipelines(tiny_q4(), "CPU", props(), 4), 8);
  ASSERT_NE(pool.engine(), nullptr);
  std::vector<std::vector<std::int32_t>> got(4);
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i) {
    auto job = std::make_shared<engine::SlotJob>();
    job->affinity = "job" + std::to_string(i);
    job->run = [i, &got, &done](Pipeline& p) {
      GenerationConfig c = exactly(24);
      got[static_cast<std::size_t>(i)] = p.generate("prompt number " + std::to_string(i), c).tokens;
      ++done;
    };
    ASSERT_TRUE(pool.submit(job));
  }
  while (done < 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (const auto& g : got) EXPECT_EQ(g.size(), 24u);
  EXPECT_GT(pool.engine()->stats().multi_seq_steps, 10u);
  // A slot's Pipeline forgets its session metrics after each job: they keep every
  // request's token timings, so a server would grow with each request it served.
  for (int i = 0; i < 5000 && pool.running() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(pool.running(), 0u);
  EXPECT_TRUE(pool.pipeline().session_metrics().raw.token_intervals_ms.empty());
  EXPECT_TRUE(pool.pipeline().session_metrics().raw.generate_ms.empty());
}

}  // namespace
}  // namespace qwen3
