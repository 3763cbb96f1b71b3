// Prompt attention over the paged KV cache (kernels/attention_paged.h): a prompt chunk of
// `rows` tokens at positions p0..p0+rows-1 of one sequence attending causally, Qwen3-0.6B
// shapes (head dim 128, 8 KV heads of 2 query heads, fp16, blocks of 16 positions laid
// out as model/kv_cache.h lays them, scattered through the pool, 4 layers cycled so the
// keys and values come from beyond L2 as in a model). mode 0: each token on its own
// (attention_paged per row, the path before tiles); mode 1: tiles of 16 rows
// (attention_paged_rows, what model/attention.cpp runs). Same bits either way; items/s =
// prompt tokens per second of one thread.
// BM_DecodeAttention: one decode step's attention of one layer for B sequences of `past`
// cached positions (0.6B shapes, the pool laid out as model/kv_cache.h lays it, 28
// layers; kv 0: fp16 elements, kv 1: q8_0, 1.0625 bytes an element), every (sequence, KV
// head) item on one thread; cold 1: before each layer its keys
// and values are flushed from the caches (as the weights streaming through a real step
// evict them), outside the timing; cold 0: one layer over and over, from the caches (the
// arithmetic alone). The time is the thread's CPU time. items/s = sequences per second of
// one thread and layer; time = one layer of all B sequences.
// BM_DecodeReadFloor: the cold case's loads alone (see there; kv as above).
// Run: build/attention_bench --benchmark_filter=Prompt (args: p0, rows, mode)
//      build/attention_bench --benchmark_filter=Decode (args: B, past, cold, kv)
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "kernels/attention_paged.h"
#include "kernels/fp16.h"

