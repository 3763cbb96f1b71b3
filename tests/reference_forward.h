// A plain float32 Qwen3 forward pass for tests: weights dequantized once with the scalar
// reference dequantizer, no SIMD, no KV cache (every call recomputes the whole sequence),
// double accumulators. Written from the Qwen3 description in DESIGN.md, independently of
// src/model, so the engine is checked against it.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "kernels/quant.h"
#include "model/qwen3_config.h"

namespace qwen3::testing {

struct RefLayer {
  std::vector<float> attn_norm, wq, wk, wv, q_norm, k_norm, wo, ffn_norm, gate, up, down;
};

struct RefModel {
  Qwen3Config c;
  std::vector<float> embd, output_norm, output;  // output == embd when tied
  std::vector<RefLayer> layers;
};

inline std::vector<float> ref_dequant(const gguf::GgufFile& f, const std::string& name) {
  const gguf::TensorInfo* t = f.tensor(name);
  if (!t) throw std::runtime_error("reference: missing tensor " + name);
  const int64_t n = t->n_elements();
  const int64_t row = t->dims[0];
  std::vector<float> out(static_cast<size_t>(n));
  const size_t row_bytes = ggml_row_size(t->type, row);
  for (int64_t r = 0; r < n / row; ++r)
    dequantize_row_ref(t->type, static_cast<const uint8_t*>(t->data) + r * row_bytes,
                       out.data() + r * row, row);
  return out;
}

inline RefModel load_reference(const std::string& path) {
  gguf::GgufFile f = gguf::GgufFile::open(path);
  RefModel m;
  m.c = Qwen3Config::from_gguf(f);
  m.embd = ref_dequant(f, "token_embd.weight");
  m.output_norm = ref_dequant(f, "output_norm.weight");
  m.output = f.tensor("output.weight") ? ref_dequant(f, "output.weight") : m.embd;
  for (int i = 0; i < m.c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    RefLayer l;
    l.attn_norm = ref_dequant(f, p + "attn_norm.weight");
    l.wq = ref_dequant(f, p + "attn_q.weight");
    l.wk = ref_dequant(f, p + "attn_k.weight");
    l.wv = ref_dequant(f, p + "attn_v.weight");
    l.q_norm = ref_dequant(f, p + "attn_q_norm.weight");
    l.k_norm = ref_dequant(f, p + "attn_k_norm.weight");
    l.wo = ref_dequant(f, p + "attn_output.weight");
    l.ffn_norm = ref_dequant(f, p + "ffn_norm.weight");
    l.gate = ref_dequant(f, p + "ffn_gate.weight");
    l.up = ref_dequant(f, p + "ffn_up.weight");
    l.down = ref_dequant(f, p + "ffn_down.weight");
    m.layers.push_back(std::move(l));
  }
  return m;
}

// y[r] = sum_i W[r*cols + i] * x[i]
inline void ref_matvec(const std::vector<float>& W, const float* x, int64_t rows, int64_t cols,
                       float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t i = 0; i < cols; ++i) s += static_cast<double>(W[r * cols + i]) * x[i];
    y[r] = static_cast<float>(s);
  }
}

inline void ref_rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double inv = 1.0 / std::sqrt(ss / n + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * inv * w[i]);
}

// NEOX rotation: element i pairs with i + head_dim/2, angle pos * theta^(-2i/head_dim).
inline void ref_rope(float* x, int head_dim, int pos, float theta) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const double freq = std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
    const double a = pos * freq;
    const double c = std::cos(a), s = std::sin(a);
    const double x0 = x[i], x1 = x[i + half];
    x[i] = static_cast<float>(x0 * c - x1 * s);
    x[i + half] = static_cast<float>(x0 * s + x1 * c);
  }
}

