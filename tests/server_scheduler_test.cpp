// The server's Scheduler on the one-line constructor the server's loader calls: one model
// load for all slots, their generations batched (the engine sees steps holding several
// requests), each request's tokens as when it runs alone, the queue bound, and a
// Generation cancelled while it waits in the queue.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "server/generation_job.h"
#include "server/scheduler.h"

namespace qwen3::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string& tiny_model() {
  static const std::string path = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("qwen3_sched_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string p = (dir / "tiny.gguf").string();
    const std::string cmd = std::string(QWEN3_BIN) + " gen-model --preset tiny --type q4_0 " +
                            "--tokenizer " + QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 5 -o " +
                            p + " > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return p;
  }();
  return path;
}

GenerationConfig config(int i) {
  GenerationConfig c;
  c.max_new_tokens = 20;
  c.ignore_eos = true;
  c.enable_thinking = false;
  if (i % 2 == 0) {
    c.temperature = 0.0f;
  } else {
    c.temperature = 0.8f;
    c.seed = 7 + static_cast<std::uint64_t>(i);
  }
  return c;
}

Generation::Body body(int i, std::vector<std::int32_t>* tokens) {
  return [i, tokens](Pipeline& p, StreamerBase& s) {
    ChatHistory h;
    h.push_back(ChatMessage::user("Question number " + std::to_string(i) + ": why?"));
    DecodedResult r = p.generate(h, config(i), &s);
    *tokens = r.tokens;
    return r;
  };
}

void drain(Generation& g) {
  while (!g.finished()) g.take(50ms);
}

TEST(ServerScheduler, OneModelForAllSlotsAndBatchedGenerations) {
  const Properties props = {{"n_ctx", "512"}, {"n_threads", "2"}};
  // Alone: one slot, one request at a time.
  std::vector<std::vector<std::int32_t>> alone(4);
  {
    Scheduler one(tiny_model(), "CPU", props, 1, 4);
    for (int i = 0; i < 4; ++i) {
      auto g = Generation::start(one, "", body(i, &alone[static_cast<std::size_t>(i)]));
      ASSERT_NE(g, nullptr);
      drain(*g);
      ASSERT_FALSE(g->error()) << g->error()->to_json().dump();
    }
  }
  Scheduler s(tiny_model(), "CPU", props, 4, 2);
  ASSERT_NE(s.engine(), nullptr);
  EXPECT_EQ(s.slots(), 4u);
  EXPECT_EQ(s.pipeline().info().n_ctx, 512u);
  std::vector<std::vector<std::int32_t>> together(4);
  std::vector<std::shared_ptr<Generation>> gens;
  for (int i = 0; i < 4; ++i) {
    gens.push_back(Generation::start(s, "", body(i, &together[static_cast<std::size_t>(i)])));
    ASSERT_NE(gens.back(), nullptr);
  }
  for (auto& g : gens) {
    drain(*g);
    EXPECT_FALSE(g->error());
    EXPECT_EQ(g->result().tokens.size(), 20u);
  }
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(together[static_cast<std::size_t>(i)], alone[static_cast<std::size_t>(i)]) << i;
  EXPECT_GT(s.engine()->stats().multi_seq_steps, 5u);
}

TEST(ServerScheduler, QueueBoundAndCancelWhileQueued) {
  Scheduler s(tiny_model(), "CPU", {{"n_ctx", "512"}, {"n_threads", "1"}}, 1, 1);
  std::vector<std::int32_t> a, b, c;
  auto running = Generation::start(s, "", body(0, &a));
  auto queued = Generation::start(s, "", body(1, &b));
  ASSERT_NE(running, nullptr);
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(Generation::start(s, "", body(2, &c)), nullptr);  // the queue is full
  queued->cancel();
  drain(*running);
  EXPECT_FALSE(running->error());
  drain(*queued);
  EXPECT_TRUE(queued->error());  // dropped, never ran
  EXPECT_TRUE(b.empty());
}

TEST(ServerScheduler, BadBackendOrPropertyIsAnError) {
  // As for Pipeline: an unknown backend or property is a clear error, batched or not.
  EXPECT_THROW(Scheduler(tiny_model(), "CPU", {{"backend", "nope"}}, 2, 1), std::invalid_argument);
  EXPECT_THROW(Scheduler(tiny_model(), "CPU", {{"bogus", "1"}}, 2, 1), std::invalid_argument);
}

}  // namespace
}  // namespace qwen3::server
