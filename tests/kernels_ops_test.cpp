// Row operations: the AVX2 versions against the scalar references over sizes that are
// and are not multiples of 8, and the references against their definitions in double;
// on every SIMD level this CPU has, the same bits as at the avx2 level (the avx512 and
// amx levels run 16-lane versions of rmsnorm, silu_mul, add, scale and rope_neox).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/ops.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

const int64_t kSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 64, 127, 128, 1000, 1024, 3072};

void expect_close(const std::vector<float>& a, const std::vector<float>& b, float rel,
                  const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], rel * (std::fabs(b[i]) + 1e-3f)) << what << " i " << i;
}

TEST(Ops, RmsnormMatchesDefinition) {
  for (int64_t n : kSizes) {
    auto x = testing::random_floats(n, 1, 3.f), w = testing::random_floats(n, 2);
    std::vector<float> y(n), y_ref(n), def(n);
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    for (int64_t i = 0; i < n; ++i)
      def[i] = static_cast<float>(x[i] / std::sqrt(ss / n + 1e-6) * w[i]);
    rmsnorm_ref(x.data(), w.data(), y_ref.data(), n, 1e-6f);
    rmsnorm(x.data(), w.data(), y.data(), n, 1e-6f);
    expect_close(y_ref, def, 1e-6f, "rmsnorm_ref");
    expect_close(y, y_ref, 1e-6f, "rmsnorm");
    rmsnorm(x.data(), w.data(), x.data(), n, 1e-6f);  // in place
    expect_close(x, y_ref, 1e-6f, "rmsnorm in place");
  }
}

TEST(Ops, SoftmaxMatchesDefinition) {
  for (int64_t n : kSizes) {
    auto x = testing::random_floats(n, 3, 8.f);
    x[0] = 80.f;  // large logits must not overflow
    std::vector<float> a = x, b = x, def(n);
    double mx = x[0], sum = 0;
    for (float v : x) mx = std::max(mx, static_cast<double>(v));
    for (float v : x) sum += std::exp(v - mx);
    for (int64_t i = 0; i < n; ++i) def[i] = static_cast<float>(std::exp(x[i] - mx) / sum);
    softmax_ref(a.data(), n);
    softmax(b.data(), n);
    expect_close(a, def, 1e-6f, "softmax_ref");
    expect_close(b, a, 2e-6f, "softmax");
    double total = 0;
    for (float v : b) total += v;
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
  std::vector<float> masked = {0.f, -INFINITY, 1.f, -INFINITY};  // causal masks
  softmax(masked.data(), 4);
  EXPECT_EQ(masked[1], 0.f);
  EXPECT_NEAR(masked[0] + masked[2], 1.f, 1e-6f);
}

TEST(Ops, SiluMulMatchesDefinition) {
  for (int64_t n : kSizes) {
    auto g = testing::random_floats(n, 4, 6.f), u = testing::random_floats(n, 5);
    g[0] = -100.f;  // exp overflow region
    std::vector<float> a(n), b(n), def(n);
    for (int64_t i = 0; i < n; ++i)
      def[i] = static_cast<float>(g[i] / (1 + std::exp(-static_cast<double>(g[i]))) * u[i]);
    silu_mul_ref(g.data(), u.data(), a.data(), n);
    silu_mul(g.data(), u.data(), b.data(), n);
    expect_close(a, def, 1e-6f, "silu_mul_ref");
    expect_close(b, a, 2e-6f, "silu_mul");
  }
}

TEST(Ops, AddScaleDot) {
  for (int64_t n : kSizes) {
    auto a = testing::random_floats(n, 6), b = testing::random_floats(n, 7);
    std::vector<float> y(n), y_ref(n);
    add(a.data(), b.data(), y.data(), n);
    add_ref(a.data(), b.data(), y_ref.data(), n);
    EXPECT_EQ(y, y_ref);
    scale(y.data(), 0.125f, n);
    scale_ref(y_ref.data(), 0.125f, n);
    EXPECT_EQ(y, y_ref);
    double def = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      def += static_cast<double>(a[i]) * b[i];
      mag += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    EXPECT_NEAR(dot_f32_ref(a.data(), b.data(), n), def, 1e-6 * mag);
    EXPECT_NEAR(dot_f32(a.data(), b.data(), n), def, 1e-6 * mag);
  }
}

TEST(Ops, RopeNeoxMatchesDefinition) {
  const int head_dim = 128, heads = 3;
  const float theta = 1e6f;
  RopeTable table(head_dim, theta);
  for (int64_t pos : {0, 1, 17, 4095, 40000}) {
    auto x = testing::random_floats(heads * head_dim, static_cast<uint32_t>(pos));
    std::vector<float> c(head_dim / 2), s(head_dim / 2);
    table.at(pos, c.data(), s.data());
    std::vector<float> a = x, b = x, def(x.size());
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < head_dim / 2; ++i) {
        const double ang = pos * std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
        const double x0 = x[h * head_dim + i], x1 = x[h * head_dim + i + head_dim / 2];
        def[h * head_dim + i] = static_cast<float>(x0 * std::cos(ang) - x1 * std::sin(ang));
        def[h * head_dim + i + head_dim / 2] =
            static_cast<float>(x0 * std::sin(ang) + x1 * std::cos(ang));
      }
    rope_neox_ref(a.data(), heads, head_dim, c.data(), s.data());
    rope_neox(b.data(), heads, head_dim, c.data(), s.data());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_NEAR(a[i], def[i], 2e-6) << pos;
      ASSERT_NEAR(b[i], a[i], 1e-6) << pos;
    }
    std::vector<float> d = x;
    rope_neox(d.data(), heads, head_dim, pos, theta);
    EXPECT_EQ(d, b);
    if (pos == 0) {
      EXPECT_EQ(b, x);  // position 0 is the identity
    }
  }
  // A head_dim whose half is not a multiple of 8 takes the tail path.
  auto x = testing::random_floats(2 * 20, 9);
  std::vector<float> a = x, b = x;
  RopeTable t20(20, 10000.f);
  std::vector<float> c(10), s(10);
  t20.at(5, c.data(), s.data());
  rope_neox_ref(a.data(), 2, 20, c.data(), s.data());
  rope_neox(b.data(), 2, 20, c.data(), s.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6);
}

