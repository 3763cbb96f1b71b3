// The fast K-quant quantizers (quantize_row on an AVX2 machine) write exactly the bytes of
// the ggml reference transcription (quantize_row_ref) on many rows: gaussian, uniform,
// one-signed, outliers, constant and zero sub-blocks, tiny and huge magnitudes, ties.
// kernels_quant_golden_test checks the reference against ggml's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/quant.h"

namespace qwen3 {
namespace {

std::vector<float> make_row(int kind, std::mt19937& rng, int n) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    float v = g(rng);
    switch (kind % 10) {
      case 0:  // gaussian
        break;
      case 1:  // uniform, weight-like scale
        v = u(rng) * 0.05f;
        break;
      case 2:  // one-signed
        v = std::fabs(v) + 0.1f;
        break;
      case 3:  // negative one-signed
        v = -std::fabs(v) * 3;
        break;
      case 4:  // outliers
        v = (rng() % 37 == 0) ? v * 100 : v;
        break;
      case 5:  // zero and constant sub-blocks
        v = (i / 16) % 3 == 0 ? 0.0f : (i / 32) % 2 == 0 ? 0.25f : v;
        break;
      case 6:  // tiny
        v *= 1e-12f;
        break;
      case 7:  // huge
        v *= 1e4f;
        break;
      case 8:  // few distinct values (ties in the searches)
        v = static_cast<float>(static_cast<int>(rng() % 7) - 3) * 0.125f;
        break;
      default:  // sparse
        v = rng() % 5 == 0 ? v : 0.0f;
        break;
    }
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

TEST(ConvertQuantExact, FastKQuantsEqualTheReference) {
  if (!use_avx2()) GTEST_SKIP() << "no AVX2: quantize_row is the reference";
  std::mt19937 rng(7);
  const int n = 4 * kQK_K;
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const size_t bytes = ggml_row_size(t, n);
    std::vector<uint8_t> fast(bytes), ref(bytes);
    for (int row = 0; row < 600; ++row) {
      const std::vector<float> x = make_row(row, rng, n);
      quantize_row(t, x.data(), fast.data(), n);
      quantize_row_ref(t, x.data(), ref.data(), n);
      ASSERT_EQ(std::memcmp(fast.data(), ref.data(), bytes), 0)
          << ggml_type_info(t).name << " row " << row << " (kind " << row % 10 << ")";
    }
  }
}

}  // namespace
}  // namespace qwen3