namespace {

constexpr int kDim = 128, kKvHeads = 8, kGroup = 2, kBlock = 16, kLayers = 4, kTile = 16;

void BM_PromptAttention(benchmark::State& state) {
  const int p0 = static_cast<int>(state.range(0)), rows = static_cast<int>(state.range(1));
  const bool tiles = state.range(2) != 0;
  const int n_pos = p0 + rows, n_blk = (n_pos + kBlock - 1) / kBlock;
  // Per block: [layer][K, V][head] groups of kBlock x kDim fp16.
  const std::size_t group = static_cast<std::size_t>(kBlock) * kDim;
  const std::size_t block_elems = group * 2 * kKvHeads * kLayers;
  std::vector<std::uint16_t> pool(block_elems * n_blk);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto& x : pool) x = qwen3::fp32_to_fp16(nd(rng));
  std::vector<int> table(static_cast<std::size_t>(n_blk));
  for (int i = 0; i < n_blk; ++i) table[static_cast<std::size_t>(i)] = i;
  std::shuffle(table.begin(), table.end(), rng);
  const int q_dim = kKvHeads * kGroup * kDim;
  std::vector<float> q(static_cast<std::size_t>(rows) * q_dim), out(q.size());
  for (auto& x : q) x = nd(rng);
  std::vector<float> scratch(
      qwen3::attention_paged_rows_scratch(n_pos - kTile + 1, kTile, kGroup, kBlock, kDim) +
      qwen3::attention_paged_scratch(n_pos, kGroup, kBlock));
  const float scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  int layer = 0;
  for (auto _ : state) {
    for (int g = 0; g < kKvHeads; ++g) {
      qwen3::PagedKv kv;
      const std::size_t at = (static_cast<std::size_t>(layer) * 2 * kKvHeads + g) * group;
      kv.k = pool.data() + at;
      kv.v = pool.data() + at + kKvHeads * group;
      kv.table = table.data();
      kv.block_bytes = block_elems * sizeof(std::uint16_t);
      kv.block_size = kBlock;
      kv.type = qwen3::KvType::F16;
      const std::size_t h0 = static_cast<std::size_t>(g) * kGroup * kDim;
      if (!tiles) {
        for (int i = 0; i < rows; ++i)
          qwen3::attention_paged(kv, p0 + i + 1, kDim, q.data() + i * q_dim + h0, kDim, kGroup,
                                 scale, out.data() + i * q_dim + h0, kDim, scratch.data());
        continue;
      }
      for (int i = 0; i < rows;) {
        const int n = std::min(rows - i, kTile - (p0 + i) % kTile);
        qwen3::PagedQueries qs;
        qs.q = q.data() + i * q_dim + h0;
        qs.out = out.data() + i * q_dim + h0;
        qs.row_stride = qs.out_row_stride = q_dim;
        qs.head_stride = qs.out_head_stride = kDim;
        qs.n_rows = n;
        qs.n_heads = kGroup;
        qs.n_keys = p0 + i + 1;
        qwen3::attention_paged_rows(kv, qs, kDim, scale, scratch.data());
        i += n;
      }
    }
    layer = (layer + 1) % kLayers;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_PromptAttention)
    ->ArgNames({"p0", "rows", "mode"})
    ->ArgsProduct({{0}, {128, 512}, {0, 1}})
    ->ArgsProduct({{1536, 3584}, {64}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

double cpu_seconds() {  // this thread's CPU time: robust on a busy machine
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Bytes of one head's rows of one block (model/kv_cache.h): fp16, or q8_0 (int8 quants,
// then an fp16 scale per 32 elements, padded to 64 bytes).
std::size_t head_rows_bytes(bool q8) {
  const std::size_t elems = static_cast<std::size_t>(kBlock) * kDim;
  return q8 ? (elems + elems / 16 + 63) / 64 * 64 : elems * sizeof(std::uint16_t);
}

// Fills one head's rows: fp16 of normal(0, 0.3), or q8_0 quants of about that spread.
void fill_rows(std::uint8_t* p, bool q8, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::size_t elems = static_cast<std::size_t>(kBlock) * kDim;
  if (!q8) {
    auto* h = reinterpret_cast<std::uint16_t*>(p);
    for (std::size_t i = 0; i < elems; ++i) h[i] = qwen3::fp32_to_fp16(nd(rng) * 0.3f);
    return;
  }
  auto* q = reinterpret_cast<std::int8_t*>(p);
  for (std::size_t i = 0; i < elems; ++i)
    q[i] = static_cast<std::int8_t>(std::clamp(nd(rng) * 40.0f, -127.0f, 127.0f));
  auto* sc = reinterpret_cast<std::uint16_t*>(p + elems);
  for (std::size_t i = 0; i < elems / 32; ++i) sc[i] = qwen3::fp32_to_fp16(0.3f / 40.0f);
}

void BM_DecodeAttention(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), past = static_cast<int>(state.range(1));
  const bool cold = state.range(2) != 0, q8 = state.range(3) != 0;
  constexpr int kModelLayers = 28;
  const int n_blk = (past + kBlock - 1) / kBlock;
  const std::size_t group = head_rows_bytes(q8);  // one head's rows, bytes
  const std::size_t block_bytes = group * 2 * kKvHeads * kModelLayers;
  // In huge pages where the kernel gives them, as KvPool asks.
  const std::size_t n_groups = static_cast<std::size_t>(2) * kKvHeads * kModelLayers * n_blk * B;
  const std::size_t huge = std::size_t{2} << 20;
  const std::size_t bytes = (n_groups * group + huge - 1) / huge * huge;
  std::unique_ptr<std::uint8_t, void (*)(void*)> mem(
      static_cast<std::uint8_t*>(std::aligned_alloc(huge, bytes)), std::free);
  madvise(mem.get(), bytes, MADV_HUGEPAGE);
  std::uint8_t* pool = mem.get();
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::size_t i = 0; i < n_groups; ++i) fill_rows(pool + i * group, q8, rng);
  // Sequence s holds blocks s * n_blk .. (s + 1) * n_blk - 1 (as prompts fill a pool).
  std::vector<int> table(static_cast<std::size_t>(n_blk) * B);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int>(i);
  const int q_dim = kKvHeads * kGroup * kDim;
  std::vector<float> q(static_cast<std::size_t>(B) * q_dim), out(q.size());
  for (auto& x : q) x = nd(rng);
  std::vector<float> scratch(qwen3::attention_paged_scratch(past, kGroup, kBlock) + 1024);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  int layer = 0;
  for (auto _ : state) {
    // Out of the caches: this layer's keys and values of every block.
    const std::size_t layer_at = static_cast<std::size_t>(layer) * 2 * kKvHeads * group;
    for (std::size_t b = 0; cold && b < table.size(); ++b) {
      const std::uint8_t* p = pool + b * block_bytes + layer_at;
      for (std::size_t o = 0; o < 2 * kKvHeads * group; o += 64) _mm_clflush(p + o);
    }
    _mm_mfence();
    const double t0 = cpu_seconds();
    for (int s = 0; s < B; ++s)
      for (int g = 0; g < kKvHeads; ++g) {
        qwen3::PagedKv kv;
        kv.k = pool + layer_at + g * group;
        kv.v = pool + layer_at + (kKvHeads + g) * group;
        kv.table = table.data() + static_cast<std::size_t>(s) * n_blk;
        kv.block_bytes = block_bytes;
        kv.block_size = kBlock;
        kv.type = q8 ? qwen3::KvType::Q8_0 : qwen3::KvType::F16;
        const std::size_t at = static_cast<std::size_t>(s) * q_dim + g * kGroup * kDim;
        qwen3::attention_paged(kv, past, kDim, q.data() + at, kDim, kGroup, scale, out.data() + at,
                               kDim, scratch.data());
      }
    state.SetIterationTime(cpu_seconds() - t0);
    if (cold) layer = (layer + 1) % kModelLayers;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * B);
}
BENCHMARK(BM_DecodeAttention)
    ->ArgNames({"B", "past", "cold", "kv"})
    ->ArgsProduct({{1, 4, 8}, {160}, {1}, {0, 1}})
    ->ArgsProduct({{1, 4}, {2048}, {1}, {0, 1}})
    ->ArgsProduct({{1, 4}, {160}, {0}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// BM_DecodeReadFloor: the memory floor of BM_DecodeAttention's cold case, the same pool,
// flushes and timing, but each item only reads every line of its key and value groups
// (the next group prefetched while one is read, as the kernel spreads its prefetches):
// what one thread's loads of that access pattern cost without any arithmetic.
void BM_DecodeReadFloor(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), past = static_cast<int>(state.range(1));
  constexpr int kModelLayers = 28;
  const int n_blk = (past + kBlock - 1) / kBlock;
  const std::size_t group = head_rows_bytes(state.range(2) != 0);
  const std::size_t block_bytes = group * 2 * kKvHeads * kModelLayers;
  const std::size_t huge = std::size_t{2} << 20;
  const std::size_t bytes = (block_bytes * n_blk * B + huge - 1) / huge * huge;
  std::unique_ptr<char, void (*)(void*)> mem(static_cast<char*>(std::aligned_alloc(huge, bytes)),
                                             std::free);
  madvise(mem.get(), bytes, MADV_HUGEPAGE);
  for (std::size_t i = 0; i < bytes; i += 64) mem.get()[i] = static_cast<char>(i);
  std::vector<const char*> groups(2 * static_cast<std::size_t>(n_blk));
  __m128 acc = _mm_setzero_ps();  // (one load per line: the line is what costs)
  int layer = 0;
  for (auto _ : state) {
    const std::size_t layer_at = static_cast<std::size_t>(layer) * 2 * kKvHeads * group;
    for (int b = 0; b < n_blk * B; ++b)
      for (std::size_t o = 0; o < 2 * kKvHeads * group; o += 64)
        _mm_clflush(mem.get() + b * block_bytes + layer_at + o);
    _mm_mfence();
    const double t0 = cpu_seconds();
    for (int s = 0; s < B; ++s)
      for (int g = 0; g < kKvHeads; ++g) {
        for (int j = 0; j < n_blk; ++j) {
          const char* k = mem.get() + (static_cast<std::size_t>(s) * n_blk + j) * block_bytes +
                          layer_at + g * group;
          groups[2 * j] = k;
          groups[2 * j + 1] = k + kKvHeads * group;
        }
        for (std::size_t c = 0; c < groups.size(); ++c) {
          if (c + 1 < groups.size())
            for (std::size_t o = 0; o < group; o += 64)
              _mm_prefetch(groups[c + 1] + o, _MM_HINT_T0);
          for (std::size_t o = 0; o < group; o += 64)
            acc = _mm_add_ps(acc, _mm_loadu_ps(reinterpret_cast<const float*>(groups[c] + o)));
        }
      }
    state.SetIterationTime(cpu_seconds() - t0);
    layer = (layer + 1) % kModelLayers;
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * B);
  state.SetBytesProcessed(state.iterations() * B * kKvHeads * 2 * n_blk *
                          static_cast<std::int64_t>(group));
}
BENCHMARK(BM_DecodeReadFloor)
    ->ArgNames({"B", "past", "kv"})
    ->ArgsProduct({{1, 4, 8}, {160}, {0, 1}})
    ->ArgsProduct({{1, 4}, {2048}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
