// The sampling flags `run` and `chat` share (one wording, one set of defaults), and their
// mapping onto GenerationConfig. Unset flags leave the model's own defaults in force.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "qwen3/generation_config.h"

namespace qwen3::cli {

// Range checks whose messages are words ("must be at least 1"), not CLI11's
// "Value 0 not in range 1 to 1.79769e+308".
inline CLI::Validator number_between(double lo, double hi, const std::string& words) {
  return CLI::Validator(
      [lo, hi, words](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size() || !(v >= lo && v <= hi))
          return "must be " + words + " (got '" + s + "')";
        return "";
      },
      words);
}

struct SamplingOptions {
  int n_predict;
  std::optional<float> temp, top_p, min_p, presence_penalty, repeat_penalty;
  std::optional<int> top_k;
  std::optional<std::uint64_t> seed;
  bool no_think = false;

  explicit SamplingOptions(int default_n_predict) : n_predict(default_n_predict) {}

  void add_to(CLI::App& app) {
    app.add_option("-n,--n-predict", n_predict, "Maximum tokens to generate per reply")
        ->check(number_between(1, 1 << 30, "at least 1"))
        ->capture_default_str();
    app.add_option("--temp", temp,
                   "Temperature (0 = greedy; default: the model's generation_config, else 0.6 "
                   "thinking, 0.7 not)")
        ->check(number_between(0, 100, "from 0 to 100"));
    app.add_option("--top-k", top_k, "Top-k (0 = off; default: the model's, else 20)")
        ->check(number_between(0, 1 << 30, "0 or more"));
    app.add_option("--top-p", top_p, "Top-p (default: the model's, else 0.95 thinking, 0.8 not)")
        ->check(number_between(0, 1, "from 0 to 1"));
    app.add_option("--min-p", min_p, "Min-p (default: the model's, else 0)")
        ->check(number_between(0, 1, "from 0 to 1"));
    app.add_option("--presence-penalty", presence_penalty,
                   "Presence penalty (default: the model's, else 0)")
        ->check(number_between(-2, 2, "from -2 to 2"));
    app.add_option("--repeat-penalty", repeat_penalty,
                   "Repetition penalty (1 = off; default: the model's, else 1)")
        ->check(number_between(0, 10, "from 0 to 10"));
    app.add_option("--seed", seed, "Sampling seed, an integer (default: random)");
    app.add_flag("--no-think", no_think, "Disable thinking (empty <think></think> block)");
  }

  void apply(GenerationConfig& cfg) const {
    cfg.max_new_tokens = static_cast<std::size_t>(n_predict);
    cfg.temperature = temp;
    cfg.top_k = top_k;
    cfg.top_p = top_p;
    cfg.min_p = min_p;
    if (presence_penalty) cfg.presence_penalty = *presence_penalty;
    if (repeat_penalty) cfg.repetition_penalty = *repeat_penalty;
    cfg.seed = seed;
    if (no_think) cfg.enable_thinking = false;
  }
};

}  // namespace qwen3::cli
