// Server counters, gauges and histograms, exported at GET /metrics in the Prometheus
// text format: requests and errors, the queue and running sequences, the paged KV pool
// (blocks used / cached / total, prefix-cache hit tokens), sequences per batched forward
// step, time to first token and inter-token latency.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/batch_engine.h"

namespace qwen3::server {

// A Prometheus histogram with fixed upper bounds (le); observe() is O(buckets).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // name_bucket{le=...} (cumulative), name_sum, name_count.
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, the last one +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  void request(const std::string& endpoint);  // one HTTP request to a known route
  void http_status(int status);               // every response status >= 400
  void rejected();                            // queue full -> 503
  void cancelled();                           // client went away mid-generation
  void generation(std::uint64_t prompt_tokens, std::uint64_t cached_tokens,
                  std::uint64_t generated_tokens, double prompt_ms, double decode_ms);
  // Request arrival -> first token, as the client sees it (queue wait included).
  void time_to_first_token(double ms);
  void inter_token_latencies(const std::vector<double>& ms);

  std::atomic<int> processing{0};  // generations running
  std::atomic<int> queued{0};      // requests waiting for a slot

  // Prometheus text exposition (version 0.0.4). engine: the batching engine's counters
  // (null when the slots do not batch).
  std::string render(int slots, const engine::BatchEngineStats* engine = nullptr) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> requests_;
  std::map<int, std::uint64_t> errors_;
  std::uint64_t rejected_ = 0;
  std::uint64_t cancelled_ = 0;
  std::uint64_t generations_ = 0;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t cached_tokens_ = 0;
  std::uint64_t generated_tokens_ = 0;
  double prompt_seconds_ = 0;
  double decode_seconds_ = 0;
  Histogram ttft_{{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Histogram itl_{{0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2.5}};
};

}  // namespace qwen3::server
