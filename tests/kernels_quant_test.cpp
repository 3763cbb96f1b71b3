// Block formats: hand-computed ggml blocks bit for bit, quantize -> dequantize error
// bounds per type, AVX2 dequantizers/quantizers against the scalar references, and
// clear errors for bad rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

const GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                                 GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                 GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(ggml_row_size(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

TEST(Quant, Q4_0HandComputedBlock) {
  // x_j = (j%16 - 8) / 2: the first largest magnitude is -4, so d = -4/-8 = 0.5 and
  // q_j = trunc(x_j/0.5 + 8.5) = j%16, packed low nibble = element j, high = j+16.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = ((j % 16) - 8) * 0.5f;
  auto q = quantize(GgmlType::Q4_0, x);
  BlockQ4_0 b;
  std::memcpy(&b, q.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3800);  // fp16 0.5
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;
  EXPECT_EQ(dequantize(GgmlType::Q4_0, q, 32), x);
}

TEST(Quant, Q8_0HandComputedBlock) {
  // amax = 127 -> d = 1, every integer maps to itself.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j * 8 - 127 + (j == 31 ? 6 : 0));
  auto q = quantize(GgmlType::Q8_0, x);
  BlockQ8_0 b;
  std::memcpy(&b, q.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3C00);  // fp16 1.0
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b.qs[j], static_cast<int8_t>(x[j]));
  // Ties round away from zero (roundf), as ggml's reference does: 2.5 -> 3 with d = 1.
  x[5] = 2.5f;
  std::memcpy(&b, quantize(GgmlType::Q8_0, x).data(), sizeof b);
  EXPECT_EQ(b.qs[5], 3);
}

TEST(Quant, Q4_1AndQ5_1HandComputedBlock) {
  // min 1, max 16 -> Q4_1 d = 1: q = x - 1; Q5_1 on 0..31: d = 1, q = x.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(1 + (j % 16));
  auto q = quantize(GgmlType::Q4_1, x);
  BlockQ4_1 b;
  std::memcpy(&b, q.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.m, 0x3C00);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4));
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j);
  auto q5 = quantize(GgmlType::Q5_1, x);
  BlockQ5_1 b5;
  std::memcpy(&b5, q5.data(), sizeof b5);
  EXPECT_EQ(b5.d, 0x3C00);
  EXPECT_EQ(b5.m, 0);
  uint32_t qh;
  std::memcpy(&qh, b5.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);  // elements 16..31 have the fifth bit
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b5.qs[j], j | (j << 4));
  EXPECT_EQ(dequantize(GgmlType::Q5_1, q5, 32), x);
}

TEST(Quant, Q5_0HandComputedBlock) {
  // x_j = j - 16: max magnitude -16 -> d = 1, q = x + 16 = j.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  auto q = quantize(GgmlType::Q5_0, x);
  BlockQ5_0 b;
  std::memcpy(&b, q.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3C00);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4));
  EXPECT_EQ(dequantize(GgmlType::Q5_0, q, 32), x);
}

TEST(Quant, KQuantsRecoverExactGrids) {
  // Data that lies on each format's grid comes back almost exactly: the only loss is
  // the fp16 rounding of the super-block scale (at most 2^-11 relative).
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 16);
  auto y = dequantize(GgmlType::Q4_K, quantize(GgmlType::Q4_K, x), 256);
  for (int i = 0; i < 256; ++i)
    EXPECT_NEAR(y[i], x[i], 5e-4f * x[i] + 1e-5f) << i;  // fp16 d: 2^-11 relative
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 32);
  y = dequantize(GgmlType::Q5_K, quantize(GgmlType::Q5_K, x), 256);
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(y[i], x[i], 5e-4f * x[i] + 1e-5f) << i;
  // Q6_K: every 16-group starts at -32 so its scale is exactly 1 and d = -1/128.
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(-32 + 4 * (i % 16));
  y = dequantize(GgmlType::Q6_K, quantize(GgmlType::Q6_K, x), 256);
  EXPECT_EQ(y, x);
  // Zero blocks stay zero.
  std::vector<float> z(256, 0.f);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
    EXPECT_EQ(dequantize(t, quantize(t, z), 256), z);
}

// Per-block worst case of one element: half a step of the block's grid plus fp16 scale
// rounding, with `steps` the number of levels between the block's extremes.
struct Bound {
  GgmlType type;
  float max_rel_to_block_range;  // max |err| / (max - min) over each block
  float rmse_rel;                // RMSE / RMS of the data, gaussian input
};

