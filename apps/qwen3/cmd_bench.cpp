// `qwen3 bench`: prompt-processing and generation speed of a model, llama-bench style:
// a random prompt of -p tokens evaluated at once, then -n tokens decoded one by one
// (greedy), repeated -r times; medians and spread, optionally as one JSON object.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <vector>

#include "command.h"
#include "device_options.h"
#include "kernels/cpu_features.h"
#include "kv_type_option.h"
#include "lora_options.h"
#include "model/qwen3_model.h"
#include "model_option.h"
#include "quantize_option.h"
#include "qwen3/pipeline.h"

namespace qwen3::cli {
namespace {

struct BenchArgs {
  std::string model;
  int n_prompt = 128;
  int n_gen = 64;
  int threads = 0;
  int reps = 3;
  int seed = 1;
  bool json = false;
  std::string quantize;
  std::string kv_type;
  std::string device = "CPU";
  DeviceOptions dev;
  std::vector<std::string> lora;
};

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Stat {
  double median = 0, min = 0, max = 0, stddev = 0;
};
Stat stat(std::vector<double> v) {
  Stat s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front();
  s.max = v.back();
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(n);
  for (double x : v) s.stddev += (x - mean) * (x - mean);
  s.stddev = n > 1 ? std::sqrt(s.stddev / static_cast<double>(n - 1)) : 0;
  return s;
}

int argmax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

nlohmann::json stat_json(const Stat& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"stddev", s.stddev}};
}

// --device NPU|GPU|AUTO: the same measurement through a Pipeline on that device (a raw
// prompt of random regular tokens, greedy, -n tokens with the end token ignored); the
// device's own time to first token and per-token times.
int run_device_bench(const BenchArgs& a) {
  Properties props;
  if (a.threads > 0) props["n_threads"] = std::to_string(a.threads);
  if (!a.quantize.empty()) props["quantize"] = a.quantize;
  if (!a.kv_type.empty()) props["kv_type"] = a.kv_type;
  apply_device_options(a.dev, props);
  apply_lora_option(a.lora, props);
  const auto t_load = Clock::now();
  Pipeline pipe(a.model, a.device, props);
  const double load_ms = ms_since(t_load);
  print_device_report(pipe, a.device);
  std::mt19937 rng(static_cast<uint32_t>(a.seed));
  std::vector<int32_t> ids(static_cast<size_t>(a.n_prompt));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % 151643u);
  const std::string prompt = pipe.decode(ids);
  GenerationConfig cfg;
  cfg.apply_chat_template = false;
  cfg.max_new_tokens = static_cast<size_t>(std::max(1, a.n_gen));
  cfg.min_reply_tokens = cfg.max_new_tokens;
  cfg.ignore_eos = true;
  cfg.temperature = 0.0f;
  std::vector<double> pp, tg, ttft;
  size_t prompt_tokens = 0;
  for (int r = 0; r < a.reps; ++r) {
    const DecodedResult res = pipe.generate(prompt, cfg);
    const PerfMetrics& m = res.perf_metrics;
    prompt_tokens = res.prompt_tokens;
    if (m.ttft_ms.mean > 0) {
      ttft.push_back(m.ttft_ms.mean);
      pp.push_back(static_cast<double>(res.prompt_tokens) / (m.ttft_ms.mean / 1000.0));
    }
    if (m.throughput_tps.mean > 0) tg.push_back(m.throughput_tps.mean);
  }
  const Stat spp = stat(pp), stg = stat(tg), sttft = stat(ttft);
  const PipelineInfo info = pipe.info();
  if (a.json) {
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& f : info.failed_tiers)
      failed.push_back({{"tier", f.tier}, {"reason", f.reason}});
    nlohmann::json j = {{"model", a.model},
                        {"device", info.device},
                        {"tier", info.tier},
                        {"backend", info.backend},
                        {"failed_tiers", failed},
                        {"n_prompt", prompt_tokens},
                        {"n_gen", a.n_gen},
                        {"reps", a.reps},
                        {"prefill_tps", spp.median},
                        {"decode_tps", stg.median},
                        {"ttft_ms", sttft.median},
                        {"load_ms", load_ms},
                        {"peak_rss_mb", peak_rss_mb()}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("model       %s on %s (backend %s)\n", a.model.c_str(), info.tier.c_str(),
                info.backend.c_str());
    std::printf("load        %.1f ms\n", load_ms);
    std::printf("prefill %-4zu %.2f tok/s\n", prompt_tokens, spp.median);
    std::printf("decode  %-4d %.2f tok/s\n", a.n_gen, stg.median);
    std::printf("ttft        %.1f ms\n", sttft.median);
    std::printf("peak rss    %.1f MiB\n", peak_rss_mb());
  }
  return kExitOk;
}

