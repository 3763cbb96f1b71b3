// Server counters and gauges, exported at GET /metrics in the Prometheus text format.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace qwen3::server {

class Metrics {
 public:
  void request(const std::string& endpoint);  // one HTTP request to a known route
  void http_status(int status);               // every response status >= 400
  void rejected();                            // queue full -> 503
  void cancelled();                           // client went away mid-generation
  void generation(std::uint64_t prompt_tokens, std::uint64_t cached_tokens,
                  std::uint64_t generated_tokens, double prompt_ms, double decode_ms);

  std::atomic<int> processing{0};  // generations running
  std::atomic<int> queued{0};      // requests waiting for a slot

  // Prometheus text exposition (version 0.0.4).
  std::string render(int slots) const;

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
};

}  // namespace qwen3::server
