// attention_paged (kernels/attention_paged.h) on every ISA level against attention computed
// from its definition in double precision over the same paged layout (keys dim-major,
// values row-major, blocks scattered through a pool), over many generated shapes: head
// dims, GQA group sizes, block sizes (multiples of 8 take the SIMD kernels, others the
// reference), fp16 and float elements. The SIMD levels give the same bits (AVX2 and
// AVX-512 follow one arithmetic), so a token's attention does not depend on the level.
// attention_paged_rows (a prompt chunk's rows at consecutive positions, each key block
// read once for all of them) gives every row the bits attention_paged gives it alone.
// q8_0 rows (int8 quants and fp16 scales per 32 dims) give, on every level, exactly the
// bits of float rows holding their dequantized values, on both paths.
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
#include "kernels/quant.h"
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
  c.kv.type = f16 ? KvType::F16 : KvType::F32;
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

std::string case_name(int dim, int n_q, int bs, int n_keys, bool f16) {
  return "dim " + std::to_string(dim) + " heads " + std::to_string(n_q) + " block " +
         std::to_string(bs) + " keys " + std::to_string(n_keys) + (f16 ? " f16" : " f32");
}

// Every level this CPU has within 2e-5 of the definition, and every SIMD level with the
// bits of the first one.
void expect_every_level(const Case& c, float scale, const std::vector<double>& want,
                        const std::string& what) {
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
    const std::string what = case_name(dim, n_q, bs, n_keys, f16);
    EXPECT_LT(max_err(run(c, scale, true), want), 2e-5) << "reference, " << what;
    expect_every_level(c, scale, want, what);
    ++cases;
  }
  const std::string skipped = testing::skipped_levels();
  if (!skipped.empty()) std::printf("  levels this CPU lacks, not tested: %s\n", skipped.c_str());
  EXPECT_EQ(cases, 160);
}

// The decode path's paired key chunks (AVX-512 scores two chunks of 16 rows per pass
// where the block size is a multiple of 16, AVX2 two chunks of 8 rows where it is a
// multiple of 8, its fma chains in two passes; both with spread prefetches): every chunk
// count (odd, even, a last chunk past the keys, block boundaries) and group size (passes
// of 3, 2, 1 heads) against the definition, and the same bits on every SIMD level (block
// sizes 8, 24: AVX2 paired against AVX-512's one-chunk passes).
TEST(AttentionPaged, DecodeOverPairedChunksMatchesEveryLevel) {
  std::mt19937 rng(20261207);
  const int keys[] = {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 48, 63, 161};
  int cases = 0;
  for (int bs : {8, 16, 24, 32, 48})
    for (int n_q = 1; n_q <= 8; ++n_q)
      for (int draw = 0; draw < 2; ++draw) {
        const int n_keys = keys[rng() % 16];
        const int dim = (n_q % 2 == 0) ? 128 : 72;
        const bool f16 = n_q != 5;
        const Case c = make_case(rng, dim, n_q, bs, n_keys, f16);
        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
        const auto want = expected(c, scale);
        expect_every_level(c, scale, want, case_name(dim, n_q, bs, n_keys, f16));
        ++cases;
      }
  EXPECT_EQ(cases, 80);
}

