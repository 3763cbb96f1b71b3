#include "qwen3/perf_metrics.h"

#include <cmath>

namespace qwen3 {
namespace {

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  if (v.empty()) return r;
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - r.mean) * (x - r.mean);
  r.std = std::sqrt(sq / static_cast<double>(v.size()));  // population std, as OpenVINO GenAI
  return r;
}

void append(std::vector<double>& to, const std::vector<double>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

void PerfMetrics::evaluate() {
  ttft_ms = mean_std(raw.ttft_ms);
  tpot_ms = mean_std(raw.token_intervals_ms);
  throughput_tps = mean_std(raw.decode_tps);
  prefill_tps = mean_std(raw.prefill_tps);
  generate_ms = mean_std(raw.generate_ms);
  tokenization_ms = mean_std(raw.tokenization_ms);
  template_ms = mean_std(raw.template_ms);
}

PerfMetrics& PerfMetrics::operator+=(const PerfMetrics& o) {
  if (load_time_ms == 0.0) load_time_ms = o.load_time_ms;
  num_input_tokens += o.num_input_tokens;
  num_cached_tokens += o.num_cached_tokens;
  num_generated_tokens += o.num_generated_tokens;
  append(raw.ttft_ms, o.raw.ttft_ms);
  append(raw.token_intervals_ms, o.raw.token_intervals_ms);
  append(raw.generate_ms, o.raw.generate_ms);
  append(raw.tokenization_ms, o.raw.tokenization_ms);
  append(raw.template_ms, o.raw.template_ms);
  append(raw.prefill_tps, o.raw.prefill_tps);
  append(raw.decode_tps, o.raw.decode_tps);
  evaluate();
  return *this;
}

}  // namespace qwen3
