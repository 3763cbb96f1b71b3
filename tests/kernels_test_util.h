// Shared helpers of the kernels tests: seeded random data and a guard that runs a
// block with the scalar path forced.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"

namespace qwen3::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Forces the scalar kernels for its lifetime.
class ScalarScope {
 public:
  ScalarScope() : prev_(force_scalar()) { set_force_scalar(true); }
  ~ScalarScope() { set_force_scalar(prev_); }

 private:
  bool prev_;
};

inline bool have_avx2() {
  const CpuFeatures& f = cpu_features();
  return f.avx2 && f.fma && f.f16c && !force_scalar();
}

}  // namespace qwen3::testing
