#include "vision/vision_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"

namespace qwen3::vision {

#if QWEN3_ARCH_X86
namespace avx512 {  // vision_gemm_avx512.cpp
void panel_f32(const float* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias);
void panel_f16(const uint16_t* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias);
}  // namespace avx512
namespace avx2 {  // vision_gemm_avx2.cpp
void panel_f32(const float* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias);
void panel_f16(const uint16_t* w, const float* x, int64_t k, float* y, int64_t ldy, int nt, int nj,
               const float* bias);
}  // namespace avx2
#endif

namespace gemm {

size_t packed_x_floats(int64_t n_tok, int64_t k) {
  return static_cast<size_t>((n_tok + kMR - 1) / kMR) * kMR * static_cast<size_t>(k);
}

void pack_x(const float* X, int64_t ldx, int64_t n_tok, int64_t k, float* out, ThreadPool* pool) {
  const int64_t n_blocks = (n_tok + kMR - 1) / kMR;
  auto run = [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      float* o = out + b * kMR * k;
      const int nt = static_cast<int>(std::min<int64_t>(kMR, n_tok - b * kMR));
      const float* rows[kMR];
      for (int t = 0; t < nt; ++t) rows[t] = X + (b * kMR + t) * ldx;
      for (int64_t i = 0; i < k; ++i) {
        int t = 0;
        for (; t < nt; ++t) o[i * kMR + t] = rows[t][i];
        for (; t < kMR; ++t) o[i * kMR + t] = 0.0f;
      }
    }
  };
  if (pool && n_blocks > 1)
    pool->parallel_for(n_blocks, run);
  else
    run(0, n_blocks, 0);
}

bool packed_kernel_available() {
#if QWEN3_ARCH_X86
  const IsaLevel l = isa_level();
  return l == IsaLevel::Avx2 || l == IsaLevel::AvxVnni || avx512_family(l);
#else
  return false;
#endif
}

}  // namespace gemm

using gemm::kMR;
using gemm::kNR;

PackedMatrix PackedMatrix::pack(const WeightMatrix& W) {
  if (W.type != GgmlType::F32 && W.type != GgmlType::F16)
    throw std::invalid_argument("vision: weight matrices must be F32 or F16");
  PackedMatrix m;
  m.rows_ = W.rows, m.cols_ = W.cols, m.f16_ = W.type == GgmlType::F16, m.plain_ = W;
  if (!gemm::packed_kernel_available()) return m;
  const int64_t n_panels = (W.rows + kNR - 1) / kNR, K = W.cols;
  const size_t n = static_cast<size_t>(n_panels) * kNR * K;
  if (m.f16_) {
    m.p16_.resize(n);
    const auto* src = static_cast<const uint16_t*>(W.data);
    uint16_t* dst = m.p16_.data();
    for (int64_t p = 0; p < n_panels; ++p)
      for (int j = 0; j < kNR; ++j) {
        const int64_t r = p * kNR + j;
        uint16_t* d = dst + p * kNR * K + j;
        if (r < W.rows)
          for (int64_t i = 0; i < K; ++i) d[i * kNR] = src[r * K + i];
        else
          for (int64_t i = 0; i < K; ++i) d[i * kNR] = 0;
      }
  } else {
    m.pack_rows_f32(static_cast<const float*>(W.data), K, W.rows, K);
  }
  return m;
}

void PackedMatrix::pack_rows_f32(const float* src, int64_t ld, int64_t rows, int64_t cols) {
  rows_ = rows, cols_ = cols, f16_ = false;
  const int64_t n_panels = (rows + kNR - 1) / kNR;
  p32_.resize(static_cast<size_t>(n_panels) * kNR * cols);
  float* dst = p32_.data();
  for (int64_t p = 0; p < n_panels; ++p) {
    float* d = dst + p * kNR * cols;
    const int nj = static_cast<int>(std::min<int64_t>(kNR, rows - p * kNR));
    for (int64_t i = 0; i < cols; ++i) {
      int j = 0;
      for (; j < nj; ++j) d[i * kNR + j] = src[(p * kNR + j) * ld + i];
      for (; j < kNR; ++j) d[i * kNR + j] = 0.0f;
    }
  }
}

