// Sampler cost per token over a Qwen3-sized vocabulary (151,936 logits).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/sampler.h"

namespace {

std::vector<float> logits() {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> v(151936);
  for (auto& x : v) x = d(rng);
  return v;
}

void run(benchmark::State& state, qwen3::engine::SamplerParams p) {
  const auto l = logits();
  qwen3::engine::Sampler s(p);
  for (int i = 0; i < 64; ++i) s.accept(i * 37);
  for (auto _ : state) benchmark::DoNotOptimize(s.sample(l.data(), static_cast<int>(l.size())));
}

void BM_Greedy(benchmark::State& state) {
  run(state, {});
}

void BM_ModelCardThinking(benchmark::State& state) {  // T 0.6, top-k 20, top-p 0.95
  qwen3::engine::SamplerParams p;
  p.temperature = 0.6f;
  p.top_k = 20;
  p.top_p = 0.95f;
  p.presence_penalty = 1.0f;
  run(state, p);
}

void BM_FullVocabTopP(benchmark::State& state) {  // top-k off: sorts the whole vocabulary
  qwen3::engine::SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 0.9f;
  run(state, p);
}

BENCHMARK(BM_Greedy)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ModelCardThinking)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullVocabTopP)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
