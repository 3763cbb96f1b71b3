#include "engine/reply_generator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace qwen3::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

void Generator::reset() {
  cached_.clear();
  backend_.truncate(0);
}

const float* Generator::prefill(const std::vector<std::int32_t>& prompt, GenerationTimings& t) {
  if (prompt.empty()) throw std::invalid_argument("empty prompt: nothing to generate from");
  if (prompt.size() > static_cast<std::size_t>(backend_.n_ctx()))
    throw std::length_error("prompt of " + std::to_string(prompt.size()) +
                            " tokens does not fit the context of " +
                            std::to_string(backend_.n_ctx()) + " tokens");
  // Keep the common prefix but always evaluate at least the last prompt token: its
  // logits are what the first sampled token comes from.
  std::size_t keep = common_prefix(cached_, prompt);
  // A backend may have dropped part of the cache meanwhile (a batched sequence gives its
  // blocks back when its request ends, then finds shared prefixes on its own).
  keep = std::min(keep, static_cast<std::size_t>(backend_.n_past()));
  if (keep == prompt.size()) --keep;
  if (!backend_.capabilities().kv_reuse) keep = 0;
  backend_.truncate(static_cast<int>(keep));
  cached_.resize(keep);
  t.prompt_tokens = prompt.size();
  t.cached_tokens = keep;
  const auto t0 = Clock::now();
  const float* logits = nullptr;
  try {
    logits = backend_.eval(prompt.data() + keep, static_cast<int>(prompt.size() - keep));
  } catch (...) {
    reset();
    throw;
  }
  cached_.assign(prompt.begin(), prompt.end());
  t.prefill_ms = ms_since(t0);
  return logits;
}

GenerationOutcome Generator::run(const std::vector<std::int32_t>& prompt, Sampler& sampler,
                                 const GeneratorOptions& opts,
                                 const std::function<TokenAction(std::int32_t)>& on_token) {
  GenerationOutcome out;
  auto& t = out.timings;
  const auto start = Clock::now();
  const float* logits = prefill(prompt, t);
  sampler.accept(prompt);
  const int n_vocab = backend_.n_vocab();
  auto last = start;
  while (true) {
    std::int32_t id;
    if (opts.control) {
      if (auto f = opts.control->forced()) {
        id = *f;
      } else {
        sampler.set_mask(opts.control->mask());
        id = sampler.sample(logits, n_vocab);
        sampler.set_mask(nullptr);
      }
      opts.control->accept(id);
    } else {
      id = sampler.sample(logits, n_vocab);
    }
    const auto now = Clock::now();
    if (out.tokens.empty())
      t.ttft_ms = std::chrono::duration<double, std::milli>(now - start).count();
    else
      t.token_intervals_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
    out.tokens.push_back(id);
    sampler.accept(id);
    const bool is_end =
        !opts.ignore_eos &&
        std::find(opts.end_tokens.begin(), opts.end_tokens.end(), id) != opts.end_tokens.end();
    if (on_token(id) == TokenAction::kStop) {
      out.cause = is_end ? StopCause::kEndToken : StopCause::kCallback;
      break;
    }
    if (is_end) {
      out.cause = StopCause::kEndToken;
      break;
    }
    if (out.tokens.size() >= opts.max_new_tokens) {
      out.cause = StopCause::kLength;
      break;
    }
    if (cached_.size() + 1 > static_cast<std::size_t>(backend_.n_ctx())) {
      out.cause = StopCause::kContextFull;
      break;
    }
    try {
      logits = backend_.eval(&id, 1);
    } catch (...) {
      reset();
      throw;
    }
    cached_.push_back(id);
  }
  t.generated_tokens = out.tokens.size();
  t.total_ms = ms_since(start);
  return out;
}

}  // namespace qwen3::engine
