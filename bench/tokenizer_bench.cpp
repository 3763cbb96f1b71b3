// Encode throughput (MB/s of UTF-8 input) on the golden corpus, the same text
// bench/tokenizer_ref.mjs feeds @huggingface/tokenizers.
//   build-*/tokenizer_bench --benchmark_min_time=2s
#include <benchmark/benchmark.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "text/tokenizer.h"

namespace {

const qwen3::Tokenizer& tokenizer() {
  static const qwen3::Tokenizer tok = qwen3::Tokenizer::from_file(QWEN3_TOKENIZER_DIR);
  return tok;
}

const std::vector<std::string>& texts() {
  static const std::vector<std::string> all = [] {
    std::ifstream in(std::string(QWEN3_TOOLS_DIR) + "/../tests/golden/tokenizer_corpus.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> v;
    const auto j = nlohmann::json::parse(ss.str());
    for (const auto& c : j.at("cases")) {
      v.push_back(c.at("text").get<std::string>());
    }
    return v;
  }();
  return all;
}

// Each corpus string encoded on its own (chat-message sized inputs).
void BM_EncodeCorpusStrings(benchmark::State& state) {
  const auto& tok = tokenizer();
  size_t bytes = 0, ids = 0;
  for (const auto& t : texts()) bytes += t.size();
  for (auto _ : state) {
    for (const auto& t : texts()) {
      auto v = tok.encode(t);
      ids += v.size();
      benchmark::DoNotOptimize(v.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes * state.iterations()));
  state.counters["ids/iter"] = static_cast<double>(ids) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EncodeCorpusStrings)->Unit(benchmark::kMillisecond);

// The corpus joined by newlines into one document.
void BM_EncodeCorpusDocument(benchmark::State& state) {
  const auto& tok = tokenizer();
  std::string doc;
  for (const auto& t : texts()) doc += t + "\n";
  for (auto _ : state) {
    auto v = tok.encode(doc);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(doc.size() * state.iterations()));
}
BENCHMARK(BM_EncodeCorpusDocument)->Unit(benchmark::kMillisecond);

void BM_DecodeCorpusDocument(benchmark::State& state) {
  const auto& tok = tokenizer();
  std::string doc;
  for (const auto& t : texts()) doc += t + "\n";
  const auto ids = tok.encode(doc);
  for (auto _ : state) {
    auto s = tok.decode(ids);
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(doc.size() * state.iterations()));
}
BENCHMARK(BM_DecodeCorpusDocument)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
