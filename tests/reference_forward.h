// A plain float32 Qwen3 forward pass for tests: weights dequantized once with the scalar
// reference dequantizer, no SIMD, no KV cache (every call recomputes the whole sequence),
// double accumulators. Written from the Qwen3 description in DESIGN.md, independently of
// src/model, so the engine is checked against it. Qwen3 MoE follows transformers'
// Qwen3MoeSparseMoeBlock (softmax router in double, top-k, renormalised when
// norm_topk_prob, weighted sum of SwiGLU experts); YaRN follows transformers'
// _compute_yarn_parameters (frequency ramp between beta_fast 32 and beta_slow 1,
// cos/sin times 0.1 ln(factor) + 1).
#pragma once

#include <algorithm>
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
  std::vector<float> router;  // MoE: n_expert x n_embd; gate/up/down hold all experts
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
    if (m.c.n_expert > 0) {  // 3-D [expert][rows][cols]
      l.router = ref_dequant(f, p + "ffn_gate_inp.weight");
      l.gate = ref_dequant(f, p + "ffn_gate_exps.weight");
      l.up = ref_dequant(f, p + "ffn_up_exps.weight");
      l.down = ref_dequant(f, p + "ffn_down_exps.weight");
    } else {
      l.gate = ref_dequant(f, p + "ffn_gate.weight");
      l.up = ref_dequant(f, p + "ffn_up.weight");
      l.down = ref_dequant(f, p + "ffn_down.weight");
    }
    m.layers.push_back(std::move(l));
  }
  return m;
}

// y[r] = sum_i W[r*cols + i] * x[i]
inline void ref_matvec(const float* W, const float* x, int64_t rows, int64_t cols, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t i = 0; i < cols; ++i) s += static_cast<double>(W[r * cols + i]) * x[i];
    y[r] = static_cast<float>(s);
  }
}
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

// The rotary frequencies of a config: theta^(-2i/head_dim), or YaRN's blend (transformers'
// _compute_yarn_parameters with truncate=True) and its attention factor.
inline std::vector<double> ref_rope_freqs(const Qwen3Config& c, double* mscale) {
  const int dim = c.head_dim;
  const double base = c.rope_theta;
  std::vector<double> inv(static_cast<size_t>(dim / 2));
  for (int i = 0; i < dim / 2; ++i)
    inv[static_cast<size_t>(i)] = 1.0 / std::pow(base, 2.0 * i / dim);
  *mscale = 1.0;
  if (!(c.yarn_factor > 1.0f)) return inv;
  const double factor = c.yarn_factor, pi = std::acos(-1.0);
  auto corr_dim = [&](double n_rot) {
    return dim * std::log(c.yarn_orig_ctx / (n_rot * 2 * pi)) / (2 * std::log(base));
  };
  double low = std::max(std::floor(corr_dim(32.0)), 0.0);
  double high = std::min(std::ceil(corr_dim(1.0)), static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int i = 0; i < dim / 2; ++i) {
    const double ramp = std::min(1.0, std::max(0.0, (i - low) / (high - low)));
    const double extrapolation_factor = 1.0 - ramp;
    const double extrap = inv[static_cast<size_t>(i)], interp = extrap / factor;
    inv[static_cast<size_t>(i)] =
        interp * (1 - extrapolation_factor) + extrap * extrapolation_factor;
  }
  *mscale = 0.1 * std::log(factor) + 1.0;
  return inv;
}

// NEOX rotation: element i pairs with i + head_dim/2, angle pos * freq[i], magnitude mscale.
inline void ref_rope(float* x, int head_dim, int pos, const std::vector<double>& freqs,
                     double mscale) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const double a = pos * freqs[static_cast<size_t>(i)];
    const double c = std::cos(a) * mscale, s = std::sin(a) * mscale;
    const double x0 = x[i], x1 = x[i + half];
    x[i] = static_cast<float>(x0 * c - x1 * s);
    x[i + half] = static_cast<float>(x0 * s + x1 * c);
  }
}

// Qwen3MoeSparseMoeBlock for one token: out = sum over the top-k experts of
// weight_e * down_e(silu(gate_e x) * up_e x).
inline void ref_moe(const Qwen3Config& c, const RefLayer& L, const float* xn, float* out) {
  const int E = c.n_embd, X = c.n_ff_exp, NE = c.n_expert, k = c.n_expert_used;
  std::vector<float> logits(static_cast<size_t>(NE));
  ref_matvec(L.router, xn, NE, E, logits.data());
  double mx = logits[0], sum = 0;
  for (float l : logits) mx = std::max(mx, static_cast<double>(l));
  std::vector<double> p(static_cast<size_t>(NE));
  for (int e = 0; e < NE; ++e) sum += p[static_cast<size_t>(e)] = std::exp(logits[e] - mx);
  for (double& v : p) v /= sum;
  std::vector<int> order(static_cast<size_t>(NE));
  for (int e = 0; e < NE; ++e) order[static_cast<size_t>(e)] = e;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)];
  });
  double wsum = 0;
  for (int j = 0; j < k; ++j) wsum += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
  std::vector<double> acc(static_cast<size_t>(E), 0.0);
  std::vector<float> g(static_cast<size_t>(X)), u(static_cast<size_t>(X)),
      d(static_cast<size_t>(E));
  for (int j = 0; j < k; ++j) {
    const int e = order[static_cast<size_t>(j)];
    const double w = p[static_cast<size_t>(e)] / (c.norm_topk_prob ? wsum : 1.0);
    const size_t off = static_cast<size_t>(e) * X * E;
    ref_matvec(L.gate.data() + off, xn, X, E, g.data());
    ref_matvec(L.up.data() + off, xn, X, E, u.data());
    for (int i = 0; i < X; ++i) g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-g[i])) * u[i]);
    ref_matvec(L.down.data() + off, g.data(), E, X, d.data());
    for (int i = 0; i < E; ++i) acc[static_cast<size_t>(i)] += w * d[i];
  }
  for (int i = 0; i < E; ++i) out[i] = static_cast<float>(acc[static_cast<size_t>(i)]);
}

// Logits for the tokens `ids` (positions 0..n-1): all n rows, or only the last if
// last_only. Returned row-major, n_rows x n_vocab.
inline std::vector<float> reference_logits(const RefModel& m, const std::vector<int32_t>& ids,
                                           bool last_only = false) {
  const Qwen3Config& c = m.c;
  const int n = static_cast<int>(ids.size());
  const int E = c.n_embd, hd = c.head_dim, QD = c.q_dim(), KD = c.kv_dim(), F = c.n_ff;
  const int group = c.n_head / c.n_head_kv;
  double mscale = 1.0;
  const std::vector<double> freqs = ref_rope_freqs(c, &mscale);
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
        ref_rope(qh, hd, t, freqs, mscale);
      }
      for (int h = 0; h < c.n_head_kv; ++h) {
        float* kh = &k[t * KD + h * hd];
        ref_rmsnorm(kh, L.k_norm.data(), kh, hd, c.rms_eps);
        ref_rope(kh, hd, t, freqs, mscale);
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
      if (c.n_expert > 0) {
        ref_moe(c, L, xn.data(), o.data());
      } else {
        ref_matvec(L.gate, xn.data(), F, E, g.data());
        ref_matvec(L.up, xn.data(), F, E, u.data());
        for (int i = 0; i < F; ++i)
          g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-g[i])) * u[i]);
        ref_matvec(L.down, g.data(), E, F, o.data());
      }
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
