#include "server/metrics.h"

#include <sstream>

namespace qwen3::server {
namespace {

void header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

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

std::string Metrics::render(int slots) const {
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
  header(o, "qwen3_requests_rejected_total", "counter", "Requests refused with 503 (queue full).");
  o << "qwen3_requests_rejected_total " << rejected_ << '\n';
  header(o, "qwen3_requests_cancelled_total", "counter",
         "Generations stopped because the client disconnected.");
  o << "qwen3_requests_cancelled_total " << cancelled_ << '\n';
  header(o, "qwen3_generations_total", "counter", "Finished generations.");
  o << "qwen3_generations_total " << generations_ << '\n';
  header(o, "qwen3_prompt_tokens_total", "counter", "Prompt tokens, cached ones included.");
  o << "qwen3_prompt_tokens_total " << prompt_tokens_ << '\n';
  header(o, "qwen3_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a KV cache.");
  o << "qwen3_prompt_tokens_cached_total " << cached_tokens_ << '\n';
  header(o, "qwen3_tokens_predicted_total", "counter", "Generated tokens.");
  o << "qwen3_tokens_predicted_total " << generated_tokens_ << '\n';
  header(o, "qwen3_prompt_seconds_total", "counter", "Time spent on prompt processing.");
  o << "qwen3_prompt_seconds_total " << prompt_seconds_ << '\n';
  header(o, "qwen3_tokens_predicted_seconds_total", "counter", "Time spent generating.");
  o << "qwen3_tokens_predicted_seconds_total " << decode_seconds_ << '\n';
  header(o, "qwen3_requests_processing", "gauge", "Generations running now.");
  o << "qwen3_requests_processing " << processing.load() << '\n';
  header(o, "qwen3_requests_deferred", "gauge", "Requests waiting for a free slot.");
  o << "qwen3_requests_deferred " << queued.load() << '\n';
  header(o, "qwen3_slots", "gauge", "Sequences served at once (--parallel).");
  o << "qwen3_slots " << slots << '\n';
  return o.str();
}

}  // namespace qwen3::server