TEST(Quant, RoundTripErrorBounds) {
  const Bound bounds[] = {
      {GgmlType::F32, 0.f, 0.f},           {GgmlType::F16, 5e-4f, 5e-4f},
      {GgmlType::BF16, 4e-3f, 4e-3f},      {GgmlType::Q8_0, 0.6f / 127, 0.006f},
      {GgmlType::Q4_0, 1.0f / 8, 0.12f},   {GgmlType::Q4_1, 0.5f / 15 * 1.05f, 0.1f},
      {GgmlType::Q5_0, 1.0f / 16, 0.06f},  {GgmlType::Q5_1, 0.5f / 31 * 1.05f, 0.05f},
      {GgmlType::Q4_K, 1.0f / 8, 0.1f},    {GgmlType::Q5_K, 1.0f / 16, 0.05f},
      {GgmlType::Q6_K, 1.0f / 32, 0.025f},
  };
  for (const Bound& b : bounds) {
    const int64_t bs = ggml_type_info(b.type).block_size;
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const size_t n = static_cast<size_t>(std::max<int64_t>(bs, 256) * (seed + 1));
      auto x = testing::random_floats(n, seed, 0.5f * seed);
      if (seed == 6)
        for (size_t i = 0; i < n; i += 7) x[i] = 0.f;  // sparse blocks
      auto y = dequantize(b.type, quantize(b.type, x), n);
      double se = 0, ss = 0;
      const int64_t range_block = std::max<int64_t>(bs, 32);
      for (size_t i0 = 0; i0 < n; i0 += range_block) {
        const auto [mn, mx] = std::minmax_element(x.begin() + i0, x.begin() + i0 + range_block);
        const float range = std::max(*mx, 0.f) - std::min(*mn, 0.f);
        for (size_t i = i0; i < i0 + range_block; ++i) {
          const float err = std::fabs(y[i] - x[i]);
          if (b.type == GgmlType::F16 || b.type == GgmlType::BF16)
            ASSERT_LE(err, b.max_rel_to_block_range * std::fabs(x[i]) + 1e-7f);
          else
            ASSERT_LE(err, b.max_rel_to_block_range * range * 1.01f + 1e-6f)
                << ggml_type_info(b.type).name << " seed " << seed << " i " << i;
          se += static_cast<double>(err) * err;
          ss += static_cast<double>(x[i]) * x[i];
        }
      }
      EXPECT_LE(std::sqrt(se / ss), b.rmse_rel) << ggml_type_info(b.type).name;
    }
  }
}

TEST(Quant, DispatchedMatchesReference) {
  for (GgmlType t : kWeightTypes) {
    const int64_t bs = ggml_type_info(t).block_size;
    for (int64_t nb : {1, 3, 8}) {
      const int64_t n = std::max<int64_t>(bs, 32) * nb + (bs == 1 ? 5 : 0);
      auto x = testing::random_floats(static_cast<size_t>(n), static_cast<uint32_t>(n), 2.f);
      std::vector<uint8_t> q(ggml_row_size(t, n)), q_ref(q.size());
      quantize_row(t, x.data(), q.data(), n);
      quantize_row_ref(t, x.data(), q_ref.data(), n);
      EXPECT_EQ(q, q_ref) << ggml_type_info(t).name;  // weight quantizers are bit-exact
      std::vector<float> y(n), y_ref(n);
      dequantize_row(t, q.data(), y.data(), n);
      dequantize_row_ref(t, q.data(), y_ref.data(), n);
      EXPECT_EQ(y, y_ref) << ggml_type_info(t).name;
    }
  }
}

TEST(Quant, Q8_KActivationsFastMatchesReference) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    auto x = testing::random_floats(512, seed, 3.f);
    if (seed == 1) std::fill(x.begin(), x.begin() + 256, 0.f);
    if (seed == 2) x[3] = -100.f, x[9] = 100.f;  // equal magnitudes: the first one wins
    std::vector<BlockQ8_K> a(2), b(2);
    quantize_row(GgmlType::Q8_K, x.data(), a.data(), 512);
    quantize_row_ref(GgmlType::Q8_K, x.data(), b.data(), 512);
    ASSERT_EQ(std::memcmp(a.data(), b.data(), sizeof(BlockQ8_K) * 2), 0) << seed;
    std::vector<float> y(512);
    dequantize_row(GgmlType::Q8_K, a.data(), y.data(), 512);
    for (int i = 0; i < 512; ++i) ASSERT_NEAR(y[i], x[i], std::fabs(a[i / 256].d) * 0.5001f);
  }
}

TEST(Quant, BadRowsAreClearErrors) {
  std::vector<float> x(100);
  std::vector<uint8_t> q(1000);
  EXPECT_THROW(quantize_row(GgmlType::Q4_0, x.data(), q.data(), 33), std::invalid_argument);
  EXPECT_THROW(quantize_row(GgmlType::Q4_K, x.data(), q.data(), 32), std::invalid_argument);
  EXPECT_THROW(dequantize_row(GgmlType::Q2_K, q.data(), x.data(), 256), std::invalid_argument);
  EXPECT_THROW(dequantize_row(GgmlType::Q6_K, q.data(), x.data(), -256), std::invalid_argument);
  EXPECT_TRUE(kernels_support(GgmlType::Q4_K));
  EXPECT_FALSE(kernels_support(GgmlType::Q3_K));
  EXPECT_FALSE(kernels_support(GgmlType::Q8_K));  // activation-only format
}

}  // namespace
}  // namespace qwen3