// Tiles of rows at consecutive positions against each row alone: the same bits on every
// level (the reference included), and the definition within tolerance.
TEST(AttentionPaged, RowsGiveEachRowItsOwnBits) {
  std::mt19937 rng(20261207);
  const int dims[] = {8, 24, 64, 128};
  const int blocks[] = {16, 8, 24, 32, 5};
  for (int trial = 0; trial < 60; ++trial) {
    const int dim = dims[rng() % 4];
    const int n_heads = 1 + static_cast<int>(rng() % 5);
    const int bs = blocks[rng() % 5];
    const int n_rows = 2 + static_cast<int>(rng() % 19);
    const int n_keys = 1 + static_cast<int>(rng() % (trial % 3 == 0 ? 200 : 40));
    const bool f16 = rng() % 4 != 0;
    // The pool holds the last row's keys; q holds n_rows x n_heads queries.
    const Case c = make_case(rng, dim, n_rows * n_heads, bs, n_keys + n_rows - 1, f16);
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const std::string what = "dim " + std::to_string(dim) + " heads " + std::to_string(n_heads) +
                             " rows " + std::to_string(n_rows) + " block " + std::to_string(bs) +
                             " keys " + std::to_string(n_keys) + (f16 ? " f16" : " f32");
    // Rows strided by 3 heads' worth plus a gap, heads by dim + 8 (as in a batch's q).
    const std::int64_t hs = dim + 8, rs = hs * n_heads + 24;
    std::vector<float> q(static_cast<std::size_t>(rs) * n_rows, 0.0f);
    for (int k = 0; k < n_rows * n_heads; ++k)
      std::copy_n(&c.q[static_cast<std::size_t>(k) * dim], dim,
                  &q[static_cast<std::size_t>((k / n_heads) * rs + (k % n_heads) * hs)]);
    for (IsaLevel l : available_isas()) {
      testing::IsaScope scope(l);
      std::vector<float> tile(q.size(), -7.0f), alone(q.size(), -7.0f);
      PagedQueries qs;
      qs.q = q.data();
      qs.row_stride = rs;
      qs.head_stride = hs;
      qs.out = tile.data();
      qs.out_row_stride = rs;
      qs.out_head_stride = hs;
      qs.n_rows = n_rows;
      qs.n_heads = n_heads;
      qs.n_keys = n_keys;
      std::vector<float> scratch(attention_paged_rows_scratch(n_keys, n_rows, n_heads, bs, dim),
                                 NAN);
      attention_paged_rows(c.kv, qs, dim, scale, scratch.data());
      for (int i = 0; i < n_rows; ++i) {
        std::vector<float> s1(attention_paged_scratch(n_keys + i, n_heads, bs), NAN);
        attention_paged(c.kv, n_keys + i, dim, q.data() + i * rs, hs, n_heads, scale,
                        alone.data() + i * rs, hs, s1.data());
      }
      ASSERT_EQ(tile, alone) << isa_name(l) << ", " << what;  // the gaps too: left alone
      // Row i against the definition over its own keys.
      for (int i = 0; i < n_rows; i += n_rows - 1) {
        Case ci = c;
        ci.kv.k = ci.pool.data();
        ci.kv.v = ci.pool.data() + static_cast<std::size_t>(bs) * dim * ci.esize();
        ci.kv.table = ci.table.data();
        ci.n_keys = n_keys + i;
        ci.n_q = n_heads;
        ci.q.assign(c.q.begin() + static_cast<std::ptrdiff_t>(i) * n_heads * dim,
                    c.q.begin() + static_cast<std::ptrdiff_t>(i + 1) * n_heads * dim);
        const auto want = expected(ci, scale);
        std::vector<float> got;
        for (int h = 0; h < n_heads; ++h)
          got.insert(got.end(), tile.begin() + i * rs + h * hs,
                     tile.begin() + i * rs + h * hs + dim);
        EXPECT_LT(max_err(got, want), 2e-5) << isa_name(l) << ", row " << i << ", " << what;
      }
    }
  }
}

// quantize_kv_q8_0 (what the KV cache stores) on every level: ggml's
// quantize_row_q8_0_ref byte for byte, ties (x * id exactly k + 0.5, either sign: rounded
// away from zero), zero groups, outliers and random rows.
TEST(AttentionPaged, KvQuantizerIsGgmlQ8Reference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 32 * (1 + static_cast<int>(rng() % 16));
    std::vector<float> x(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int kind = trial % 4;
      float& e = x[static_cast<std::size_t>(i)];
      if (kind == 0)  // amax 127: d = 1, x * id = x, so halves are ties
        e = i % 32 == 0 ? 127.0f : static_cast<float>(static_cast<int>(rng() % 253) - 126) + 0.5f;
      else if (kind == 1)
        e = (trial % 8 == 1 && i < 64) ? 0.0f : nd(rng) * 3.0f;
      else
        e = nd(rng) * (i % 17 == 0 ? 1000.0f : 1.0f);
    }
    std::vector<BlockQ8_0> want(static_cast<std::size_t>(n / 32));
    quantize_row_ref(GgmlType::Q8_0, x.data(), want.data(), n);
    for (IsaLevel l : available_isas()) {
      testing::IsaScope scope(l);
      std::vector<std::int8_t> q(static_cast<std::size_t>(n));
      std::vector<std::uint16_t> d(static_cast<std::size_t>(n / 32));
      quantize_kv_q8_0(x.data(), n, q.data(), d.data());
      for (int g = 0; g < n / 32; ++g) {
        ASSERT_EQ(d[static_cast<std::size_t>(g)], want[static_cast<std::size_t>(g)].d)
            << isa_name(l) << " trial " << trial << " group " << g;
        for (int j = 0; j < 32; ++j)
          ASSERT_EQ(q[static_cast<std::size_t>(g * 32 + j)],
                    want[static_cast<std::size_t>(g)].qs[j])
              << isa_name(l) << " trial " << trial << " x "
              << x[static_cast<std::size_t>(g * 32 + j)];
      }
    }
  }
}

