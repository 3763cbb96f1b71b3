// Shared helpers of the kernels tests: seeded random data, random quantized matrices
// (plain and in the rows8 layout) with their products, and guards that run a block at
// one ISA level (the scalar path, or any level this CPU has).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"

namespace qwen3::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A random weight matrix quantized by the reference quantizer, plain and (for the rows8
// types, rows a multiple of 8) packed, with random activations that have outliers.
struct RandomMatmul {
  std::vector<uint8_t> plain, packed;
  std::vector<float> x;
  WeightMatrix W, P;  // plain, rows8 (P.data null if the matrix has no rows8 layout)
};

inline RandomMatmul random_matmul(GgmlType t, int64_t rows, int64_t cols, int64_t n_tok,
                                  uint32_t seed) {
  RandomMatmul p;
  const auto wf = random_floats(static_cast<size_t>(rows * cols), seed, 0.05f);
  p.x = random_floats(static_cast<size_t>(n_tok * cols), seed + 7, 1.0f);
  std::mt19937 rng(seed);
  for (int k = 0; k < 3; ++k) p.x[rng() % p.x.size()] *= 20.f;  // activation outliers
  const size_t rs = ggml_row_size(t, cols);
  p.plain.resize(rs * rows);
  for (int64_t r = 0; r < rows; ++r)
    quantize_row_ref(t, wf.data() + r * cols, &p.plain[r * rs], cols);
  p.W = WeightMatrix{t, rows, cols, p.plain.data()};
  p.P = WeightMatrix{t, rows, cols, nullptr};
  if (rows8_type(t) && rows % 8 == 0) {
    p.packed.resize(rows8_bytes(p.W));
    ThreadPool pool(2);
    p.P = to_rows8(p.W, p.packed.data(), pool);
  }
  return p;
}

// matmul at the current level with `threads` threads; matmul_ref.
inline std::vector<float> mm(const WeightMatrix& W, const std::vector<float>& x, int64_t n_tok,
                             int threads) {
  ThreadPool pool(threads);
  std::vector<float> y(static_cast<size_t>(n_tok * W.rows), NAN);
  matmul(W, x.data(), n_tok, y.data(), pool);
  return y;
}
inline std::vector<float> mm_ref(const WeightMatrix& W, const std::vector<float>& x,
                                 int64_t n_tok) {
  std::vector<float> y(static_cast<size_t>(n_tok * W.rows), NAN);
  matmul_ref(W, x.data(), n_tok, y.data());
  return y;
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
  return {IsaLevel::Avx2, IsaLevel::AvxVnni, IsaLevel::Avx512, IsaLevel::Amx};
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