// Every op's output on one level, for the sizes of kSizes (and head sizes for RoPE).
std::vector<std::vector<float>> op_outputs() {
  std::vector<std::vector<float>> out;
  for (int64_t n : kSizes) {
    auto x = testing::random_floats(n, 11, 3.f), w = testing::random_floats(n, 12);
    x[0] = -100.f;  // silu's exp clamp
    std::vector<float> y(n);
    rmsnorm(x.data(), w.data(), y.data(), n, 1e-6f);
    out.push_back(y);
    silu_mul(x.data(), w.data(), y.data(), n);
    out.push_back(y);
    add(x.data(), w.data(), y.data(), n);
    out.push_back(y);
    scale(y.data(), 0.3f, n);
    out.push_back(y);
  }
  for (int head_dim : {128, 64, 40, 20, 36}) {  // halves 64, 32, 20, 10, 18: every tail path
    RopeTable t(head_dim, 1e6f);
    std::vector<float> c(head_dim / 2), s(head_dim / 2);
    t.at(777, c.data(), s.data());
    auto x = testing::random_floats(3 * head_dim, 13);
    rope_neox(x.data(), 3, head_dim, c.data(), s.data());
    out.push_back(x);
  }
  return out;
}

TEST(Ops, EveryLevelGivesTheAvx2Bits) {
  if (!cpu_has(IsaLevel::Avx2)) GTEST_SKIP() << "no AVX2";
  const IsaLevel before = isa_level();
  set_isa(IsaLevel::Avx2);
  const auto want = op_outputs();
  for (IsaLevel l : available_isas()) {
    if (l == IsaLevel::Scalar || l == IsaLevel::Avx2) continue;
    set_isa(l);
    const auto got = op_outputs();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].size(), want[i].size());
      for (size_t j = 0; j < got[i].size(); ++j)
        ASSERT_EQ(std::memcmp(&got[i][j], &want[i][j], sizeof(float)), 0)
            << isa_name(l) << " output " << i << " element " << j << ": " << got[i][j] << " vs "
            << want[i][j];
    }
  }
  set_isa(before);
}

TEST(Ops, AttentionRowsMatchReference) {
  // The vision encoder's one-head attention over float rows: all row-count tails of the
  // 4-row score kernel and head sizes around the 64-column mix passes.
  for (int dim : {8, 64, 128, 136})
    for (int64_t n : {1, 3, 4, 7, 64, 301}) {
      const auto kf = testing::random_floats(static_cast<size_t>(n * dim), 11 + dim, 2.f);
      const auto q = testing::random_floats(static_cast<size_t>(dim), 12);
      auto p = testing::random_floats(static_cast<size_t>(n), 13);
      std::vector<float> s(n), s_ref(n), o(dim, 0.5f), o_ref(dim, 0.5f);
      attn_scores_f32(kf.data(), n, dim, q.data(), 0.125f, s.data());
      attn_scores_f32_ref(kf.data(), n, dim, q.data(), 0.125f, s_ref.data());
      for (int64_t j = 0; j < n; ++j) ASSERT_NEAR(s[j], s_ref[j], 1e-5 * (1 + dim));
      attn_mix_f32(kf.data(), n, dim, p.data(), o.data());
      attn_mix_f32_ref(kf.data(), n, dim, p.data(), o_ref.data());
      for (int d = 0; d < dim; ++d) ASSERT_NEAR(o[d], o_ref[d], 2e-5 * (1 + n));
    }
}

}  // namespace
}  // namespace qwen3
