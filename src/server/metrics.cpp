// Metrics: the counters behind GET /metrics and their Prometheus rendering.
#include "server/metrics.h"

#include <algorithm>
#include <sstream>

namespace qwen3::server {
namespace {

void header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// A metric with one unlabelled sample.
template <typename T>
void metric(std::ostringstream& o, const char* name, const char* type, const char* help,
            const T& value) {
  header(o, name, type, help);
  o << name << ' ' << value << '\n';
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  const std::size_t i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + (i < bounds_.size() ? number(bounds_[i]) : "+Inf") + "\"} " +
           std::to_string(cum) + '\n';
  }
  out += name + "_sum " + number(sum_) + '\n';
  out += name + "_count " + std::to_string(count_) + '\n';
}

void Metrics::time_to_first_token(double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.observe(ms / 1000.0);
}

void Metrics::inter_token_latencies(const std::vector<double>& ms) {
  std::lock_guard<std::mutex> lock(mu_);
  for (double d : ms) itl_.observe(d / 1000.0);
}

void Metrics::request(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[endpoint];
}

void Metrics::http_status(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[status];
}

void Metrics::rejected() {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_;
}

void Metrics::cancelled() {
  std::lock_guard<std::mutex> lock(mu_);
  ++cancelled_;
}

void Metrics::generation(std::uint64_t prompt_tokens, std::uint64_t cached_tokens,
                         std::uint64_t generated_tokens, double prompt_ms, double decode_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generations_;
  prompt_tokens_ += prompt_tokens;
  cached_tokens_ += cached_tokens;
  generated_tokens_ += generated_tokens;
  prompt_seconds_ += prompt_ms / 1000.0;
  decode_seconds_ += decode_ms / 1000.0;
}

std::string Metrics::render(int slots, const engine::BatchEngineStats* engine) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  header(o, "qwen3_requests_total", "counter", "HTTP requests by endpoint.");
  for (const auto& [ep, n] : requests_) {
    o << "qwen3_requests_total{endpoint=\"" << ep << "\"} " << n << '\n';
  }
  header(o, "qwen3_http_errors_total", "counter", "Responses with an error status.");
  for (const auto& [status, n] : errors_) {
    o << "qwen3_http_errors_total{status=\"" << status << "\"} " << n << '\n';
  }
  metric(o, "qwen3_requests_rejected_total", "counter", "Requests refused with 503 (queue full).",
         rejected_);
  metric(o, "qwen3_requests_cancelled_total", "counter",
         "Generations stopped because the client disconnected.", cancelled_);
  metric(o, "qwen3_generations_total", "counter", "Finished generations.", generations_);
  metric(o, "qwen3_prompt_tokens_total", "counter", "Prompt tokens, cached ones included.",
         prompt_tokens_);
  metric(o, "qwen3_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a KV cache.",
         cached_tokens_);
  metric(o, "qwen3_tokens_predicted_total", "counter", "Generated tokens.", generated_tokens_);
  metric(o, "qwen3_prompt_seconds_total", "counter", "Time spent on prompt processing.",
         prompt_seconds_);
  metric(o, "qwen3_tokens_predicted_seconds_total", "counter", "Time spent generating.",
         decode_seconds_);
  metric(o, "qwen3_requests_processing", "gauge", "Generations running now.", processing.load());
  metric(o, "qwen3_requests_deferred", "gauge", "Requests waiting for a free slot.", queued.load());
  metric(o, "qwen3_slots", "gauge", "Sequences served at once (--parallel).", slots);
  std::string out = o.str();
  std::ostringstream h;
  header(h, "qwen3_time_to_first_token_seconds", "histogram",
         "Request arrival to the first generated token (queue wait included).");
  out += h.str();
  ttft_.render(out, "qwen3_time_to_first_token_seconds");
  h.str("");
  header(h, "qwen3_inter_token_latency_seconds", "histogram",
         "Time between successive generated tokens of a request.");
  out += h.str();
  itl_.render(out, "qwen3_inter_token_latency_seconds");
  if (!engine) return out;
  const engine::BatchEngineStats& e = *engine;
  std::ostringstream k;
  metric(k, "qwen3_kv_blocks_total", "gauge", "Blocks in the paged KV cache pool.", e.kv.blocks);
  metric(k, "qwen3_kv_blocks_used", "gauge", "KV blocks held by running sequences.", e.kv.used);
  metric(k, "qwen3_kv_blocks_cached", "gauge",
         "KV blocks held by no sequence, kept for prefix reuse until the pool needs them.",
         e.kv.cached);
  metric(k, "qwen3_kv_block_evictions_total", "counter", "Cached KV blocks reused for new tokens.",
         e.kv.evictions);
  metric(k, "qwen3_prefix_cache_hit_tokens_total", "counter",
         "Prompt tokens whose KV blocks were taken from the prefix cache, not computed.",
         e.prefix_hit_tokens);
  metric(k, "qwen3_kv_pool_full_total", "counter",
         "Requests failed because no KV block was left for them.", e.kv_full);
  metric(k, "qwen3_kv_preemptions_total", "counter",
         "Requests whose KV blocks were taken for older ones (their tokens recomputed).",
         e.preemptions);
  metric(k, "qwen3_kv_recomputed_tokens_total", "counter",
         "Tokens computed again after their requests were preempted.", e.recomputed_tokens);
  metric(k, "qwen3_batch_tokens_total", "counter", "Tokens through batched forward steps.",
         e.tokens);
  header(k, "qwen3_batch_sequences", "histogram", "Sequences per batched forward step.");
  out += k.str();
  // seqs_per_step[i]: steps with i+1 sequences (the last bucket: that many or more).
  const double bounds[] = {1, 2, 4, 8, 16};
  std::uint64_t cum = 0, sum = 0;
  std::size_t i = 0;
  for (double b : bounds) {
    for (; i < e.seqs_per_step.size() && static_cast<double>(i + 1) <= b; ++i) {
      cum += e.seqs_per_step[i];
      sum += e.seqs_per_step[i] * (i + 1);
    }
    out += "qwen3_batch_sequences_bucket{le=\"" + number(b) + "\"} " + std::to_string(cum) + '\n';
  }
  out += "qwen3_batch_sequences_bucket{le=\"+Inf\"} " + std::to_string(e.steps) + '\n';
  out += "qwen3_batch_sequences_sum " + std::to_string(sum) + '\n';
  out += "qwen3_batch_sequences_count " + std::to_string(e.steps) + '\n';
  return out;
}

}  // namespace qwen3::server