// Logits for the tokens `ids` (positions 0..n-1): all n rows, or only the last if
// last_only. Returned row-major, n_rows x n_vocab.
inline std::vector<float> reference_logits(const RefModel& m, const std::vector<int32_t>& ids,
                                           bool last_only = false) {
  const Qwen3Config& c = m.c;
  const int n = static_cast<int>(ids.size());
  const int E = c.n_embd, hd = c.head_dim, QD = c.q_dim(), KD = c.kv_dim(), F = c.n_ff;
  const int group = c.n_head / c.n_head_kv;
  std::vector<float> x(static_cast<size_t>(n) * E);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < E; ++i) x[t * E + i] = m.embd[static_cast<size_t>(ids[t]) * E + i];
  std::vector<float> xn(E), q(static_cast<size_t>(n) * QD), k(static_cast<size_t>(n) * KD),
      v(static_cast<size_t>(n) * KD), att(QD), o(E), g(F), u(F), scores(n);
  for (const RefLayer& L : m.layers) {
    for (int t = 0; t < n; ++t) {
      ref_rmsnorm(&x[t * E], L.attn_norm.data(), xn.data(), E, c.rms_eps);
      ref_matvec(L.wq, xn.data(), QD, E, &q[t * QD]);
      ref_matvec(L.wk, xn.data(), KD, E, &k[t * KD]);
      ref_matvec(L.wv, xn.data(), KD, E, &v[t * KD]);
      for (int h = 0; h < c.n_head; ++h) {
        float* qh = &q[t * QD + h * hd];
        ref_rmsnorm(qh, L.q_norm.data(), qh, hd, c.rms_eps);
        ref_rope(qh, hd, t, c.rope_theta);
      }
      for (int h = 0; h < c.n_head_kv; ++h) {
        float* kh = &k[t * KD + h * hd];
        ref_rmsnorm(kh, L.k_norm.data(), kh, hd, c.rms_eps);
        ref_rope(kh, hd, t, c.rope_theta);
      }
    }
    for (int t = 0; t < n; ++t) {
      for (int h = 0; h < c.n_head; ++h) {
        const float* qh = &q[t * QD + h * hd];
        const int kvh = h / group;
        double mx = -1e300;
        for (int j = 0; j <= t; ++j) {
          double s = 0;
          for (int d = 0; d < hd; ++d) s += static_cast<double>(qh[d]) * k[j * KD + kvh * hd + d];
          scores[j] = static_cast<float>(s / std::sqrt(static_cast<double>(hd)));
          mx = std::max(mx, static_cast<double>(scores[j]));
        }
        double sum = 0;
        for (int j = 0; j <= t; ++j) sum += std::exp(scores[j] - mx);
        for (int d = 0; d < hd; ++d) {
          double acc = 0;
          for (int j = 0; j <= t; ++j)
            acc += std::exp(scores[j] - mx) / sum * v[j * KD + kvh * hd + d];
          att[h * hd + d] = static_cast<float>(acc);
        }
      }
      ref_matvec(L.wo, att.data(), E, QD, o.data());
      for (int i = 0; i < E; ++i) x[t * E + i] += o[i];
      ref_rmsnorm(&x[t * E], L.ffn_norm.data(), xn.data(), E, c.rms_eps);
      ref_matvec(L.gate, xn.data(), F, E, g.data());
      ref_matvec(L.up, xn.data(), F, E, u.data());
      for (int i = 0; i < F; ++i) g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-g[i])) * u[i]);
      ref_matvec(L.down, g.data(), E, F, o.data());
      for (int i = 0; i < E; ++i) x[t * E + i] += o[i];
    }
  }
  const int first = last_only ? n - 1 : 0;
  std::vector<float> logits(static_cast<size_t>(n - first) * c.n_vocab);
  for (int t = first; t < n; ++t) {
    ref_rmsnorm(&x[t * E], m.output_norm.data(), xn.data(), E, c.rms_eps);
    ref_matvec(m.output, xn.data(), c.n_vocab, E,
               &logits[static_cast<size_t>(t - first) * c.n_vocab]);
  }
  return logits;
}

}  // namespace qwen3::testing