int run_bench(const BenchArgs& a) {
  std::string device = a.device;
  for (auto& c : device) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (device != "CPU") return run_device_bench(a);
  const auto t_load = Clock::now();
  ModelLoadOptions lo;
  lo.n_threads = a.threads;
  lo.quantize = hf::parse_load_quantize(a.quantize);
  auto model = Qwen3Model::load(a.model, lo);
  const double load_ms = ms_since(t_load);
  const Qwen3Config& cfg = model->config();
  const int n_ctx = a.n_prompt + a.n_gen;
  if (n_ctx > cfg.max_context())
    throw std::invalid_argument("-p + -n = " + std::to_string(n_ctx) +
                                " exceeds the model's context of " +
                                std::to_string(cfg.max_context()));
  // Random regular-token prompt, as llama-bench does (content does not change speed).
  std::mt19937 rng(static_cast<uint32_t>(a.seed));
  const int id_limit = std::min(cfg.n_vocab, 151643);
  std::vector<int32_t> prompt(static_cast<size_t>(a.n_prompt));
  for (auto& id : prompt) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(id_limit));
  std::vector<float> logits(static_cast<size_t>(cfg.n_vocab));

  InferenceContext ctx(model, n_ctx, kv_type_or_default(a.kv_type), a.threads);
  ctx.set_lora(lora_set(a.lora, cfg));
  {  // warm-up: faults the weights in and starts the worker threads
    const int32_t id = prompt.empty() ? 0 : prompt[0];
    ctx.eval(&id, 1, logits.data());
    ctx.reset();
  }
  std::vector<double> pp, tg, ttft;
  for (int r = 0; r < a.reps; ++r) {
    ctx.reset();
    int next = 0;
    if (a.n_prompt > 0) {
      const auto t0 = Clock::now();
      ctx.eval(prompt.data(), a.n_prompt, logits.data());
      next = argmax(logits);
      const double ms = ms_since(t0);
      pp.push_back(a.n_prompt / (ms / 1000.0));
      ttft.push_back(ms);
    }
    if (a.n_gen > 0) {
      const auto t0 = Clock::now();
      for (int i = 0; i < a.n_gen; ++i) {
        const int32_t id = next;
        ctx.eval(&id, 1, logits.data());
        next = argmax(logits);
      }
      tg.push_back(a.n_gen / (ms_since(t0) / 1000.0));
    }
  }
  const Stat spp = stat(pp), stg = stat(tg), sttft = stat(ttft);
  const double rss = peak_rss_mb();
  if (a.json) {
    nlohmann::json j = {
        {"model", a.model},
        {"n_prompt", a.n_prompt},
        {"n_gen", a.n_gen},
        {"threads", ctx.n_threads()},
        {"quantize", a.quantize.empty() ? "none" : a.quantize},
        {"kv_type", kv_type_name(kv_type_or_default(a.kv_type))},
        {"lora", a.lora},
        {"reps", a.reps},
        {"simd", isa_name(isa_level())},
        {"isa", isa_name(isa_level())},
        {"cpu_flags", cpu_flags_string()},
        {"prefill_tps", spp.median},
        {"decode_tps", stg.median},
        {"ttft_ms", sttft.median},
        {"load_ms", load_ms},
        {"peak_rss_mb", rss},
        {"prefill_tps_stats", stat_json(spp)},
        {"decode_tps_stats", stat_json(stg)},
        {"ttft_ms_stats", stat_json(sttft)},
        {"prefill_tps_runs", pp},
        {"decode_tps_runs", tg},
    };
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("model       %s\n", a.model.c_str());
    std::printf("threads     %d (%s kernels; cpu: %s)\n", ctx.n_threads(), isa_name(isa_level()),
                cpu_flags_string().c_str());
    std::printf("load        %.1f ms\n", load_ms);
    std::printf("prefill %-4d %.2f tok/s  (min %.2f, max %.2f, sd %.2f; %d reps)\n", a.n_prompt,
                spp.median, spp.min, spp.max, spp.stddev, a.reps);
    std::printf("decode  %-4d %.2f tok/s  (min %.2f, max %.2f, sd %.2f)\n", a.n_gen, stg.median,
                stg.min, stg.max, stg.stddev);
    std::printf("ttft        %.1f ms\n", sttft.median);
    std::printf("peak rss    %.1f MiB\n", rss);
  }
  return kExitOk;
}

Registrar reg({"bench", "Prompt-processing and generation speed (tokens/s)", [](CLI::App& app) {
                 auto a = std::make_shared<BenchArgs>();
                 add_model_option(app, a->model);
                 app.add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens, evaluated at once")
                     ->check(CLI::Range(0, 1 << 20));
                 app.add_option("-n,--n-gen", a->n_gen, "Generated tokens, one at a time")
                     ->check(CLI::Range(0, 1 << 20));
                 add_threads_or_zero_option(app, a->threads);
                 app.add_option("-r,--repetitions", a->reps, "Repetitions (medians are reported)")
                     ->check(CLI::Range(1, 1000));
                 app.add_option("--seed", a->seed, "Seed of the random prompt");
                 app.add_flag("--json", a->json, "Print one JSON object");
                 add_quantize_option(app, a->quantize);
                 add_kv_type_option(app, a->kv_type);
                 add_device_options(app, a->dev, a->device);
                 add_lora_option(app, a->lora);
                 return [a]() -> int {
                   if (a->n_prompt == 0 && a->n_gen == 0)
                     throw std::invalid_argument("nothing to measure: -p and -n are both 0");
                   return run_bench(*a);
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
