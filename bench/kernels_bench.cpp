// matmul throughput per weight type on the Qwen3-0.6B shapes: decode (1 token,
// memory-bound: weight GB/s) and prefill (128 tokens, compute-bound: GFLOP/s).
// BM_MatmulRows8: weights in the rows8 layout (what the model uses on AVX2 and above),
// at the best ISA level; BM_Rows8Isa: the same per ISA level (isa 1 = avx2, 2 = avx_vnni,
// 3 = avx512, 5 = amx; levels the CPU lacks are skipped).
// BM_SmallBatch: the decode step of several sequences at once (continuous batching):
// 1, 2, 4 and 8 tokens on every 0.6B shape incl. the lm_head (and 1 token on the 8B's
// FFN down projection), rows8 layout; a memory-bound step should cost about the same for
// 4 tokens as for 1. The weights come from DRAM (cold = 1: the product cycles through
// copies of W, in huge pages), as in a model's decode.
// BM_FewIsa: 2-15 tokens at the avx512 and amx levels (where the few-token tiles pay).
// Run: build/kernels_bench --benchmark_filter='Q4_0' (args: rows, cols, n_tok, threads)
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"

namespace {

using qwen3::GgmlType;

struct Weights {
  std::vector<uint8_t> data;
};

// Quantized random weights, built once per (type, shape) and shared across runs.
const std::vector<uint8_t>& weights(GgmlType t, int64_t rows, int64_t cols) {
  static std::vector<std::pair<std::tuple<int, int64_t, int64_t>, std::vector<uint8_t>>> cache;
  const auto key = std::make_tuple(static_cast<int>(t), rows, cols);
  for (auto& [k, v] : cache)
    if (k == key) return v;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 0.05f);
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t rs = qwen3::ggml_row_size(t, cols);
  std::vector<uint8_t> w(rs * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = dist(rng);
    qwen3::quantize_row(t, row.data(), w.data() + r * rs, cols);
  }
  cache.emplace_back(key, std::move(w));
  return cache.back().second;
}

// Memory for the packed copies in transparent huge pages, as the model loader puts its
// repacked weights (alloc_weights in qwen3_model.cpp): in 4 KiB pages the cold rows
// also measure a page walk every 4 KiB, which decode does not pay.
struct HugeBytes {
  std::unique_ptr<uint8_t[]> own;
  uint8_t* data = nullptr;
  void resize(size_t n) {
    const uintptr_t huge = uintptr_t(2) << 20;
    own.reset(new uint8_t[n + huge]);
    const uintptr_t lo = (reinterpret_cast<uintptr_t>(own.get()) + huge - 1) / huge * huge;
    data = reinterpret_cast<uint8_t*>(lo);
#ifdef MADV_HUGEPAGE
    madvise(data, (n + huge - 1) / huge * huge, MADV_HUGEPAGE);
#endif
  }
};

// Bytes the cold rows cycle through: twice the last-level cache (sysfs), at least
// 192 MiB. The Intel VM of session 14 reports a 480 MiB L3 (shared with other guests):
// with a 192 MiB footprint part of the "cold" weights came from it, and 3072x1024 Q4_0
// at 1 token, 2 threads, read 57-61 us (~30 GB/s) against 72-74 us (~24 GB/s) with
// 350-530 MiB, the rate a 0.6B decode step streams its 366 MiB at.
size_t cold_footprint() {
  size_t llc = 0;
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream level(dir + "level"), size(dir + "size");
    int lv = 0;
    std::string sz;
    if (!(level >> lv) || !(size >> sz) || sz.empty()) continue;
    size_t v = std::strtoull(sz.c_str(), nullptr, 10);
    const char unit = sz.back();
    v <<= unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0;
    if (lv >= 3) llc = std::max(llc, v);
  }
  return std::max(size_t{192} << 20, 2 * llc);
}

