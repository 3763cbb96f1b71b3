// Decode allocates nothing: once a sequence's buffers exist, evaluating one more token
// (matmuls, attention, norms, the thread pool's hand-off) must not touch the heap. A
// heap allocation per token costs a lock and cache misses in a loop that runs hundreds
// of kernel calls per token, and it hides memory growth. This test replaces the global
// operator new of its own executable with a counting one and fails on any allocation
// during single-token evals, on every thread count and the main weight types, and around
// whole decode steps (eval, then the sampler picking and accepting the next token)
// with greedy and with top-k/top-p/penalty sampling.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "engine/sampler.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "text/tokenizer.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};

void* counted_alloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace qwen3 {
namespace {

std::shared_ptr<Qwen3Model> make_model(const std::string& type) {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "decode-alloc-test";
  test::set_small_shape(c, 256);
  GenModelOptions o;
  o.config = c;
  o.type = parse_gen_model_type(type);
  o.seed = 5;
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/decode_alloc_test_" + type + ".gguf";
  generate_random_model(o, *test::real_tokenizer(), path);
  return test::load_model(path);
}

// The counter sees allocations at all (the replaced operator new is the one in use).
TEST(DecodeAllocCounter, CountsAHeapAllocation) {
  g_allocs = 0;
  g_counting = true;
  auto v = std::make_unique<std::vector<int>>(100);
  g_counting = false;
  EXPECT_GE(g_allocs.load(), 2) << v->size();
}

class DecodeAlloc : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(DecodeAlloc, SingleTokenEvalAllocatesNothing) {
  const auto& [type, threads] = GetParam();
  auto model = make_model(type);
  InferenceContext ctx(model, 128, KvType::F16, threads);
  std::vector<float> logits(static_cast<size_t>(model->config().n_vocab));
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8};
  ctx.eval(prompt.data(), static_cast<int>(prompt.size()), logits.data());
  // Two warm-up steps: lazily created per-thread scratch is sized on first use.
  for (int32_t id : {9, 10}) ctx.eval(&id, 1, logits.data());
  g_allocs = 0;
  g_counting = true;
  for (int32_t id = 11; id < 19; ++id) ctx.eval(&id, 1, logits.data());
  g_counting = false;
  EXPECT_EQ(g_allocs.load(), 0) << type << ", " << threads << " threads: heap allocations "
                                << "during 8 decode steps";
}

// A full decode step: eval the last token, sample the next from its logits, accept it
// into the penalty window. Warm-up steps first fill the window (its ring and counts are
// sized at construction) and size the candidate buffers.
TEST_P(DecodeAlloc, DecodeStepWithSamplingAllocatesNothing) {
  const auto& [type, threads] = GetParam();
  auto model = make_model(type);
  const int n_vocab = model->config().n_vocab;
  struct Mode {
    const char* name;
    engine::SamplerParams p;
  };
  std::vector<Mode> modes(3);
  modes[0].name = "greedy";
  modes[1].name = "top-k 20, top-p 0.8, T 0.7, penalties over 8";
  modes[1].p.temperature = 0.7f;
  modes[1].p.top_k = 20;
  modes[1].p.top_p = 0.8f;
  modes[1].p.presence_penalty = 1.5f;
  modes[1].p.repetition_penalty = 1.1f;
  modes[1].p.penalty_last_n = 8;
  modes[2].name = "top-p 0.95 over the whole vocabulary, min-p 0.05";
  modes[2].p.temperature = 1.0f;
  modes[2].p.top_p = 0.95f;
  modes[2].p.min_p = 0.05f;
  modes[2].p.frequency_penalty = 0.5f;
  for (Mode& m : modes) {
    m.p.seed = 7;
    InferenceContext ctx(model, 128, KvType::F16, threads);
    engine::Sampler sampler(m.p);
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    const std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8};
    ctx.eval(prompt.data(), static_cast<int>(prompt.size()), logits.data());
    sampler.accept(prompt);
    int32_t id = 0;
    auto step = [&] {
      id = sampler.sample(logits.data(), n_vocab);
      sampler.accept(id);
      ctx.eval(&id, 1, logits.data());
    };
    for (int i = 0; i < 4; ++i) step();  // warm-up
    g_allocs = 0;
    g_counting = true;
    for (int i = 0; i < 16; ++i) step();
    g_counting = false;
    EXPECT_EQ(g_allocs.load(), 0) << type << ", " << threads << " threads, " << m.name
                                  << ": heap allocations during 16 decode steps";
  }
}

INSTANTIATE_TEST_SUITE_P(Types, DecodeAlloc,
                         ::testing::Combine(::testing::Values("q4_0", "q4_k_m", "q8_0", "f16"),
                                            ::testing::Values(1, 2, 3)));

}  // namespace
}  // namespace qwen3
