// attention_paged (kernels/attention_paged.h) on every ISA level against attention computed
// from its definition in double precision over the same paged layout (keys dim-major,
// values row-major, blocks scattered through a pool), over many generated shapes: head
// dims, GQA group sizes, block sizes (multiples of 8 take the SIMD kernels, others the
// reference), fp16 and float elements. The SIMD levels give the same bits (AVX2 and
// AVX-512 follow one arithmetic), so a token's attention does not depend on the level.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_paged.h"
#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

struct Case {
  int dim, n_q, bs, n_keys;
  bool f16;
  std::vector<std::uint8_t> pool;  // n_blocks blocks of [K group][V group]
  std::vector<int> table;
  std::vector<float> q;  // n_q x dim
  PagedKv kv;
  std::size_t esize() const { return f16 ? 2 : 4; }
};

float get(const Case& c, const std::uint8_t* p, std::size_t i) {
  return c.f16 ? fp16_to_fp32(reinterpret_cast<const std::uint16_t*>(p)[i])
               : reinterpret_cast<const float*>(p)[i];
}

Case make_case(std::mt19937& rng, int dim, int n_q, int bs, int n_keys, bool f16) {
  Case c{dim, n_q, bs, n_keys, f16, {}, {}, {}, {}};
  const int n_blk = (n_keys + bs - 1) / bs;
  const int n_pool = n_blk + 3;
  const std::size_t group = static_cast<std::size_t>(bs) * dim * c.esize();
  const std::size_t block_bytes = 2 * group + 64;  // other heads' rows in between
  c.pool.resize(block_bytes * n_pool);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  // Every element, used or not, holds a value (unused rows too: they must not matter).
  for (std::size_t i = 0; i < c.pool.size() / c.esize(); ++i) {
    const float x = nd(rng) * 2.0f;
    if (f16)
      reinterpret_cast<std::uint16_t*>(c.pool.data())[i] = fp32_to_fp16(x);
    else
      reinterpret_cast<float*>(c.pool.data())[i] = x;
  }
  std::vector<int> perm(static_cast<std::size_t>(n_pool));
  for (int i = 0; i < n_pool; ++i) perm[static_cast<std::size_t>(i)] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  c.table.assign(perm.begin(), perm.begin() + n_blk);
  c.q.resize(static_cast<std::size_t>(n_q) * dim);
  for (float& x : c.q) x = nd(rng);
  c.kv.k = c.pool.data();
  c.kv.v = c.pool.data() + group;
  c.kv.table = c.table.data();
  c.kv.block_bytes = block_bytes;
  c.kv.block_size = bs;
  c.kv.f16 = f16;
  return c;
}

// softmax(scale * q.k) . v from the definition, in double.
std::vector<double> expected(const Case& c, float scale) {
  std::vector<double> out(static_cast<std::size_t>(c.n_q) * c.dim, 0.0);
  for (int i = 0; i < c.n_q; ++i) {
    std::vector<double> s(static_cast<std::size_t>(c.n_keys));
    for (int r = 0; r < c.n_keys; ++r) {
      const std::uint8_t* kb =
          c.pool.data() +
          static_cast<std::size_t>(c.table[static_cast<std::size_t>(r / c.bs)]) * c.kv.block_bytes;
      double dot = 0;
      for (int d = 0; d < c.dim; ++d)
        dot += static_cast<double>(get(c, kb, static_cast<std::size_t>(d) * c.bs + r % c.bs)) *
               c.q[static_cast<std::size_t>(i) * c.dim + d];
      s[static_cast<std::size_t>(r)] = dot * scale;
    }
    const double m = *std::max_element(s.begin(), s.end());
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - m));
    for (int r = 0; r < c.n_keys; ++r) {
      const std::uint8_t* vb =
          c.pool.data() +
          static_cast<std::size_t>(c.table[static_cast<std::size_t>(r / c.bs)]) * c.kv.block_bytes +
          static_cast<std::size_t>(c.bs) * c.dim * c.esize();
      for (int d = 0; d < c.dim; ++d)
        out[static_cast<std::size_t>(i) * c.dim + d] +=
            s[static_cast<std::size_t>(r)] / sum *
            get(c, vb, static_cast<std::size_t>(r % c.bs) * c.dim + d);
    }
  }
  return out;
}