// A q8_0 pool and a float pool holding its dequantized values, block for block (the same
// table), and the queries.
struct Q8Case {
  int dim, bs, n_keys;
  std::vector<std::uint8_t> q8, f32;
  std::vector<int> table;
  std::vector<float> q;
  PagedKv kq, kf;
};

Q8Case make_q8_case(std::mt19937& rng, int dim, int n_q, int bs, int n_keys) {
  Q8Case c{dim, bs, n_keys, {}, {}, {}, {}, {}, {}};
  const int n_blk = (n_keys + bs - 1) / bs, n_pool = n_blk + 2, groups = dim / 32;
  const std::size_t elems = static_cast<std::size_t>(bs) * dim;
  const std::size_t qrows = elems + elems / 16, frows = elems * 4;
  const std::size_t qbb = 2 * qrows + 64, fbb = 2 * frows + 64;  // other heads in between
  c.q8.assign(qbb * n_pool, 0x5a);
  c.f32.assign(fbb * n_pool, 0);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(dim)), back(x.size());
  std::vector<BlockQ8_0> qb(static_cast<std::size_t>(groups));
  for (int b = 0; b < n_pool; ++b)
    for (int kv = 0; kv < 2; ++kv)
      for (int r = 0; r < bs; ++r) {
        // Mostly normal rows; some with a large outlier, some all zero (scale 0).
        const int kind = static_cast<int>(rng() % 10);
        for (float& e : x) e = kind == 0 ? 0.0f : nd(rng) * 2.0f;
        if (kind == 1) x[rng() % x.size()] = 300.0f;
        quantize_row_ref(GgmlType::Q8_0, x.data(), qb.data(), dim);
        dequantize_row_ref(GgmlType::Q8_0, qb.data(), back.data(), dim);
        std::uint8_t* qr = c.q8.data() + b * qbb + kv * qrows;
        auto* sc = reinterpret_cast<std::uint16_t*>(qr + elems);
        auto* fr = reinterpret_cast<float*>(c.f32.data() + b * fbb + kv * frows);
        for (int d = 0; d < dim; ++d) {
          const auto& g = qb[static_cast<std::size_t>(d / 32)];
          const std::size_t at = kv == 0 ? static_cast<std::size_t>(d) * bs + r
                                         : static_cast<std::size_t>(r) * dim + d;
          qr[at] = static_cast<std::uint8_t>(g.qs[d % 32]);
          fr[at] = back[static_cast<std::size_t>(d)];
          if (d % 32 == 0)
            sc[kv == 0 ? static_cast<std::size_t>(d / 32) * bs + r
                       : static_cast<std::size_t>(r) * groups + d / 32] = g.d;
        }
      }
  std::vector<int> perm(static_cast<std::size_t>(n_pool));
  for (int i = 0; i < n_pool; ++i) perm[static_cast<std::size_t>(i)] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  c.table.assign(perm.begin(), perm.begin() + n_blk);
  c.q.resize(static_cast<std::size_t>(n_q) * dim);
  for (float& e : c.q) e = nd(rng);
  c.kq.k = c.q8.data();
  c.kq.v = c.q8.data() + qrows;
  c.kq.block_bytes = qbb;
  c.kq.type = KvType::Q8_0;
  c.kf.k = c.f32.data();
  c.kf.v = c.f32.data() + frows;
  c.kf.block_bytes = fbb;
  c.kf.type = KvType::F32;
  for (PagedKv* k : {&c.kq, &c.kf}) {
    k->table = c.table.data();
    k->block_size = bs;
  }
  return c;
}

