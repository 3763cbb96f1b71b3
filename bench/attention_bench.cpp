// Prompt attention over the paged KV cache (kernels/attention_paged.h): a prompt chunk of
// `rows` tokens at positions p0..p0+rows-1 of one sequence attending causally, Qwen3-0.6B
// shapes (head dim 128, 8 KV heads of 2 query heads, fp16, blocks of 16 positions laid
// out as model/kv_cache.h lays them, scattered through the pool, 4 layers cycled so the
// keys and values come from beyond L2 as in a model). mode 0: each token on its own
// (attention_paged per row, the path before tiles); mode 1: tiles of 16 rows
// (attention_paged_rows, what model/attention.cpp runs). Same bits either way; items/s =
// prompt tokens per second of one thread.
// Run: build/attention_bench --benchmark_filter=Rows (args: p0, rows, mode)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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
      kv.f16 = true;
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

}  // namespace

BENCHMARK_MAIN();
