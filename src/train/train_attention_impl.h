// The loops of train_attention.h, written so that the compiler vectorizes them; included
// by train_attention.cpp (portable) and train_attention_avx2.cpp (-mavx2 -mfma), each in
// its own namespace QWEN3_TRAIN_ATTN_NS.
#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "train/train_attention.h"

namespace qwen3::train::QWEN3_TRAIN_ATTN_NS {

inline float dot(const float* __restrict a, const float* __restrict b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  float r = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

inline void axpy(float a, const float* __restrict x, float* __restrict y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

void attn_head_forward(const float* q, const float* k, const float* v, const AttnShape& s, float* P,
                       float* out) {
  const int n = s.n, hd = s.hd;
  for (int i = 0; i < n; ++i) {
    float* pi = P + static_cast<int64_t>(i) * n;
    const float* qi = q + i * s.q_stride;
    for (int j = 0; j <= i; ++j) pi[j] = s.scale * dot(qi, k + j * s.kv_stride, hd);
    softmax(pi, i + 1);  // the kernels' (vectorized exp)
    std::fill(pi + i + 1, pi + n, 0.0f);
    float* o = out + i * s.q_stride;
    std::fill(o, o + hd, 0.0f);
    for (int j = 0; j <= i; ++j) axpy(pi[j], v + j * s.kv_stride, o, hd);
  }
}

void attn_head_backward(const float* q, const float* k, const float* v, const float* P,
                        const float* dout, const AttnShape& s, float* dq, float* dk, float* dv,
                        float* dp) {
  const int n = s.n, hd = s.hd;
  for (int i = 0; i < n; ++i) {
    const float* pi = P + static_cast<int64_t>(i) * n;
    const float* di = dout + i * s.q_stride;
    double sum = 0;
    for (int j = 0; j <= i; ++j) {
      dp[j] = dot(di, v + j * s.kv_stride, hd);
      sum += static_cast<double>(pi[j]) * dp[j];
      axpy(pi[j], di, dv + j * s.kv_stride, hd);
    }
    float* dqi = dq + i * s.q_stride;
    std::fill(dqi, dqi + hd, 0.0f);
    const float* qi = q + i * s.q_stride;
    for (int j = 0; j <= i; ++j) {
      const float ds = s.scale * pi[j] * (dp[j] - static_cast<float>(sum));
      axpy(ds, k + j * s.kv_stride, dqi, hd);
      axpy(ds, qi, dk + j * s.kv_stride, hd);
    }
  }
}

}  // namespace qwen3::train::QWEN3_TRAIN_ATTN_NS