// q8_0 against float over the dequantized values: the same bits on every level (the
// reference included), the decode path (attention_paged, n_q heads) and the prompt path
// (attention_paged_rows: rows at consecutive positions, the last one at n_keys keys).
TEST(AttentionPaged, Q8EqualsFloatOverDequantizedRowsOnEveryLevel) {
  std::mt19937 rng(20261214);
  const int dims[] = {32, 64, 96, 128, 128, 256};
  const int blocks[] = {16, 16, 8, 24, 32, 5};
  int cases = 0;
  for (int trial = 0; trial < 90; ++trial) {
    // Every tenth: blocks of 48 rows of 256 dims (more value scales than the one-row
    // kernel converts at once: each converted where it is used).
    const int dim = trial % 10 == 9 ? 256 : dims[rng() % 6];
    const int bs = trial % 10 == 9 ? 48 : blocks[rng() % 6];
    const int n_heads = 1 + static_cast<int>(rng() % 8);
    const int n_keys = 1 + static_cast<int>(rng() % (trial % 3 == 0 ? 300 : 70));
    const int n_rows = trial % 2 == 0 ? 1 : std::min(n_keys, 2 + static_cast<int>(rng() % 17));
    const Q8Case c = make_q8_case(rng, dim, n_rows * n_heads, bs, n_keys);
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const std::string what = "dim " + std::to_string(dim) + " heads " + std::to_string(n_heads) +
                             " rows " + std::to_string(n_rows) + " block " + std::to_string(bs) +
                             " keys " + std::to_string(n_keys);
    const std::int64_t hs = dim + 8, rs = hs * n_heads + 24;
    std::vector<float> q(static_cast<std::size_t>(rs) * n_rows, 0.0f);
    for (int k = 0; k < n_rows * n_heads; ++k)
      std::copy_n(&c.q[static_cast<std::size_t>(k) * dim], dim,
                  &q[static_cast<std::size_t>((k / n_heads) * rs + (k % n_heads) * hs)]);
    const int keys0 = n_keys - n_rows + 1;
    std::vector<float> ref_q8;
    for (IsaLevel l : available_isas()) {
      testing::IsaScope scope(l);
      std::vector<float> got[2];
      for (int f = 0; f < 2; ++f) {
        const PagedKv& kv = f == 0 ? c.kq : c.kf;
        got[f].assign(q.size(), -7.0f);
        if (n_rows == 1) {
          std::vector<float> sc(attention_paged_scratch(n_keys, n_heads, bs), NAN);
          attention_paged(kv, n_keys, dim, q.data(), hs, n_heads, scale, got[f].data(), hs,
                          sc.data());
        } else {
          PagedQueries qs;
          qs.q = q.data();
          qs.row_stride = qs.out_row_stride = rs;
          qs.head_stride = qs.out_head_stride = hs;
          qs.out = got[f].data();
          qs.n_rows = n_rows;
          qs.n_heads = n_heads;
          qs.n_keys = keys0;
          std::vector<float> sc(attention_paged_rows_scratch(keys0, n_rows, n_heads, bs, dim), NAN);
          attention_paged_rows(kv, qs, dim, scale, sc.data());
        }
      }
      ASSERT_EQ(got[0], got[1]) << isa_name(l) << ", " << what;
      if (n_rows == 1) {  // the scalar reference on the q8_0 rows too
        std::vector<float> r(q.size(), -7.0f);
        std::vector<float> sc(attention_paged_scratch(n_keys, n_heads, bs), NAN);
        attention_paged_ref(c.kq, n_keys, dim, q.data(), hs, n_heads, scale, r.data(), hs,
                            sc.data());
        std::vector<float> rf(q.size(), -7.0f);
        attention_paged_ref(c.kf, n_keys, dim, q.data(), hs, n_heads, scale, rf.data(), hs,
                            sc.data());
        ASSERT_EQ(r, rf) << "reference, " << what;
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 90);
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
