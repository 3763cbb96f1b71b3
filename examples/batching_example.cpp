// Many requests on one model with ContinuousBatchingPipeline, and the throughput it gets:
// N clients each generate T tokens (ignore_eos), all at once on one batched engine, or
// with --separate on N independent Pipelines (N model loads, one forward pass each per
// token: how `serve --parallel N` worked before). Prints aggregate decode tok/s.
//
//   example_batching_example model.gguf [clients=4] [tokens=64] [--separate]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "qwen3/continuous_batching.h"
#include "qwen3/pipeline.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [clients] [tokens] [--separate]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const int clients = argc > 2 ? std::atoi(argv[2]) : 4;
  const int tokens = argc > 3 ? std::atoi(argv[3]) : 64;
  const bool separate = argc > 4 && std::strcmp(argv[4], "--separate") == 0;
  const qwen3::Properties props = {{"n_ctx", "1024"}};
  qwen3::GenerationConfig c;
  c.max_new_tokens = static_cast<std::size_t>(tokens);
  c.ignore_eos = true;
  c.enable_thinking = false;
  c.temperature = 0.7f;
  c.seed = 1;
  using Clock = std::chrono::steady_clock;
  std::vector<qwen3::DecodedResult> results(static_cast<std::size_t>(clients));
  double wall_s = 0;
  if (separate) {
    std::vector<std::unique_ptr<qwen3::Pipeline>> pipes;
    for (int i = 0; i < clients; ++i)
      pipes.push_back(std::make_unique<qwen3::Pipeline>(path, "CPU", props));
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i)
      threads.emplace_back([&, i] {
        results[static_cast<std::size_t>(i)] = pipes[static_cast<std::size_t>(i)]->generate(
            "Write a poem number " + std::to_string(i), c);
      });
    for (auto& t : threads) t.join();
    wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    qwen3::SchedulerConfig sc;
    sc.max_num_seqs = static_cast<std::size_t>(clients);
    qwen3::ContinuousBatchingPipeline cb(path, sc, "CPU", props);
    const auto t0 = Clock::now();
    std::vector<qwen3::GenerationHandle> handles;
    for (int i = 0; i < clients; ++i)
      handles.push_back(cb.add_request("Write a poem number " + std::to_string(i), c));
    for (int i = 0; i < clients; ++i)
      results[static_cast<std::size_t>(i)] = handles[static_cast<std::size_t>(i)].wait();
    wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto st = cb.stats();
    std::printf(
        "steps %llu, tokens %llu, largest batch %llu\n", static_cast<unsigned long long>(st.steps),
        static_cast<unsigned long long>(st.tokens), static_cast<unsigned long long>(st.max_batch));
  }
  double decode_tps_sum = 0;
  std::size_t generated = 0;
  for (const auto& r : results) {
    decode_tps_sum += r.perf_metrics.throughput_tps.mean;
    generated += r.tokens.size();
  }
  std::printf(
      "%s clients=%d tokens=%d: %zu tokens in %.2f s = %.1f tok/s overall; "
      "aggregate decode %.1f tok/s\n",
      separate ? "separate" : "batched", clients, tokens, generated, wall_s,
      static_cast<double>(generated) / wall_s, decode_tps_sum);
  return 0;
}