// cold: the weights come from DRAM as in a real decode step (a model's weights do not
// fit in the caches): the product cycles through copies of W totalling cold_footprint().
void run_matmul(benchmark::State& state, GgmlType t, bool rows8, bool cold = false) {
  const int64_t rows = state.range(0), cols = state.range(1), n_tok = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto& w = weights(t, rows, cols);
  std::vector<float> x(static_cast<size_t>(n_tok * cols)), y(static_cast<size_t>(n_tok * rows));
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (auto& v : x) v = dist(rng);
  qwen3::ThreadPool pool(threads);
  qwen3::WeightMatrix W{t, rows, cols, w.data()};
  if (rows8 && !qwen3::prefers_rows8(W)) {
    state.SkipWithError("no rows8 layout here");
    return;
  }
  const size_t bytes = rows8 ? qwen3::rows8_bytes(W) : w.size();
  const size_t copies = cold ? std::max<size_t>(1, cold_footprint() / bytes + 1) : 1;
  HugeBytes packed;
  std::vector<qwen3::WeightMatrix> mats;
  if (rows8 || cold) {
    packed.resize(bytes * copies);
    if (rows8)
      qwen3::to_rows8(W, packed.data, pool);
    else
      std::copy(w.begin(), w.end(), packed.data);
    for (size_t i = 1; i < copies; ++i)
      std::copy(packed.data, packed.data + bytes, packed.data + i * bytes);
    for (size_t i = 0; i < copies; ++i)
      mats.push_back({t, rows, cols, packed.data + i * bytes,
                      rows8 ? qwen3::WeightLayout::Rows8 : qwen3::WeightLayout::Plain});
  } else {
    mats.push_back(W);
  }
  size_t next = 0;
  for (auto _ : state) {
    qwen3::matmul(mats[next], x.data(), n_tok, y.data(), pool);
    next = next + 1 == mats.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(w.size()) * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * cols * n_tok * it / 1e9, benchmark::Counter::kIsRate);
}

