// fp16/bf16 conversions: every half value against the CPU's own F16C conversion,
// fp32 -> fp16 rounding on edge cases and random values, and bf16 round-to-nearest-even.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/fp16.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

__attribute__((target("f16c"))) float hw_h2f(uint16_t h) {
  return _cvtsh_ss(h);
}
__attribute__((target("f16c"))) uint16_t hw_f2h(float f) {
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Fp16, EveryHalfMatchesHardware) {
  if (!cpu_features().f16c) GTEST_SKIP() << "no F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = fp16_to_fp32(static_cast<uint16_t>(h)), b = hw_h2f(static_cast<uint16_t>(h));
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << h;
    } else {
      ASSERT_EQ(bits(a), bits(b)) << "half 0x" << std::hex << h;
    }
  }
}

TEST(Fp16, FloatToHalfRoundsLikeHardware) {
  if (!cpu_features().f16c) GTEST_SKIP() << "no F16C";
  std::vector<float> cases = {0.f,
                              -0.f,
                              1.f,
                              -1.f,
                              65504.f,
                              65520.f,
                              65519.f,
                              1e6f,
                              -1e6f,
                              5.96e-8f,
                              2.98e-8f,
                              2.99e-8f,
                              6.1e-5f,
                              6.097e-5f,
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::denorm_min(),
                              1.0009765625f,
                              1.00048828125f /* tie -> even */,
                              1.00146484375f /* tie -> up */};
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) cases.push_back(from_bits(rng()));  // every exponent
  for (float f : cases) {
    if (std::isnan(f)) {
      EXPECT_EQ(fp32_to_fp16(f) & 0x7C00, 0x7C00);
      EXPECT_NE(fp32_to_fp16(f) & 0x03FF, 0);
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), hw_f2h(f)) << f << " bits 0x" << std::hex << bits(f);
  }
}

TEST(Fp16, RowVersionsMatchScalar) {
  auto x = testing::random_floats(1037, 3, 100.f);
  std::vector<uint16_t> h(x.size()), h_ref(x.size());
  std::vector<float> back(x.size());
  fp32_to_fp16_row(x.data(), h.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) h_ref[i] = fp32_to_fp16(x[i]);
  EXPECT_EQ(h, h_ref);
  fp16_to_fp32_row(h.data(), back.data(), static_cast<int64_t>(h.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(bits(back[i]), bits(fp16_to_fp32(h[i])));
  std::vector<uint16_t> b(x.size());
  fp32_to_bf16_row(x.data(), b.data(), static_cast<int64_t>(x.size()));
  bf16_to_fp32_row(b.data(), back.data(), static_cast<int64_t>(b.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(b[i], fp32_to_bf16(x[i]));
    ASSERT_EQ(bits(back[i]), bits(bf16_to_fp32(b[i])));
    ASSERT_LE(std::fabs(back[i] - x[i]), std::ldexp(std::fabs(x[i]), -8));  // half an ulp of 8 bits
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001u)), 0x3F81);  // above the tie
  EXPECT_EQ(fp32_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7F7FFFFFu)), 0x7F80);    // overflows to inf
  const uint16_t nan = fp32_to_bf16(from_bits(0x7F800001u));  // signalling NaN
  EXPECT_EQ(nan & 0x7F80, 0x7F80);
  EXPECT_NE(nan & 0x0040, 0);  // made quiet
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0xC040), -3.0f);
}

TEST(CpuFeatures, ForceScalarSwitch) {
  const bool before = force_scalar();
  set_force_scalar(true);
  EXPECT_FALSE(use_avx2());
  set_force_scalar(false);
  const CpuFeatures& f = cpu_features();
  EXPECT_EQ(use_avx2(), f.avx2 && f.fma && f.f16c);
  set_force_scalar(before);
}

}  // namespace
}  // namespace qwen3
