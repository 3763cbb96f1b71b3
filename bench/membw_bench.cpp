// The machine's memory read bandwidth: the physical limit of decode, which reads every
// weight once per token. Streams a buffer much larger than the L3 with AVX2 loads,
// split over the thread pool like matmul is.
// Run: build/membw_bench   (reports GB/s per thread count)
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "kernels/thread_pool.h"

namespace {

// kPrefetch: floats ahead to software-prefetch (0 = hardware prefetcher only). The matmul
// kernels prefetch 2 KiB ahead, so the bound they are held to is the prefetched rate.
template <int kPrefetch>
__attribute__((target("avx2"))) float sum_range(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    if constexpr (kPrefetch > 0) {
      _mm_prefetch(reinterpret_cast<const char*>(p + i + kPrefetch), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p + i + kPrefetch + 16), _MM_HINT_T0);
    }
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

template <int kPrefetch>
void BM_ReadBandwidth(benchmark::State& state) {
  const int64_t bytes = int64_t{512} << 20;  // 16x the L3
  const int64_t n = bytes / 4;
  static float* buf = [&] {
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    std::memset(p, 0, bytes);  // fault every page in before timing
    return p;
  }();
  qwen3::ThreadPool pool(static_cast<int>(state.range(0)));
  const int64_t chunk = 4096;  // floats; contiguous chunks per thread
  for (auto _ : state) {
    std::vector<float> partial(pool.size(), 0.f);
    pool.parallel_for(n / chunk, [&](int64_t b, int64_t e, int t) {
      partial[t] += sum_range<kPrefetch>(buf + b * chunk, (e - b) * chunk);
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(bytes) * state.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_TEMPLATE(BM_ReadBandwidth, 0)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_ReadBandwidth, 512)  // 2 KiB ahead, like the kernels
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
