// Timing and token counts of generate() calls, as mean/std pairs over a session
// (in the spirit of OpenVINO GenAI's PerfMetrics).
#pragma once

#include <cstddef>
#include <vector>

namespace qwen3 {

struct MeanStd {
  double mean = 0.0;
  double std = 0.0;
};

// One sample per generate() call (token_intervals_ms: one per decoded token).
struct RawPerfMetrics {
  std::vector<double> ttft_ms;             // call start -> first generated token
  std::vector<double> token_intervals_ms;  // gaps between successive generated tokens
  std::vector<double> generate_ms;         // whole call
  std::vector<double> tokenization_ms;     // text -> ids
  std::vector<double> template_ms;         // chat template rendering
  std::vector<double> prefill_tps;         // prefilled (uncached) prompt tokens per second
  std::vector<double> decode_tps;          // generated tokens per second after the first
};

struct PerfMetrics {
  double load_time_ms = 0.0;          // model load (Pipeline construction)
  std::size_t num_input_tokens = 0;   // prompt tokens, including cached ones
  std::size_t num_cached_tokens = 0;  // prompt tokens reused from the KV cache
  std::size_t num_generated_tokens = 0;

  MeanStd ttft_ms;         // time to first token
  MeanStd tpot_ms;         // time per output token (decode)
  MeanStd throughput_tps;  // generated tokens per second (decode)
  MeanStd prefill_tps;
  MeanStd generate_ms;
  MeanStd tokenization_ms;
  MeanStd template_ms;

  RawPerfMetrics raw;

  // Recomputes the mean/std fields from `raw`.
  void evaluate();
  // Session accumulation: counts add up, raw samples are concatenated, then evaluate().
  PerfMetrics& operator+=(const PerfMetrics& other);
  PerfMetrics operator+(const PerfMetrics& other) const {
    PerfMetrics r = *this;
    r += other;
    return r;
  }
};

}  // namespace qwen3