std::vector<float> run(const Case& c, float scale, bool ref) {
  const std::int64_t stride = c.dim + 8;  // strided heads, as in a token's q row
  std::vector<float> q(static_cast<std::size_t>(c.n_q) * stride, 0.0f);
  for (int i = 0; i < c.n_q; ++i)
    std::copy_n(&c.q[static_cast<std::size_t>(i) * c.dim], c.dim,
                &q[static_cast<std::size_t>(i) * stride]);
  std::vector<float> out(static_cast<std::size_t>(c.n_q) * stride, -7.0f);
  std::vector<float> scratch(attention_paged_scratch(c.n_keys, c.n_q, c.bs), NAN);
  if (ref)
    attention_paged_ref(c.kv, c.n_keys, c.dim, q.data(), stride, c.n_q, scale, out.data(), stride,
                        scratch.data());
  else
    attention_paged(c.kv, c.n_keys, c.dim, q.data(), stride, c.n_q, scale, out.data(), stride,
                    scratch.data());
  for (int i = 0; i < c.n_q; ++i)  // the gaps between heads are left alone
    for (int d = c.dim; d < stride; ++d)
      EXPECT_EQ(out[static_cast<std::size_t>(i) * stride + d], -7.0f);
  std::vector<float> packed;
  for (int i = 0; i < c.n_q; ++i)
    packed.insert(packed.end(), out.begin() + i * stride, out.begin() + i * stride + c.dim);
  return packed;
}

double max_err(const std::vector<float>& got, const std::vector<double>& want) {
  double e = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    e = std::max(e, std::fabs(got[i] - want[i]) / (1.0 + std::fabs(want[i])));
  return e;
}

TEST(AttentionPaged, EveryLevelMatchesTheDefinitionAndSimdLevelsAgree) {
  std::mt19937 rng(20261206);
  const int dims[] = {8, 16, 24, 64, 72, 128};
  const int groups[] = {1, 2, 3, 4, 5, 8};
  const int blocks[] = {16, 8, 24, 32, 5};
  int cases = 0;
  for (int trial = 0; trial < 160; ++trial) {
    const int dim = dims[rng() % 6];
    const int n_q = groups[rng() % 6];
    const int bs = blocks[rng() % 5];
    const int n_keys = 1 + static_cast<int>(rng() % (trial % 4 == 0 ? 300 : 70));
    const bool f16 = rng() % 4 != 0;
    const Case c = make_case(rng, dim, n_q, bs, n_keys, f16);
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const auto want = expected(c, scale);
    const std::string what = "dim " + std::to_string(dim) + " heads " + std::to_string(n_q) +
                             " block " + std::to_string(bs) + " keys " + std::to_string(n_keys) +
                             (f16 ? " f16" : " f32");
    EXPECT_LT(max_err(run(c, scale, true), want), 2e-5) << "reference, " << what;
    std::vector<float> first;
    for (IsaLevel l : available_isas()) {
      testing::IsaScope scope(l);
      const auto got = run(c, scale, false);
      EXPECT_LT(max_err(got, want), 2e-5) << isa_name(l) << ", " << what;
      if (l == IsaLevel::Scalar) continue;
      if (first.empty())
        first = got;
      else
        EXPECT_EQ(got, first) << isa_name(l) << " differs from the first SIMD level, " << what;
    }
    ++cases;
  }
  const std::string skipped = testing::skipped_levels();
  if (!skipped.empty()) std::printf("  levels this CPU lacks, not tested: %s\n", skipped.c_str());
  EXPECT_EQ(cases, 160);
}

// A query that matches one key far better than the rest takes that key's values (the
// softmax is max-subtracted: large scores neither overflow nor lose the winner).
TEST(AttentionPaged, LargeScoresPickTheirKey) {
  std::mt19937 rng(7);
  Case c = make_case(rng, 64, 2, 16, 40, false);
  auto* pool = reinterpret_cast<float*>(c.pool.data());
  const std::size_t bb = c.kv.block_bytes / 4, group = 16 * 64;
  const int hit = 37;  // block 2, row 5
  float* kb = pool + static_cast<std::size_t>(c.table[2]) * bb;
  for (int d = 0; d < 64; ++d) {
    kb[static_cast<std::size_t>(d) * 16 + 5] = 100.0f * c.q[static_cast<std::size_t>(d)];
    c.q[64 + static_cast<std::size_t>(d)] = c.q[static_cast<std::size_t>(d)];
  }
  const float* vrow = kb + group + 5 * 64;
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    const auto got = run(c, 0.125f, false);
    for (int d = 0; d < 64; ++d) {
      ASSERT_NEAR(got[static_cast<std::size_t>(d)], vrow[d], 1e-4) << isa_name(l) << " " << hit;
      ASSERT_NEAR(got[64 + static_cast<std::size_t>(d)], vrow[d], 1e-4) << isa_name(l);
    }
  }
}

}  // namespace
}  // namespace qwen3
