// The paged KV cache (model/kv_cache.h) against a plain model of it: random operations
// on several sequences over a small pool (adopt cached prefixes, grow, write, truncate
// into shared blocks, clear) must keep every position's stored row equal to what that
// sequence wrote there (or what the sequence that computed the same prefix wrote), and the
// block accounting exact: references = blocks held by tables, nothing leaks, a full pool
// evicts the least recently used cached block.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "model/kv_cache.h"
#include "model/qwen3_model.h"

namespace qwen3 {
namespace {

constexpr int kLayers = 2, kHeads = 2, kDim = 8, kBs = 4;

// The value a position holds: a function of the tokens up to and including it, so a
// shared block is right exactly when its prefix is the same.
float value_of(const std::vector<std::int32_t>& toks, int pos) {
  std::uint64_t h = 1469598103934665603ull;
  for (int i = 0; i <= pos; ++i)
    h = (h ^ static_cast<std::uint64_t>(toks[static_cast<std::size_t>(i)])) * 1099511628211ull;
  return static_cast<float>(h % 100000);
}

void write(KvPool& pool, KvSequence& s, const std::vector<std::int32_t>& all, int from, int n) {
  std::vector<float> k(kHeads * kDim), v(kHeads * kDim);
  for (int p = from; p < from + n; ++p) {
    const float x = value_of(all, p);
    for (int l = 0; l < kLayers; ++l) {
      for (int i = 0; i < kHeads * kDim; ++i) {
        k[static_cast<std::size_t>(i)] = x + static_cast<float>(l);
        v[static_cast<std::size_t>(i)] = -x - static_cast<float>(l);
      }
      pool.store(s.block(p), p % kBs, l, k.data(), v.data());
    }
  }
}

void check_contents(const KvPool& pool, const KvSequence& s) {
  const auto& toks = s.tokens();
  for (int p = 0; p < s.n_past(); ++p) {
    const float x = value_of(toks, p);
    for (int l = 0; l < kLayers; ++l) {
      std::vector<float> k(kHeads * kDim), v(kHeads * kDim);
      pool.load(s.block(p), p % kBs, l, k.data(), v.data());
      for (int i = 0; i < kHeads * kDim; ++i) {
        ASSERT_EQ(k[static_cast<std::size_t>(i)], x + static_cast<float>(l)) << "position " << p;
        ASSERT_EQ(v[static_cast<std::size_t>(i)], -x - static_cast<float>(l)) << "position " << p;
      }
    }
  }
}

void check_accounting(const KvPool& pool, const std::vector<std::unique_ptr<KvSequence>>& seqs) {
  std::map<int, int> held;
  for (const auto& s : seqs)
    for (int i = 0; i < s->n_blocks(); ++i) ++held[s->table()[i]];
  for (int b = 0; b < pool.n_blocks(); ++b) {
    auto it = held.find(b);
    ASSERT_EQ(pool.refs(b), it == held.end() ? 0 : it->second) << "block " << b;
  }
  const KvPoolStats st = pool.stats();
  EXPECT_EQ(st.used, static_cast<int>(held.size()));
  EXPECT_EQ(st.used + st.cached + st.free, st.blocks);
}

TEST(KvCache, RandomOperationsKeepContentsAndAccounting) {
  KvPool pool(kLayers, kHeads, kDim, kBs, 40, KvType::F32);
  std::mt19937 rng(7);
  // Few distinct prompts so prefixes repeat often: a "system prompt" and short turns.
  const std::vector<std::int32_t> sys = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  std::vector<std::unique_ptr<KvSequence>> seqs;
  for (int i = 0; i < 4; ++i) seqs.push_back(std::make_unique<KvSequence>(pool, 48));
  std::uint64_t adopted = 0;
  for (int step = 0; step < 4000; ++step) {
    KvSequence& s = *seqs[rng() % seqs.size()];
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {  // eval: new tokens (often the system prompt from the start)
      std::vector<std::int32_t> ids;
      if (s.n_past() == 0 && rng() % 2) ids = sys;
      const int extra = 1 + static_cast<int>(rng() % 9);
      for (int i = 0; i < extra; ++i) ids.push_back(static_cast<std::int32_t>(rng() % 3));
      if (s.n_past() + static_cast<int>(ids.size()) > s.max_tokens()) continue;
      const int a = s.adopt(ids.data(), static_cast<int>(ids.size()));
      adopted += static_cast<std::uint64_t>(a);
      ASSERT_LT(a, static_cast<int>(ids.size()));
      const int rest = static_cast<int>(ids.size()) - a;
      const int from = s.n_past();
      const int got = s.reserve(rest);
      std::vector<std::int32_t> all = s.tokens();
      all.insert(all.end(), ids.begin() + a, ids.end());
      write(pool, s, all, from, got);
      s.commit(ids.data() + a, got);
    } else if (op < 8) {
      s.truncate(static_cast<int>(rng() % (s.n_past() + 1)));
    } else {
      s.clear();
    }
    check_contents(pool, s);
    if (step % 50 == 0) check_accounting(pool, seqs);
  }
  for (const auto& s : seqs) check_contents(pool, *s);
  check_accounting(pool, seqs);
  EXPECT_GT(adopted, 500u);               // the prefixes really were shared
  EXPECT_GT(pool.stats().evictions, 0u);  // and the pool ran full
  for (auto& s : seqs) s->clear();
  EXPECT_EQ(pool.stats().used, 0);
  seqs.clear();  // destructors give nothing back twice
  EXPECT_EQ(pool.stats().free + pool.stats().cached, pool.n_blocks());
}

TEST(KvCache, SharedBlocksAreCopiedOnWriteAndCachedLeastRecentlyUsedFirst) {
  KvPool pool(kLayers, kHeads, kDim, kBs, 6, KvType::F16);
  KvSequence a(pool, 24), b(pool, 24);
  const std::vector<std::int32_t> p = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_EQ(a.reserve(9), 9);
  a.commit(p.data(), 9);  // blocks [1 2 3 4] [5 6 7 8] published, [9] private
  EXPECT_TRUE(pool.published(a.table()[0]));
  EXPECT_FALSE(pool.published(a.table()[2]));
  EXPECT_EQ(b.adopt(p.data(), 9), 8);  // two whole blocks; the last token is computed
  EXPECT_EQ(b.table()[1], a.table()[1]);
  EXPECT_EQ(pool.refs(a.table()[1]), 2);
  EXPECT_EQ(b.adopt(p.data(), 8), 0);  // never all of the tokens
  b.truncate(6);                       // into the shared second block
  ASSERT_EQ(b.reserve(1), 1);          // ... which is copied before b writes into it
  EXPECT_NE(b.table()[1], a.table()[1]);
  EXPECT_EQ(pool.refs(a.table()[1]), 1);
  a.clear();
  b.clear();
  EXPECT_EQ(pool.stats().used, 0);
  EXPECT_EQ(pool.stats().cached, 2);  // a's two full blocks, reusable
  // Taking every block evicts them, least recently used first.
  KvSequence c(pool, 24);
  EXPECT_EQ(c.reserve(24), 24);
  EXPECT_EQ(pool.stats().cached, 0);
  EXPECT_EQ(pool.stats().evictions, 2u);
  KvSequence d(pool, 24);
  EXPECT_EQ(d.reserve(4), 0);  // nothing left
  EXPECT_EQ(d.adopt(p.data(), 9), 0);
}

TEST(KvCache, APrefixThatEndsInsideABlockCopiesItsRows) {
  KvPool pool(kLayers, kHeads, kDim, kBs, 8, KvType::F32);
  KvSequence a(pool, 24), b(pool, 24), c(pool, 24);
  const std::vector<std::int32_t> p = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_EQ(a.reserve(9), 9);
  write(pool, a, p, 0, 9);
  a.commit(p.data(), 9);  // [1 2 3 4] [5 6 7 8] published, [9] private
  // b parts from a after 7 tokens: one whole block, then 3 rows of a's second block,
  // copied into a block of b's own (a's stays as it was, shared by nobody).
  const std::vector<std::int32_t> q = {1, 2, 3, 4, 5, 6, 7, 0, 0};
  EXPECT_EQ(b.adopt(q.data(), 9), 7);
  EXPECT_EQ(b.n_past(), 7);
  EXPECT_EQ(b.table()[0], a.table()[0]);
  EXPECT_NE(b.table()[1], a.table()[1]);
  EXPECT_EQ(pool.refs(a.table()[1]), 1);
  EXPECT_EQ(pool.refs(b.table()[1]), 1);
  check_contents(pool, b);
  ASSERT_EQ(b.reserve(2), 2);  // its own block: written in place
  write(pool, b, q, 7, 2);
  b.commit(q.data() + 7, 2);
  check_contents(pool, a);
  check_contents(pool, b);
  // Never the last id, and no partial copy with only one id left to compute.
  const std::vector<std::int32_t> r = {1, 2, 3, 4, 5};
  EXPECT_EQ(c.adopt(r.data(), 5), 4);
  EXPECT_EQ(c.adopt(r.data() + 4, 1), 0);
  // A block that is only cached (nobody holds it) is a source too, and is not the one
  // evicted to make the copy.
  a.clear();
  b.clear();
  c.clear();
  KvSequence d(pool, 24);
  const std::vector<std::int32_t> s = {1, 2, 3, 4, 5, 6, 9, 9};
  EXPECT_EQ(d.adopt(s.data(), 8), 6);
  check_contents(pool, d);
  d.clear();
  check_accounting(pool, {});
}

}  // namespace
}  // namespace qwen3
