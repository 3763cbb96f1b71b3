// Cost of constrained decoding next to the decode step it rides on:
//   build/structured_output_bench MODEL.gguf [schemas] [max_tokens] [threads]
// For each JSON Schema of a real-world-shaped set: the schema's compile time (GBNF + DFA),
// one constrained reply (greedy, thinking off) through Pipeline, then the same tokens
// replayed through a fresh DecodeController to time exactly the mask work of that reply (a
// grammar object of its own, so the first replay computes every mask: a first request), then
// again on the same grammar (a later request: masks from the process-wide cache).
// Prints per schema and the median of mask time / decode time per token (the issue's
// <= 10% target), plus unconstrained vs constrained decode tok/s measured side by side.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/structured_output.h"
#include "qwen3/pipeline.h"
#include "text/grammar.h"
#include "text/tokenizer.h"

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Real-world shapes: users, orders, events, configs, nested refs, enums, formats.
std::vector<Json> schema_set(std::size_t n) {
  const char* base[] = {
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":24},"age":{"type":"integer","minimum":0,"maximum":120},"email":{"type":"string","format":"email"}},"required":["name","age","email"],"additionalProperties":false})",
      R"({"type":"object","properties":{"order_id":{"type":"string","format":"uuid"},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{4}$"},"qty":{"type":"integer","minimum":1,"maximum":99}},"required":["sku","qty"]},"minItems":1,"maxItems":4},"total":{"type":"number","minimum":0,"maximum":10000}},"required":["order_id","items","total"]})",
      R"({"type":"object","properties":{"event":{"enum":["click","view","purchase"]},"at":{"type":"string","format":"date-time"},"meta":{"type":"object","properties":{"source":{"type":"string","maxLength":16},"ok":{"type":"boolean"}},"required":["ok"]}},"required":["event","at","meta"]})",
      R"({"$defs":{"addr":{"type":"object","properties":{"street":{"type":"string","maxLength":32},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street","zip"]}},"type":"object","properties":{"home":{"$ref":"#/$defs/addr"},"work":{"anyOf":[{"$ref":"#/$defs/addr"},{"type":"null"}]}},"required":["home","work"]})",
      R"({"type":"array","items":{"type":"object","properties":{"q":{"type":"string","maxLength":40},"score":{"type":"number","minimum":0,"maximum":1}},"required":["q","score"]},"maxItems":3})",
      R"({"type":"object","properties":{"title":{"type":"string","maxLength":60},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":5},"draft":{"type":"boolean"},"level":{"type":"integer","minimum":1,"maximum":5}},"required":["title","tags","draft","level"]})",
  };
  std::vector<Json> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(Json::parse(base[i % std::size(base)]));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [schemas=12] [max_tokens=128] [threads=0]\n",
                 argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  const std::size_t n_schemas = argc > 2 ? std::stoul(argv[2]) : 12;
  const std::size_t max_tokens = argc > 3 ? std::stoul(argv[3]) : 128;
  qwen3::Properties props;
  if (argc > 4 && std::stoi(argv[4]) > 0) props["n_threads"] = argv[4];
  qwen3::Pipeline pipe(model, "CPU", props);
  const qwen3::Tokenizer tok = qwen3::Tokenizer::from_file(model);
  (void)qwen3::engine::TokenTrie::of(tok);  // built once per tokenizer
  {
    const auto t0 = Clock::now();
    const auto trie = qwen3::engine::TokenTrie::build(tok);
    std::printf("token trie: %zu tokens, %.1f ms to build\n", trie.ids.size(),
                ms(t0, Clock::now()));
  }
  std::vector<double> ratios, masks, warm, decodes, compile_ms;
  double free_tps_sum = 0, constrained_tps_sum = 0;
  int k = 0;
  for (const Json& schema : schema_set(n_schemas)) {
    qwen3::StructuredOutputConfig so;
    so.json_schema = schema.dump();
    const auto c0 = Clock::now();
    const std::string gbnf = qwen3::engine::structured_output_gbnf(so, &tok);
    const auto grammar =
        std::make_shared<const qwen3::text::CompiledGrammar>(qwen3::text::compile_gbnf(gbnf));
    compile_ms.push_back(ms(c0, Clock::now()));

    qwen3::GenerationConfig cfg;
    cfg.max_new_tokens = max_tokens;
    cfg.min_reply_tokens = max_tokens;
    cfg.enable_thinking = false;
    cfg.temperature = 0.0f;
    // Side by side: the same prompt free, then constrained.
    qwen3::GenerationConfig free_cfg = cfg;
    free_cfg.ignore_eos = true;
    const auto rf = pipe.generate("Reply with JSON #" + std::to_string(k), free_cfg);
    cfg.structured_output = so;
    const auto r = pipe.generate("Reply with JSON #" + std::to_string(k), cfg);
    ++k;
    const double decode_ms = r.perf_metrics.tpot_ms.mean;
    free_tps_sum += rf.perf_metrics.throughput_tps.mean;
    constrained_tps_sum += r.perf_metrics.throughput_tps.mean;

    // Replay the reply's tokens to time the mask work alone.
    qwen3::engine::DecodeController d(tok, grammar, false, false, {});
    double mask_total = 0;
    std::size_t steps = 0;
    for (auto id : r.tokens) {
      const auto m0 = Clock::now();
      (void)d.forced();
      (void)d.mask();
      mask_total += ms(m0, Clock::now());
      ++steps;
      d.accept(id);
    }
    const double mask_ms = steps ? mask_total / static_cast<double>(steps) : 0;
    // A second request on the same compiled grammar: its states' masks come from the
    // process-wide cache the first replay filled.
    qwen3::engine::DecodeController d2(tok, grammar, false, false, {});
    double warm_total = 0;
    for (auto id : r.tokens) {
      const auto m0 = Clock::now();
      (void)d2.forced();
      (void)d2.mask();
      warm_total += ms(m0, Clock::now());
      d2.accept(id);
    }
    warm.push_back(steps ? warm_total / static_cast<double>(steps) : 0);
    masks.push_back(mask_ms);
    decodes.push_back(decode_ms);
    ratios.push_back(decode_ms > 0 ? mask_ms / decode_ms : 0);
    std::printf(
        "schema %2d: compile %7.2f ms | %3zu tokens (%s) | mask %.3f ms/token (cached across "
        "requests %.3f) | decode %.2f ms/token | mask/decode %.1f%%\n",
        k, compile_ms.back(), r.tokens.size(), qwen3::to_string(r.finish_reason), mask_ms,
        warm.back(), decode_ms, 100.0 * ratios.back());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  std::printf(
      "median: compile %.2f ms, mask %.3f ms/token (second request %.3f), decode %.2f ms/token, "
      "mask/decode %.1f%%\n",
      median(compile_ms), median(masks), median(warm), median(decodes), 100.0 * median(ratios));
  std::printf(
      "decode tok/s (mean over schemas, side by side): free %.1f, constrained %.1f (ratio %.3f)\n",
      free_tps_sum / k, constrained_tps_sum / k, constrained_tps_sum / free_tps_sum);
  return 0;
}
