// The vision encoder's matrix products: a weight matrix (F32 or F16, GGUF row order)
// repacked once at load into panels of 32 output rows, k-major, and multiplied by
// many activation rows at once with an AVX-512 register-blocked kernel (12 tokens x 32
// outputs per step, the activations broadcast); the attention's Q K^T and P V use the
// same kernel on panels packed per call. AVX2 CPUs run the same panels with a 6x16
// kernel; below AVX2 (or with QWEN3_ISA=scalar) the products go through kernels/matmul,
// whose scalar path is the reference.
// Why not kernels/matmul: its float tiles are dot-product shaped (2 rows x 4 tokens),
// built for decode; the encoder multiplies ~800 tokens at a time, where an outer-product
// kernel does 3-4x the work per load.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"

namespace qwen3::vision {

namespace gemm {
constexpr int kNR = 32;  // outputs per panel
constexpr int kMR = 12;  // tokens per kernel call

// X rows (n_tok rows of k floats, row stride ldx) packed for the kernel: blocks of kMR
// tokens, k-major inside a block (padding tokens are zero). Returns floats written.
size_t packed_x_floats(int64_t n_tok, int64_t k);
void pack_x(const float* X, int64_t ldx, int64_t n_tok, int64_t k, float* out, ThreadPool* pool);

// True if the packed kernel runs on this CPU at the current ISA level.
bool packed_kernel_available();

}  // namespace gemm

// 64-byte aligned storage (each kernel load is one cache line).
template <class T>
class AlignedArray {
 public:
  void resize(size_t n) {
    if (n <= n_) return;
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    ptr_.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    if (!ptr_) throw std::bad_alloc();
    n_ = n;
  }
  T* data() const { return ptr_.get(); }
  size_t size() const { return n_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> ptr_;
  size_t n_ = 0;
};

class PackedMatrix {
 public:
  PackedMatrix() = default;
  // W: rows = outputs, cols = inputs, F32 or F16, plain layout (kept for the fallback).
  static PackedMatrix pack(const WeightMatrix& W);
  // Panels from float rows: row r of the matrix is src[r * ld .. + cols) (K of one head).
  void pack_rows_f32(const float* src, int64_t ld, int64_t rows, int64_t cols);
  // Panels of the transpose: output j, input r = src[r * ld + j] (V of one head).
  void pack_cols_f32(const float* src, int64_t ld, int64_t rows_in, int64_t outputs);

  int64_t rows() const { return rows_; }
  // True if the panels hold the weights (the plain data is only the fallback's then).
  bool packed() const { return f16_ ? p16_.size() != 0 : p32_.size() != 0; }
  int64_t cols() const { return cols_; }

  // Y[t * ldy + n] = sum_k W[n][k] X[t * cols + k] (+ bias[n]), t < n_tok.
  // xbuf: where X is packed (kept by the caller for the next call), or nullptr for a
  // buffer of this call.
  void multiply(const float* X, int64_t n_tok, float* Y, int64_t ldy, const float* bias,
                ThreadPool& pool, AlignedArray<float>* xbuf = nullptr) const;
  // The same on activations already packed by gemm::pack_x, single-threaded (the
  // attention runs one head per thread).
  void multiply_packed(const float* Xp, int64_t n_tok, float* Y, int64_t ldy,
                       const float* bias) const;

 private:
  int64_t rows_ = 0, cols_ = 0;
  bool f16_ = false;
  WeightMatrix plain_{};        // the fallback's matrix (GGUF data)
  AlignedArray<float> p32_;     // panels, F32
  AlignedArray<uint16_t> p16_;  // panels, F16
  void run_panel(int64_t p, const float* Xp, int64_t n_tok, float* Y, int64_t ldy,
                 const float* bias) const;
};

}  // namespace qwen3::vision
