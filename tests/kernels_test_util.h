// Shared helpers of the kernels tests: seeded random data and guards that run a block
// at one ISA level (the scalar path, or any level this CPU has).
#pragma once

#include <cstdint>
#include <random>
#include <string>
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

// Runs at level l for its lifetime (the CPU must have it: see available_isas()).
class IsaScope {
 public:
  explicit IsaScope(IsaLevel l) : prev_(isa_level()) { set_isa(l); }
  ~IsaScope() { set_isa(prev_); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  IsaLevel prev_;
};

// Forces the scalar kernels for its lifetime.
class ScalarScope : public IsaScope {
 public:
  ScalarScope() : IsaScope(IsaLevel::Scalar) {}
};

// Every SIMD level (above scalar) of this build's architecture, and whether this CPU
// has it: tests loop over all of them and report the ones they skip.
inline std::vector<IsaLevel> simd_levels() {
#if QWEN3_ARCH_ARM64
  return {IsaLevel::Neon};
#else
  return {IsaLevel::Avx2, IsaLevel::AvxVnni, IsaLevel::Avx512};
#endif
}
inline std::string skipped_levels() {
  std::string s;
  for (IsaLevel l : simd_levels())
    if (!cpu_has(l)) s += std::string(s.empty() ? "" : ", ") + isa_name(l);
  return s;
}

inline bool have_avx2() {
  const CpuFeatures& f = cpu_features();
  return f.avx2 && f.fma && f.f16c && !force_scalar();
}

}  // namespace qwen3::testing
