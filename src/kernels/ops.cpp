#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu_features.h"
#include "kernels/kernels_avx2.h"
#include "kernels/kernels_avx512.h"

namespace qwen3 {

namespace {
// The avx512 and amx levels run the 16-lane versions (the same bits as AVX2's).
bool use_avx512_ops() {
#if QWEN3_ARCH_X86
  return avx512_family(isa_level());
#else
  return false;
#endif
}
}  // namespace

void rmsnorm_ref(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;  // double: the reference should not lose bits on long rows
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float s = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * w[i];
}

void softmax_ref(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul_ref(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_ref(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void scale_ref(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

void rope_neox_ref(float* x, int n_heads, int head_dim, const float* cos, const float* sin) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = a * sin[i] + b * cos[i];
    }
  }
}

void attn_scores_f32_ref(const float* k, int64_t n, int dim, const float* q, float scale,
                         float* scores) {
  for (int64_t j = 0; j < n; ++j) scores[j] = dot_f32_ref(k + j * dim, q, dim) * scale;
}
void attn_mix_f32_ref(const float* v, int64_t n, int dim, const float* p, float* out) {
  for (int64_t j = 0; j < n; ++j)
    for (int d = 0; d < dim; ++d) out[d] += p[j] * v[j * dim + d];
}

RopeTable::RopeTable(int hd, float theta) : head_dim(hd), inv_freq(hd / 2) {
  for (int i = 0; i < hd / 2; ++i)
    inv_freq[i] = std::pow(static_cast<double>(theta), -2.0 * i / hd);
}

void RopeTable::at(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    // Angle in double: positions reach 10^5 and float would lose the phase.
    const double a = static_cast<double>(pos) * inv_freq[i];
    cos_out[i] = static_cast<float>(std::cos(a));
    sin_out[i] = static_cast<float>(std::sin(a));
  }
}

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
#if QWEN3_ARCH_X86
  if (use_avx512_ops()) return avx512::rmsnorm(x, w, y, n, eps);
  if (use_avx2()) return avx2::rmsnorm(x, w, y, n, eps);
#endif
  rmsnorm_ref(x, w, y, n, eps);
}
void softmax(float* x, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::softmax(x, n);
#endif
  softmax_ref(x, n);
}
void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx512_ops()) return avx512::silu_mul(gate, up, out, n);
  if (use_avx2()) return avx2::silu_mul(gate, up, out, n);
#endif
  silu_mul_ref(gate, up, out, n);
}
void add(const float* a, const float* b, float* y, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx512_ops()) return avx512::add(a, b, y, n);
  if (use_avx2()) return avx2::add(a, b, y, n);
#endif
  add_ref(a, b, y, n);
}
void scale(float* x, float s, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx512_ops()) return avx512::scale(x, s, n);
  if (use_avx2()) return avx2::scale(x, s, n);
#endif
  scale_ref(x, s, n);
}
float dot_f32(const float* a, const float* b, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::dot_f32(a, b, n);
#endif
  return dot_f32_ref(a, b, n);
}
void rope_neox(float* x, int n_heads, int head_dim, const float* cos, const float* sin) {
#if QWEN3_ARCH_X86
  if (use_avx512_ops()) return avx512::rope_neox(x, n_heads, head_dim, cos, sin);
  if (use_avx2()) return avx2::rope_neox(x, n_heads, head_dim, cos, sin);
#endif
  rope_neox_ref(x, n_heads, head_dim, cos, sin);
}
// The AVX2 versions need dim to be a multiple of 8 (every Qwen3 head_dim is).
void attn_scores_f32(const float* k, int64_t n, int dim, const float* q, float scale,
                     float* scores) {
#if QWEN3_ARCH_X86
  if (use_avx2() && dim % 8 == 0) return avx2::attn_scores_f32(k, n, dim, q, scale, scores);
#endif
  attn_scores_f32_ref(k, n, dim, q, scale, scores);
}
void attn_mix_f32(const float* v, int64_t n, int dim, const float* p, float* out) {
#if QWEN3_ARCH_X86
  if (use_avx2() && dim % 8 == 0) return avx2::attn_mix_f32(v, n, dim, p, out);
#endif
  attn_mix_f32_ref(v, n, dim, p, out);
}
void rope_neox(float* x, int n_heads, int head_dim, int64_t pos, float theta) {
  RopeTable t(head_dim, theta);
  std::vector<float> c(head_dim / 2), s(head_dim / 2);
  t.at(pos, c.data(), s.data());
  rope_neox(x, n_heads, head_dim, c.data(), s.data());
}

}  // namespace qwen3