void BM_Matmul(benchmark::State& state, GgmlType t) {
  run_matmul(state, t, false);
}
// The same with the weights in the interleaved rows8 layout the model loader uses.
void BM_MatmulRows8(benchmark::State& state, GgmlType t) {
  run_matmul(state, t, true);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tok", "thr"});
  for (int thr : {1, 2}) {
    for (auto [r, c] : {std::pair<int64_t, int64_t>{1024, 1024}, {3072, 1024}, {1024, 3072}}) {
      b->Args({r, c, 1, thr});
      b->Args({r, c, 128, thr});
    }
    b->Args({151936, 1024, 1, thr});  // lm_head: decode only (prefill needs the last row)
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(BM_Matmul, Q4_0, GgmlType::Q4_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q8_0, GgmlType::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q4_K, GgmlType::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q5_K, GgmlType::Q5_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q6_K, GgmlType::Q6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_MatmulRows8, Q4_0, GgmlType::Q4_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_MatmulRows8, Q8_0, GgmlType::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_MatmulRows8, Q4_K, GgmlType::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_MatmulRows8, Q5_K, GgmlType::Q5_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_MatmulRows8, Q6_K, GgmlType::Q6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, F16, GgmlType::F16)->Apply(shapes);

// The rows8 kernels per ISA level: decode (1 token), short chunks (16, 32 tokens: where
// the amx level starts to use tiles) and a prompt (128 tokens) on the 0.6B FFN shape,
// one and two threads.
// run_matmul (rows8) at the ISA level of argument `isa_arg`, warm or cold.
void run_at_level(benchmark::State& state, GgmlType t, int isa_arg, bool cold) {
  const auto level = static_cast<qwen3::IsaLevel>(state.range(isa_arg));
  if (!qwen3::cpu_has(level)) {
    state.SkipWithError("this CPU lacks the level");
    return;
  }
  const qwen3::IsaLevel before = qwen3::isa_level();
  qwen3::set_isa(level);
  run_matmul(state, t, true, cold);
  qwen3::set_isa(before);
  state.SetLabel(qwen3::isa_name(level));
}
void BM_Rows8Isa(benchmark::State& state, GgmlType t) {
  run_at_level(state, t, 4, false);
}
void isa_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tok", "thr", "isa"});
  for (int thr : {1, 2})
    for (int tok : {1, 16, 32, 128})
      for (int isa : {1, 2, 3, 5}) b->Args({3072, 1024, tok, thr, isa});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK_CAPTURE(BM_Rows8Isa, Q4_0, GgmlType::Q4_0)->Apply(isa_shapes);
BENCHMARK_CAPTURE(BM_Rows8Isa, Q8_0, GgmlType::Q8_0)->Apply(isa_shapes);
BENCHMARK_CAPTURE(BM_Rows8Isa, Q4_K, GgmlType::Q4_K)->Apply(isa_shapes);
BENCHMARK_CAPTURE(BM_Rows8Isa, Q5_K, GgmlType::Q5_K)->Apply(isa_shapes);
BENCHMARK_CAPTURE(BM_Rows8Isa, Q6_K, GgmlType::Q6_K)->Apply(isa_shapes);

// Few tokens (decode steps of 2-15 sequences) at the avx512 and amx levels (the amx
// level's few-token tile kernel, matmul_rows8_amx_few.cpp): where the tiles start to pay
// per type, warm (compute) and cold (weights from DRAM, as in decode), one thread, the
// 0.6B FFN down shape (3072x1024).
void BM_FewIsa(benchmark::State& state, GgmlType t) {
  run_at_level(state, t, 5, state.range(4) != 0);
}
void few_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tok", "thr", "cold", "isa"});
  for (int cold : {0, 1})
    for (int tok : {2, 4, 8, 9, 10, 11, 12, 13, 15})
      for (int isa : {3, 5}) b->Args({3072, 1024, tok, 1, cold, isa});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK_CAPTURE(BM_FewIsa, Q4_0, GgmlType::Q4_0)->Apply(few_shapes);
BENCHMARK_CAPTURE(BM_FewIsa, Q8_0, GgmlType::Q8_0)->Apply(few_shapes);
BENCHMARK_CAPTURE(BM_FewIsa, Q4_K, GgmlType::Q4_K)->Apply(few_shapes);
BENCHMARK_CAPTURE(BM_FewIsa, Q5_K, GgmlType::Q5_K)->Apply(few_shapes);
BENCHMARK_CAPTURE(BM_FewIsa, Q6_K, GgmlType::Q6_K)->Apply(few_shapes);

// Small batches (decode steps of 1-8 sequences) in the rows8 layout at the best level.
void BM_SmallBatch(benchmark::State& state, GgmlType t) {
  run_matmul(state, t, true, state.range(4) != 0);
}
void small_batch_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tok", "thr", "cold"});
  for (int thr : {1, 2})
    for (auto [r, c] :
         {std::pair<int64_t, int64_t>{1024, 1024}, {3072, 1024}, {1024, 3072}, {151936, 1024}})
      for (int tok : {1, 2, 4, 8}) b->Args({r, c, tok, thr, 1});
  // The 8B's FFN down projection (12,288 columns): decode's token row no longer fits L1.
  for (int thr : {1, 2}) b->Args({4096, 12288, 1, thr, 1});
  // Warm (the weights in L2/L3): the kernels' compute alone.
  for (int tok : {1, 2, 4, 8}) b->Args({3072, 1024, tok, 1, 0});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK_CAPTURE(BM_SmallBatch, Q4_0, GgmlType::Q4_0)->Apply(small_batch_shapes);
BENCHMARK_CAPTURE(BM_SmallBatch, Q8_0, GgmlType::Q8_0)->Apply(small_batch_shapes);
BENCHMARK_CAPTURE(BM_SmallBatch, Q4_K, GgmlType::Q4_K)->Apply(small_batch_shapes);
BENCHMARK_CAPTURE(BM_SmallBatch, Q5_K, GgmlType::Q5_K)->Apply(small_batch_shapes);
BENCHMARK_CAPTURE(BM_SmallBatch, Q6_K, GgmlType::Q6_K)->Apply(small_batch_shapes);

BENCHMARK_MAIN();
