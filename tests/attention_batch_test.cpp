// batch_attention (model/attention.h) over many sequences of one paged KvPool: a batch of
// decode tokens of sequences at different lengths and prompt chunks of others (runs of
// consecutive positions that cross tile and block boundaries, so both the one-row kernel
// and the tiles of kernels/attention_paged.h run). Every token's output must be the bits
// it gets alone in a batch of one (a decode step of its own), the same with 1, 2 and 3
// threads, the same on every SIMD level, and within tolerance of the scalar reference
// (attention_paged_ref) over its own keys. The engine relies on the first: a sequence's
// logits do not depend on what else is in the batch. fp16, float and q8_0 caches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_paged.h"
#include "kernels/cpu_features.h"
#include "kernels/thread_pool.h"
#include "kernels_test_util.h"
#include "model/attention.h"
#include "model/kv_cache.h"

namespace qwen3 {
namespace {

constexpr int kLayers = 2, kLayer = 1;  // attend over layer 1: the layer offset counts

struct Setup {
  AttentionShape shape;
  std::unique_ptr<KvPool> pool;
  std::vector<std::unique_ptr<KvSequence>> seqs;
  std::vector<AttentionToken> toks;
  std::vector<float> q;  // n_tok x n_head * head_dim
};

// Sequences of the given lengths in one pool, their blocks interleaved (each sequence
// grows a block at a time in turn, as a serving pool fills), every row of every layer
// holding random keys and values; then the batch: per sequence s, positions from[s] ..
// len[s] - 1 (one position: a decode token; more: a prompt chunk).
Setup make_setup(int n_head, int n_head_kv, int head_dim, KvType type, const std::vector<int>& len,
                 const std::vector<int>& from, std::uint32_t seed) {
  Setup st;
  st.shape = {n_head, n_head_kv, head_dim};
  int blocks = 0;
  for (int l : len) blocks += (l + kKvBlockSize - 1) / kKvBlockSize;
  st.pool = std::make_unique<KvPool>(kLayers, n_head_kv, head_dim, kKvBlockSize, blocks + 2, type);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int l : len) st.seqs.push_back(std::make_unique<KvSequence>(*st.pool, l, false));
  const int row = n_head_kv * head_dim;
  std::vector<float> k(static_cast<std::size_t>(row)), v(k.size());
  for (int done = 0, pos = 0; done < static_cast<int>(len.size()); pos += kKvBlockSize) {
    done = 0;
    for (std::size_t s = 0; s < len.size(); ++s) {
      const int n = std::min(kKvBlockSize, len[s] - pos);
      if (n <= 0) {
        ++done;
        continue;
      }
      KvSequence& seq = *st.seqs[s];
      EXPECT_EQ(seq.reserve(n), n);
      for (int p = pos; p < pos + n; ++p) {
        for (int layer = 0; layer < kLayers; ++layer) {
          for (float& x : k) x = nd(rng) * 1.5f;
          for (float& x : v) x = nd(rng);
          st.pool->store(seq.block(p), p % kKvBlockSize, layer, k.data(), v.data());
        }
      }
      const std::vector<std::int32_t> ids(static_cast<std::size_t>(n), 7);
      seq.commit(ids.data(), n);
    }
  }
  for (std::size_t s = 0; s < len.size(); ++s)
    for (int p = from[s]; p < len[s]; ++p) st.toks.push_back({st.seqs[s].get(), p});
  st.q.resize(st.toks.size() * static_cast<std::size_t>(n_head) * head_dim);
  for (float& x : st.q) x = nd(rng);
  return st;
}

std::vector<float> run_batch(const Setup& st, const AttentionToken* toks, const float* q, int n_tok,
                             int threads) {
  ThreadPool pool(threads);
  auto scratch = make_attention_scratch(threads, 1024, st.shape.head_dim);
  std::vector<float> out(static_cast<std::size_t>(n_tok) * st.shape.n_head * st.shape.head_dim,
                         -7.0f);
  batch_attention(kLayer, st.shape, toks, q, n_tok, out.data(), pool, scratch);
  return out;
}

// Every token alone (a batch of one), in batch order.
std::vector<float> run_alone(const Setup& st) {
  const std::size_t q_dim = static_cast<std::size_t>(st.shape.n_head) * st.shape.head_dim;
  std::vector<float> out;
  for (std::size_t t = 0; t < st.toks.size(); ++t) {
    const auto one = run_batch(st, &st.toks[t], st.q.data() + t * q_dim, 1, 1);
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

// The scalar reference over each token's own keys, per KV head's group of query heads.
std::vector<float> run_reference(const Setup& st) {
  const int hd = st.shape.head_dim, group = st.shape.n_head / st.shape.n_head_kv;
  const std::size_t q_dim = static_cast<std::size_t>(st.shape.n_head) * hd;
  std::vector<float> out(st.toks.size() * q_dim);
  for (std::size_t t = 0; t < st.toks.size(); ++t) {
    const KvSequence& seq = *st.toks[t].seq;
    const int keys = st.toks[t].pos + 1;
    std::vector<float> scratch(attention_paged_scratch(keys, group, kKvBlockSize));
    for (int g = 0; g < st.shape.n_head_kv; ++g) {
      PagedKv kv;
      kv.k = st.pool->k_rows(0, kLayer, g);
      kv.v = st.pool->v_rows(0, kLayer, g);
      kv.table = seq.table();
      kv.block_bytes = st.pool->block_bytes();
      kv.block_size = kKvBlockSize;
      kv.type = st.pool->type();
      const std::size_t at = t * q_dim + static_cast<std::size_t>(g) * group * hd;
      attention_paged_ref(kv, keys, hd, st.q.data() + at, hd, group,
                          1.0f / std::sqrt(static_cast<float>(hd)), out.data() + at, hd,
                          scratch.data());
    }
  }
  return out;
}

double max_rel(const std::vector<float>& got, const std::vector<float>& want) {
  double e = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    e = std::max(e, std::fabs(static_cast<double>(got[i]) - want[i]) / (1.0 + std::fabs(want[i])));
  return e;
}

struct BatchCase {
  int n_head, n_head_kv, head_dim;
  KvType type;
  std::vector<int> len, from;
};

void check(const BatchCase& c, std::uint32_t seed) {
  const Setup st = make_setup(c.n_head, c.n_head_kv, c.head_dim, c.type, c.len, c.from, seed);
  const int n_tok = static_cast<int>(st.toks.size());
  const std::string what = "heads " + std::to_string(c.n_head) + "/" + std::to_string(c.n_head_kv) +
                           " dim " + std::to_string(c.head_dim) + " " + kv_type_name(c.type) +
                           ", " + std::to_string(n_tok) + " tokens";
  const auto want = run_reference(st);
  std::vector<float> first_simd;
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    const auto alone = run_alone(st);
    EXPECT_LT(max_rel(alone, want), 2e-5) << isa_name(l) << ", " << what;
    for (int threads = 1; threads <= 3; ++threads) {
      const auto got = run_batch(st, st.toks.data(), st.q.data(), n_tok, threads);
      ASSERT_EQ(got, alone) << isa_name(l) << ", " << threads << " threads: the batch differs "
                            << "from each token alone, " << what;
    }
    if (l == IsaLevel::Scalar) continue;
    if (first_simd.empty())
      first_simd = alone;
    else
      EXPECT_EQ(alone, first_simd) << isa_name(l) << " differs from the first SIMD level, " << what;
  }
}

// Qwen3-0.6B's attention shape (16 query heads on 8 KV heads of 128): eight sequences,
// five decoding at lengths around block boundaries, three with prompt chunks that start
// inside a tile, span several tiles, or end mid-block.
TEST(AttentionBatch, ManySequencesEachTokenGetsItsBitsAlone) {
  check({16,
         8,
         128,
         KvType::F16,
         {1, 16, 17, 33, 160, 70, 61, 140},
         {0, 15, 16, 32, 159, 5, 16, 100}},
        20261207);
}

// Groups of 4 query heads (the 4B/8B shape), float and fp16 caches, a chunk from position
// 0 to past two tiles, another from a tile's middle to a block's middle.
TEST(AttentionBatch, WiderGroupsAndFloatCaches) {
  for (KvType type : {KvType::F16, KvType::F32, KvType::Q8_0}) {
    check({8, 2, 64, type, {50, 1, 90, 37}, {0, 0, 41, 36}}, 99);
    check({12, 3, 128, type, {35, 130, 18}, {2, 129, 17}}, 7);
  }
}

// The 0.6B shape over a q8_0 cache.
TEST(AttentionBatch, ManySequencesOverAQ8Cache) {
  check({16,
         8,
         128,
         KvType::Q8_0,
         {1, 16, 17, 33, 160, 70, 61, 140},
         {0, 15, 16, 32, 159, 5, 16, 100}},
        20261214);
}

}  // namespace
}  // namespace qwen3
