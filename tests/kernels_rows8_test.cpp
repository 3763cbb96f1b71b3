// The rows8 layout (kernels/rows8.h): packing is lossless, and matmul on packed weights
// (AVX2 kernels, any thread count, any token count) matches the scalar reference on the
// plain weights over many random shapes.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

const GgmlType kRows8Types[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K,
                                GgmlType::Q6_K};

using testing::mm;
using testing::mm_ref;

TEST(Rows8, PackUnpackIsLossless) {
  std::mt19937 rng(5);
  for (GgmlType t : kRows8Types)
    for (int k = 0; k < 20; ++k) {
      const int64_t bs = ggml_type_info(t).block_size;
      const int64_t cols = bs * (1 + rng() % 6);
      // Random bytes, not just quantizer output: every bit must survive.
      const size_t ws = ggml_row_size(t, cols);
      std::vector<uint8_t> rows(8 * ws), back(8 * ws), group(rows8_group_size(t, cols));
      for (auto& b : rows) b = static_cast<uint8_t>(rng());
      pack_rows8(t, rows.data(), ws, cols, group.data());
      unpack_rows8(t, group.data(), cols, back.data(), ws);
      ASSERT_EQ(rows, back) << ggml_type_info(t).name << " cols " << cols;
    }
}

TEST(Rows8, SizesMatchTheFormats) {
  EXPECT_EQ(rows8_group_size(GgmlType::Q4_0, 1024), 8 * ggml_row_size(GgmlType::Q4_0, 1024));
  EXPECT_EQ(rows8_group_size(GgmlType::Q8_0, 1024), 8 * ggml_row_size(GgmlType::Q8_0, 1024));
  EXPECT_EQ(rows8_group_size(GgmlType::Q4_K, 1024), 4u * 1184);
  EXPECT_EQ(rows8_group_size(GgmlType::Q6_K, 1024), 8 * ggml_row_size(GgmlType::Q6_K, 1024));
  EXPECT_EQ(rows8_group_size(GgmlType::Q5_K, 1024), 4u * 1440);
  EXPECT_THROW(rows8_group_size(GgmlType::Q5_1, 1024), std::invalid_argument);
  EXPECT_THROW(rows8_group_size(GgmlType::Q4_0, 48), std::invalid_argument);
}

TEST(Rows8, PackedMatmulMatchesPlainReferenceOnRandomShapes) {
  if (!use_avx2()) GTEST_SKIP() << "no AVX2: the rows8 kernels are not used";
  std::mt19937 rng(17);
  int cases = 0;
  for (GgmlType t : kRows8Types) {
    const int64_t bs = ggml_type_info(t).block_size;
    for (int k = 0; k < 16; ++k) {
      const int64_t rows = 8 * (1 + rng() % 9);
      const int64_t cols = bs * (1 + rng() % (bs == 256 ? 4 : 16));
      const int64_t n_tok = k < 5 ? 1 : 1 + rng() % 13;  // all sweep tails (tokens % 4)
      testing::RandomMatmul p =
          testing::random_matmul(t, rows, cols, n_tok, 1000 + 31 * k + static_cast<uint32_t>(t));
      const auto y = mm(p.P, p.x, n_tok, 2), y_ref = mm_ref(p.W, p.x, n_tok);
      // Same integer sums per block; only the float accumulation order differs.
      for (size_t i = 0; i < y.size(); ++i) {
        const double tol = 1e-5 * (1 + std::fabs(y_ref[i])) + 2e-6 * cols / 32;
        ASSERT_NEAR(y[i], y_ref[i], tol) << ggml_type_info(t).name << " " << rows << "x" << cols
                                         << " tok " << n_tok << " i " << i;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 80);
}

TEST(Rows8, PlainPromptPathUsesTheSameKernel) {
  // Plain weights with >= 4 tokens are packed on the fly: bit-identical to packed weights.
  if (!use_avx2()) GTEST_SKIP();
  for (GgmlType t : kRows8Types) {
    testing::RandomMatmul p = testing::random_matmul(t, 64, 512, 9, 3);
    EXPECT_EQ(mm(p.W, p.x, 9, 2), mm(p.P, p.x, 9, 2)) << ggml_type_info(t).name;
  }
}

TEST(Rows8, ThreadCountDoesNotChangeResults) {
  for (GgmlType t : kRows8Types)
    for (int64_t n_tok : {1, 5}) {
      testing::RandomMatmul p = testing::random_matmul(t, 136, 512, n_tok, 9);
      const auto y1 = mm(p.P, p.x, n_tok, 1);
      EXPECT_EQ(y1, mm(p.P, p.x, n_tok, 2)) << ggml_type_info(t).name;
      EXPECT_EQ(y1, mm(p.P, p.x, n_tok, 3)) << ggml_type_info(t).name;
    }
}

TEST(Rows8, ScalarPathOnPackedWeightsIsTheReference) {
  testing::ScalarScope scalar;
  for (GgmlType t : kRows8Types) {
    testing::RandomMatmul p = testing::random_matmul(t, 24, 512, 3, 4);
    EXPECT_EQ(mm(p.P, p.x, 3, 2), mm_ref(p.W, p.x, 3)) << ggml_type_info(t).name;
    EXPECT_EQ(mm_ref(p.P, p.x, 3), mm_ref(p.W, p.x, 3)) << ggml_type_info(t).name;
  }
}

TEST(Rows8, RejectsMatricesWithoutTheLayout) {
  std::vector<uint8_t> w(ggml_row_size(GgmlType::Q5_1, 256) * 8), out(w.size() * 2);
  ThreadPool pool(1);
  EXPECT_THROW(to_rows8({GgmlType::Q5_1, 8, 256, w.data()}, out.data(), pool),
               std::invalid_argument);
  EXPECT_THROW(to_rows8({GgmlType::Q4_0, 12, 32, w.data()}, out.data(), pool),
               std::invalid_argument);
  EXPECT_FALSE(prefers_rows8({GgmlType::Q4_0, 12, 32, w.data()}));
  float x[32] = {}, y[16];
  EXPECT_THROW(matmul({GgmlType::Q5_1, 8, 256, w.data(), WeightLayout::Rows8}, x, 1, y, pool),
               std::invalid_argument);
}

}  // namespace
}  // namespace qwen3