void PackedMatrix::pack_cols_f32(const float* src, int64_t ld, int64_t rows_in, int64_t outputs) {
  rows_ = outputs, cols_ = rows_in, f16_ = false;
  const int64_t n_panels = (outputs + kNR - 1) / kNR;
  p32_.resize(static_cast<size_t>(n_panels) * kNR * rows_in);
  float* dst = p32_.data();
  for (int64_t p = 0; p < n_panels; ++p) {
    float* d = dst + p * kNR * rows_in;
    const int nj = static_cast<int>(std::min<int64_t>(kNR, outputs - p * kNR));
    for (int64_t i = 0; i < rows_in; ++i) {
      const float* s = src + i * ld + p * kNR;
      float* o = d + i * kNR;
      std::memcpy(o, s, nj * sizeof(float));
      std::fill(o + nj, o + kNR, 0.0f);
    }
  }
}

void PackedMatrix::run_panel(int64_t p, const float* Xp, int64_t n_tok, float* Y, int64_t ldy,
                             const float* bias) const {
#if QWEN3_ARCH_X86
  const int nj = static_cast<int>(std::min<int64_t>(kNR, rows_ - p * kNR));
  const float* b = bias ? bias + p * kNR : nullptr;
  const bool wide = avx512_family(isa_level());
  for (int64_t t0 = 0; t0 < n_tok; t0 += kMR) {
    const int nt = static_cast<int>(std::min<int64_t>(kMR, n_tok - t0));
    const float* x = Xp + t0 * cols_;
    float* y = Y + t0 * ldy + p * kNR;
    if (f16_) {
      const uint16_t* w = p16_.data() + p * kNR * cols_;
      (wide ? avx512::panel_f16 : avx2::panel_f16)(w, x, cols_, y, ldy, nt, nj, b);
    } else {
      const float* w = p32_.data() + p * kNR * cols_;
      (wide ? avx512::panel_f32 : avx2::panel_f32)(w, x, cols_, y, ldy, nt, nj, b);
    }
  }
#else
  (void)p, (void)Xp, (void)n_tok, (void)Y, (void)ldy, (void)bias;
  throw std::logic_error("vision gemm: no packed kernel on this architecture");
#endif
}

void PackedMatrix::multiply_packed(const float* Xp, int64_t n_tok, float* Y, int64_t ldy,
                                   const float* bias) const {
  const int64_t n_panels = (rows_ + kNR - 1) / kNR;
  for (int64_t p = 0; p < n_panels; ++p) run_panel(p, Xp, n_tok, Y, ldy, bias);
}

void PackedMatrix::multiply(const float* X, int64_t n_tok, float* Y, int64_t ldy, const float* bias,
                            ThreadPool& pool, AlignedArray<float>* xbuf) const {
  if (n_tok <= 0) return;
  if (!packed() || !gemm::packed_kernel_available()) {
    if (!plain_.data) throw std::logic_error("vision gemm: matrix has no plain data");
    std::vector<float> tmp;
    float* out = Y;
    if (ldy != rows_) {
      tmp.resize(static_cast<size_t>(n_tok * rows_));
      out = tmp.data();
    }
    matmul(plain_, X, n_tok, out, pool);
    pool.parallel_for(n_tok, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) {
        float* y = Y + t * ldy;
        const float* o = out + t * rows_;
        for (int64_t i = 0; i < rows_; ++i) y[i] = o[i] + (bias ? bias[i] : 0.0f);
      }
    });
    return;
  }
  AlignedArray<float> own;
  AlignedArray<float>& xp = xbuf ? *xbuf : own;
  xp.resize(gemm::packed_x_floats(n_tok, cols_));
  gemm::pack_x(X, cols_, n_tok, cols_, xp.data(), &pool);
  // Work items: one panel (kNR outputs) for all tokens, handed out from a counter so a
  // thread slowed by other load takes fewer.
  const int64_t n_panels = (rows_ + kNR - 1) / kNR;
  std::atomic<int64_t> next{0};
  const float* xpp = xp.data();
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int) {
    for (int64_t p; (p = next.fetch_add(1, std::memory_order_relaxed)) < n_panels;)
      run_panel(p, xpp, n_tok, Y, ldy, bias);
  });
}

}  // namespace qwen3::vision
