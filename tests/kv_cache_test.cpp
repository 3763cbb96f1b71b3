// The paged KV cache (model/kv_cache.h) against a plain model of it: random operations
// on several sequences over a small pool (adopt cached prefixes, grow, write, truncate
// into shared blocks, clear) must keep every position's stored row equal to what that
// sequence wrote there (or what the sequence that computed the same prefix wrote), and the
// block accounting exact: references = blocks held by tables, nothing leaks, a full pool
// evicts the least recently used cached block. Every element type: f32, f16 and q8_0
// (whose rows read back as ggml's q8_0 round trip of what was written, scales included
// in the copies of copy-on-write and partial prefixes).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "model/kv_cache.h"
#include "model/qwen3_model.h"

namespace qwen3 {
namespace {

constexpr int kLayers = 2, kHeads = 2, kBs = 4;

// The value a position holds: a function of the tokens up to and including it, so a
// shared block is right exactly when its prefix is the same.
float value_of(const std::vector<std::int32_t>& toks, int pos) {
  std::uint64_t h = 1469598103934665603ull;
  for (int i = 0; i <= pos; ++i)
    h = (h ^ static_cast<std::uint64_t>(toks[static_cast<std::size_t>(i)])) * 1099511628211ull;
  return static_cast<float>(h % 100000);
}

// The key (kv 0) or value (kv 1) row of one head a position holds in layer l, as written.
std::vector<float> row_of(const std::vector<std::int32_t>& toks, int pos, int l, int kv, int dim) {
  const float x = value_of(toks, pos);
  std::vector<float> r(static_cast<std::size_t>(dim));
  for (int i = 0; i < dim; ++i)
    r[static_cast<std::size_t>(i)] = (kv == 0 ? 1.0f : -1.0f) * (x + static_cast<float>(l)) *
                                     (1.0f + 0.01f * static_cast<float>(i));
  return r;
}

// What a pool of type t gives back for a row written as r.
std::vector<float> as_stored(const std::vector<float>& r, KvType t) {
  std::vector<float> o(r.size());
  if (t == KvType::F32) return r;
  if (t == KvType::F16) {
    for (std::size_t i = 0; i < r.size(); ++i) o[i] = fp16_to_fp32(fp32_to_fp16(r[i]));
    return o;
  }
  std::vector<BlockQ8_0> q(r.size() / 32);
  quantize_row_ref(GgmlType::Q8_0, r.data(), q.data(), static_cast<std::int64_t>(r.size()));
  dequantize_row_ref(GgmlType::Q8_0, q.data(), o.data(), static_cast<std::int64_t>(r.size()));
  return o;
}

void write(KvPool& pool, KvSequence& s, const std::vector<std::int32_t>& all, int from, int n) {
  const int dim = pool.head_dim();
  std::vector<float> k(static_cast<std::size_t>(kHeads * dim)), v(k.size());
  for (int p = from; p < from + n; ++p)
    for (int l = 0; l < kLayers; ++l) {
      for (int h = 0; h < kHeads; ++h) {
        const auto kr = row_of(all, p, l, 0, dim), vr = row_of(all, p, l, 1, dim);
        std::copy(kr.begin(), kr.end(), k.begin() + h * dim);
        std::copy(vr.begin(), vr.end(), v.begin() + h * dim);
      }
      pool.store(s.block(p), p % kBs, l, k.data(), v.data());
    }
}

void check_contents(const KvPool& pool, const KvSequence& s) {
  const auto& toks = s.tokens();
  const int dim = pool.head_dim();
  for (int p = 0; p < s.n_past(); ++p)
    for (int l = 0; l < kLayers; ++l) {
      std::vector<float> k(static_cast<std::size_t>(kHeads * dim)), v(k.size());
      pool.load(s.block(p), p % kBs, l, k.data(), v.data());
      const auto kw = as_stored(row_of(toks, p, l, 0, dim), pool.type());
      const auto vw = as_stored(row_of(toks, p, l, 1, dim), pool.type());
      for (int h = 0; h < kHeads; ++h)
        for (int i = 0; i < dim; ++i) {
          ASSERT_EQ(k[static_cast<std::size_t>(h * dim + i)], kw[static_cast<std::size_t>(i)])
              << "position " << p;
          ASSERT_EQ(v[static_cast<std::size_t>(h * dim + i)], vw[static_cast<std::size_t>(i)])
              << "position " << p;
        }
    }
}

// The element types with a head dim each supports (q8_0: multiples of 32).
struct TypeDim {
  KvType type;
  int dim;
};
class KvCacheTypes : public testing::TestWithParam<TypeDim> {};
std::string type_dim_name(const testing::TestParamInfo<TypeDim>& i) {
  return std::string(kv_type_name(i.param.type)) + "_dim" + std::to_string(i.param.dim);
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

TEST_P(KvCacheTypes, RandomOperationsKeepContentsAndAccounting) {
  KvPool pool(kLayers, kHeads, GetParam().dim, kBs, 40, GetParam().type);
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

TEST_P(KvCacheTypes, SharedBlocksAreCopiedOnWriteAndCachedLeastRecentlyUsedFirst) {
  KvPool pool(kLayers, kHeads, GetParam().dim, kBs, 6, GetParam().type);
  KvSequence a(pool, 24), b(pool, 24);
  const std::vector<std::int32_t> p = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_EQ(a.reserve(9), 9);
  write(pool, a, p, 0, 9);
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
  check_contents(pool, b);  // the copy holds the rows (and q8_0 scales) b kept
  const std::vector<std::int32_t> q = {1, 2, 3, 4, 5, 6, 0};
  write(pool, b, q, 6, 1);
  b.commit(q.data() + 6, 1);
  check_contents(pool, a);  // a's block is untouched
  check_contents(pool, b);
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

TEST_P(KvCacheTypes, APrefixThatEndsInsideABlockCopiesItsRows) {
  KvPool pool(kLayers, kHeads, GetParam().dim, kBs, 8, GetParam().type);
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

INSTANTIATE_TEST_SUITE_P(, KvCacheTypes,
                         testing::Values(TypeDim{KvType::F32, 8}, TypeDim{KvType::F16, 8},
                                         TypeDim{KvType::Q8_0, 32}, TypeDim{KvType::Q8_0, 128}),
                         type_dim_name);

// store() then load() of a q8_0 pool: ggml's q8_0 round trip of each head's row, bit for
// bit, for every row of a block (keys dim-major, values row-major, scales apart), and
// the bytes a block takes.
TEST(KvCache, Q8RowsReadBackAsGgmlQ8RoundTrip) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int dim : {32, 64, 128, 256})
    for (int bs : {16, 5}) {
      KvPool pool(3, 2, dim, bs, 3, KvType::Q8_0);
      const std::size_t group = static_cast<std::size_t>(bs) * dim;
      EXPECT_EQ(pool.block_bytes(), 3 * 2 * 2 * ((group + group / 16 + 63) / 64 * 64));
      EXPECT_EQ(pool.block_bytes(), KvPool::block_bytes_for(3, 2, dim, bs, KvType::Q8_0));
      std::vector<std::vector<float>> k, v;
      for (int r = 0; r < bs; ++r) {
        std::vector<float> kr(2 * static_cast<std::size_t>(dim)), vr(kr.size());
        for (float& x : kr) x = nd(rng) * (r % 3 == 0 ? 50.0f : 1.0f);
        for (float& x : vr) x = r == 2 ? 0.0f : nd(rng);
        pool.store(1, r, 2, kr.data(), vr.data());
        k.push_back(kr);
        v.push_back(vr);
      }
      for (int r = 0; r < bs; ++r) {
        std::vector<float> kr(2 * static_cast<std::size_t>(dim)), vr(kr.size());
        pool.load(1, r, 2, kr.data(), vr.data());
        std::vector<float> kw, vw;
        for (int h = 0; h < 2; ++h) {
          const auto a =
              as_stored(std::vector<float>(k[static_cast<std::size_t>(r)].begin() + h * dim,
                                           k[static_cast<std::size_t>(r)].begin() + (h + 1) * dim),
                        KvType::Q8_0);
          const auto b =
              as_stored(std::vector<float>(v[static_cast<std::size_t>(r)].begin() + h * dim,
                                           v[static_cast<std::size_t>(r)].begin() + (h + 1) * dim),
                        KvType::Q8_0);
          kw.insert(kw.end(), a.begin(), a.end());
          vw.insert(vw.end(), b.begin(), b.end());
        }
        ASSERT_EQ(kr, kw) << "dim " << dim << " block " << bs << " row " << r;
        ASSERT_EQ(vr, vw) << "dim " << dim << " block " << bs << " row " << r;
      }
    }
  EXPECT_THROW(KvPool(1, 1, 24, 16, 1, KvType::Q8_0), std::invalid_argument);
}

TEST(KvCache, TypeNamesParseBack) {
  for (KvType t : {KvType::F16, KvType::F32, KvType::Q8_0})
    EXPECT_EQ(parse_kv_type(kv_type_name(t)), t);
  EXPECT_STREQ(kv_type_names(), "f16|q8_0|f32");
  try {
    parse_kv_type("q4_0");
    FAIL() << "q4_0 parsed";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("f16, q8_0, f32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qwen3
