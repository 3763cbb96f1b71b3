// Which SIMD paths this CPU can run (CPUID), and a switch that forces the scalar
// reference kernels so tests can compare both paths on the same machine.
#pragma once

namespace qwen3 {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
};

// Detected once; the AVX2 kernels need all three.
const CpuFeatures& cpu_features();

// True when the AVX2+FMA+F16C kernels run: the CPU has them and the scalar path is not
// forced (env QWEN3_FORCE_SCALAR=1 at start-up, or set_force_scalar(true)).
bool use_avx2();
void set_force_scalar(bool force);
bool force_scalar();

}  // namespace qwen3
