// LoraTrainStep: forward with saved block inputs, cross-entropy over the marked tokens,
// backward block by block with recomputed activations.
#include "train/lora_train_step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/feed_forward.h"
#include "model/model_weights.h"
#include "train/train_attention.h"

namespace qwen3::train {

namespace {

float* row(std::vector<float>& v, int64_t r, int64_t w) {
  return v.data() + r * w;
}

const LoraParam* find(const LoraParams* p, int l, int t) {
  return p ? p->find(l, static_cast<LoraTarget>(t)) : nullptr;
}
LoraParam* find(LoraParams* p, int l, int t) {
  return p ? p->find(l, static_cast<LoraTarget>(t)) : nullptr;
}

// out (+)= d/dx of y = x / sqrt(mean(x^2) + eps) * w, given dy.
void rmsnorm_back(const float* x, const float* w, const float* dy, int n, float eps, float* out,
                  bool accumulate) {
  double ss = 0, xwdy = 0;
  for (int i = 0; i < n; ++i) {
    ss += static_cast<double>(x[i]) * x[i];
    xwdy += static_cast<double>(x[i]) * w[i] * dy[i];
  }
  const double r = 1.0 / std::sqrt(ss / n + eps);
  const double k = r * r * r * xwdy / n;
  for (int i = 0; i < n; ++i) {
    const float g = static_cast<float>(r * w[i] * dy[i] - k * x[i]);
    out[i] = accumulate ? out[i] + g : g;
  }
}

}  // namespace

struct LoraTrainStep::Acts {
  std::vector<float> xn1, q0, k0, qr, kr, v, P, att, x2, xn2, g, u, h, tmp, delta;
  std::vector<float> ax[kNumLoraTargets];
  // Backward scratch.
  std::vector<float> dx2, dxn, dq, dk, dv, datt, dg, du, dh, dax, bt;
  // Mixture of experts (slot t * k + j: token t's j-th chosen expert).
  std::vector<float> logits;            // n x n_expert router logits
  std::vector<int> idx;                 // n x k chosen experts
  std::vector<float> w;                 // n x k their weights
  std::vector<float> sg, su;            // n*k x n_ff_exp: each slot's gate and up products
  std::vector<float> sd;                // n*k x n_embd: each slot's expert output
  std::vector<int> count, start, list;  // per expert: its slots, grouped (list)
  std::vector<float> xe, ge, ue, de;    // one expert's gathered rows (and backward scratch)
  std::vector<float> wt;                // one expert matrix transposed, F32
  std::vector<float> rf, dw;            // the router in F32; n*k weights' gradients
  void resize(const Qwen3Config& c, int n, int rank) {
    const size_t N = static_cast<size_t>(n);
    const size_t E = static_cast<size_t>(c.n_embd), QD = static_cast<size_t>(c.q_dim()),
                 KD = static_cast<size_t>(c.kv_dim()), F = static_cast<size_t>(c.n_ff);
    const size_t W = std::max({E, QD, F});
    for (auto* v : {&xn1, &x2, &xn2, &dx2}) v->resize(N * E);
    for (auto* v : {&q0, &qr, &att, &dq, &datt}) v->resize(N * QD);
    for (auto* v : {&k0, &kr, &this->v, &dk, &dv}) v->resize(N * KD);
    for (auto* v : {&g, &u, &h, &dg, &du, &dh}) v->resize(N * F);
    for (auto* v : {&tmp, &delta, &dxn}) v->resize(N * W);
    P.resize(static_cast<size_t>(c.n_head) * N * N);
    for (auto& a : ax) a.resize(N * static_cast<size_t>(rank));
    dax.resize(N * static_cast<size_t>(rank));
    bt.resize(W * static_cast<size_t>(rank));
    if (!c.is_moe()) return;
    const size_t NE = static_cast<size_t>(c.n_expert), K = static_cast<size_t>(c.n_expert_used),
                 X = static_cast<size_t>(c.n_ff_exp);
    logits.resize(N * NE);
    for (auto* v : {&idx, &list}) v->resize(N * K);
    for (auto* v : {&w, &dw}) v->resize(N * K);
    for (auto* v : {&sg, &su}) v->resize(N * K * X);
    sd.resize(N * K * E);
    for (auto* v : {&count, &start}) v->resize(NE);
    for (auto* v : {&xe, &de}) v->resize(N * E);
    for (auto* v : {&ge, &ue}) v->resize(N * X);
    wt.resize(E * X);
    rf.resize(NE * E);
  }
};

LoraTrainStep::LoraTrainStep(std::shared_ptr<const Qwen3Model> model, ThreadPool& pool,
                             bool build_transposes)
    : model_(std::move(model)), pool_(pool), rope_(model_->config()), acts_(new Acts) {
  if (build_transposes)
    transposed_ =
        std::make_unique<TransposedWeights>(TransposedWeights::build(model_->weights(), pool_));
}

LoraTrainStep::~LoraTrainStep() = default;

namespace {

int max_rank(const LoraParams* p) {
  int r = 1;
  if (p)
    for (const auto& q : p->params()) r = std::max(r, q.m.rank);
  return r;
}

// y = W x (+ s B A x); ax = A x kept for the backward.
void project(const WeightMatrix& W, const LoraParam* p, const float* x, int n, float* y, float* ax,
             float* delta, ThreadPool& pool) {
  matmul(W, x, n, y, pool);
  if (!p) return;
  matmul(p->m.A(), x, n, ax, pool);
  matmul(p->m.B(), ax, n, delta, pool);
  const size_t m = static_cast<size_t>(n) * p->m.out;
  const float s = p->m.scale;
  for (size_t i = 0; i < m; ++i) y[i] += s * delta[i];
}

}  // namespace

void LoraTrainStep::forward_layer(int l, const float* x, int n, Acts& a, const LoraParams* p) {
  const Qwen3Config& c = model_->config();
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const int E = c.n_embd, QD = c.q_dim(), KD = c.kv_dim(), F = c.n_ff, hd = c.head_dim;
  const int half = hd / 2, group = c.n_head / c.n_head_kv;
  const float eps = c.rms_eps;
  for (int t = 0; t < n; ++t) rmsnorm(x + t * E, L.attn_norm, row(a.xn1, t, E), E, eps);
  project(L.wq, find(p, l, 0), a.xn1.data(), n, a.q0.data(), a.ax[0].data(), a.delta.data(), pool_);
  project(L.wk, find(p, l, 1), a.xn1.data(), n, a.k0.data(), a.ax[1].data(), a.delta.data(), pool_);
  project(L.wv, find(p, l, 2), a.xn1.data(), n, a.v.data(), a.ax[2].data(), a.delta.data(), pool_);
  std::copy(a.q0.begin(), a.q0.begin() + static_cast<long>(n) * QD, a.qr.begin());
  std::copy(a.k0.begin(), a.k0.begin() + static_cast<long>(n) * KD, a.kr.begin());
  for (int t = 0; t < n; ++t) {
    float* qt = row(a.qr, t, QD);
    float* kt = row(a.kr, t, KD);
    for (int h = 0; h < c.n_head; ++h) rmsnorm(qt + h * hd, L.q_norm, qt + h * hd, hd, eps);
    for (int h = 0; h < c.n_head_kv; ++h) rmsnorm(kt + h * hd, L.k_norm, kt + h * hd, hd, eps);
    rope_neox(qt, c.n_head, hd, row(rope_cos_, t, half), row(rope_sin_, t, half));
    rope_neox(kt, c.n_head_kv, hd, row(rope_cos_, t, half), row(rope_sin_, t, half));
  }
  // Causal attention, one head per piece; P keeps the probabilities for the backward.
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t nn = static_cast<size_t>(n) * n;
  const AttnShape shape{n, hd, QD, KD, scale};
  pool_.parallel_for(c.n_head, [&](int64_t hb, int64_t he, int) {
    for (int64_t h = hb; h < he; ++h) {
      const int64_t g = h / group;
      attn_head_forward(a.qr.data() + h * hd, a.kr.data() + g * hd, a.v.data() + g * hd, shape,
                        a.P.data() + static_cast<size_t>(h) * nn, a.att.data() + h * hd);
    }
  });
  project(L.wo, find(p, l, 3), a.att.data(), n, a.tmp.data(), a.ax[3].data(), a.delta.data(),
          pool_);
  for (int64_t i = 0; i < static_cast<int64_t>(n) * E; ++i) a.x2[i] = x[i] + a.tmp[i];
  for (int t = 0; t < n; ++t) rmsnorm(row(a.x2, t, E), L.ffn_norm, row(a.xn2, t, E), E, eps);
  if (c.is_moe()) return moe_forward(L, n, a);
  project(L.w_gate, find(p, l, 4), a.xn2.data(), n, a.g.data(), a.ax[4].data(), a.delta.data(),
          pool_);
  project(L.w_up, find(p, l, 5), a.xn2.data(), n, a.u.data(), a.ax[5].data(), a.delta.data(),
          pool_);
  silu_mul(a.g.data(), a.u.data(), a.h.data(), static_cast<int64_t>(n) * F);
  project(L.w_down, find(p, l, 6), a.h.data(), n, a.tmp.data(), a.ax[6].data(), a.delta.data(),
          pool_);
}

namespace {

// h = silu(g) * u backwards: dg, du from dh (n values; dh may be dg: each is read first).
void swiglu_back(const float* g, const float* u, const float* dh, float* dg, float* du, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float d = dh[i], sg = 1.0f / (1.0f + std::exp(-g[i]));
    du[i] = d * g[i] * sg;
    dg[i] = d * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
  }
}

}  // namespace

// FeedForward::moe's computation (model/feed_forward.cpp), keeping each slot's gate and up
// products and expert output for the backward: the same router product, moe_route, the
// tokens grouped by expert in batch order through the same kernels, the weighted sum in
// top-k order. Writes the output to a.tmp.
void LoraTrainStep::moe_forward(const LayerWeights& L, int n, Acts& a) {
  const Qwen3Config& c = model_->config();
  const int E = c.n_embd, X = c.n_ff_exp, NE = c.n_expert, k = c.n_expert_used;
  matmul(L.router, a.xn2.data(), n, a.logits.data(), pool_);
  for (int t = 0; t < n; ++t)
    moe_route(&a.logits[static_cast<size_t>(t) * NE], NE, k, c.norm_topk_prob,
              &a.idx[static_cast<size_t>(t) * k], &a.w[static_cast<size_t>(t) * k]);
  moe_group(a.idx.data(), n, k, NE, a.count.data(), a.start.data(), a.list.data());
  const size_t uE = static_cast<size_t>(E), uX = static_cast<size_t>(X);
  for (int e = 0; e < NE; ++e) {
    const int m = a.count[static_cast<size_t>(e)];
    if (m == 0) continue;
    const int* slots = &a.list[static_cast<size_t>(a.start[static_cast<size_t>(e)])];
    for (int i = 0; i < m; ++i)
      std::copy_n(&a.xn2[static_cast<size_t>(slots[i] / k) * uE], E, &a.xe[i * uE]);
    const size_t ue = static_cast<size_t>(e);
    const WeightMatrix* gu[] = {&L.exp_gate[ue], &L.exp_up[ue]};
    float* gu_out[] = {a.ge.data(), a.ue.data()};
    matmul_multi(gu, gu_out, 2, a.xe.data(), m, pool_);
    for (int i = 0; i < m; ++i) {
      std::copy_n(&a.ge[i * uX], X, &a.sg[static_cast<size_t>(slots[i]) * uX]);
      std::copy_n(&a.ue[i * uX], X, &a.su[static_cast<size_t>(slots[i]) * uX]);
    }
    silu_mul(a.ge.data(), a.ue.data(), a.ge.data(), static_cast<int64_t>(m) * X);
    matmul(L.exp_down[ue], a.ge.data(), m, a.de.data(), pool_);
    for (int i = 0; i < m; ++i)
      std::copy_n(&a.de[i * uE], E, &a.sd[static_cast<size_t>(slots[i]) * uE]);
  }
  moe_combine(a.sd.data(), a.w.data(), n, k, E, a.tmp.data());
}

void LoraTrainStep::moe_backward(const LayerWeights& L, int n, Acts& a, const float* dy,
                                 float* dxn) {
  const Qwen3Config& c = model_->config();
  const int E = c.n_embd, X = c.n_ff_exp, NE = c.n_expert, k = c.n_expert_used;
  const size_t uE = static_cast<size_t>(E), uX = static_cast<size_t>(X);
  std::fill(dxn, dxn + static_cast<size_t>(n) * uE, 0.0f);
  // The weights' gradients: out_t = sum_j w_tj d_tj.
  for (int t = 0; t < n; ++t)
    for (int j = 0; j < k; ++j) {
      const size_t s = static_cast<size_t>(t) * k + j;
      double acc = 0;
      for (int i = 0; i < E; ++i)
        acc += static_cast<double>(dy[static_cast<size_t>(t) * uE + i]) * a.sd[s * uE + i];
      a.dw[s] = static_cast<float>(acc);
    }
  // Through each expert: dh = w Down^T dy, SwiGLU, dxn += Gate^T dg + Up^T du.
  for (int e = 0; e < NE; ++e) {
    const int m = a.count[static_cast<size_t>(e)];
    if (m == 0) continue;
    const int* slots = &a.list[static_cast<size_t>(a.start[static_cast<size_t>(e)])];
    const size_t ue = static_cast<size_t>(e);
    for (int i = 0; i < m; ++i) {
      const float w = a.w[static_cast<size_t>(slots[i])];
      const float* dyt = dy + static_cast<size_t>(slots[i] / k) * uE;
      for (int q = 0; q < E; ++q) a.xe[i * uE + q] = w * dyt[q];
    }
    transpose_f32(L.exp_down[ue], a.wt.data(), pool_);
    matmul({GgmlType::F32, X, E, a.wt.data()}, a.xe.data(), m, a.ge.data(), pool_);  // dh
    for (int i = 0; i < m; ++i)  // dh is in ge: dg overwrites it
      swiglu_back(&a.sg[static_cast<size_t>(slots[i]) * uX],
                  &a.su[static_cast<size_t>(slots[i]) * uX], &a.ge[i * uX], &a.ge[i * uX],
                  &a.ue[i * uX], X);
    transpose_f32(L.exp_gate[ue], a.wt.data(), pool_);
    matmul({GgmlType::F32, E, X, a.wt.data()}, a.ge.data(), m, a.de.data(), pool_);
    transpose_f32(L.exp_up[ue], a.wt.data(), pool_);
    matmul({GgmlType::F32, E, X, a.wt.data()}, a.ue.data(), m, a.xe.data(), pool_);
    for (int i = 0; i < m; ++i) {
      float* d = dxn + static_cast<size_t>(slots[i] / k) * uE;
      for (int q = 0; q < E; ++q) d[q] += a.de[i * uE + q] + a.xe[i * uE + q];
    }
  }
  // Through the routing weights to the router's logits z, then dxn += Router^T dz (the
  // router's rows in F32; dz is zero outside the chosen experts when normalised).
  for (int r = 0; r < NE; ++r)
    dequantize_matrix_row(L.router, r, &a.rf[static_cast<size_t>(r) * uE]);
  const bool norm = c.norm_topk_prob;
  pool_.parallel_for(n, [&](int64_t b, int64_t e, int) {
    std::vector<double> dz(static_cast<size_t>(NE));
    for (int64_t t = b; t < e; ++t) {
      const int* idx = &a.idx[static_cast<size_t>(t) * k];
      const float* w = &a.w[static_cast<size_t>(t) * k];
      const float* dw = &a.dw[static_cast<size_t>(t) * k];
      std::fill(dz.begin(), dz.end(), 0.0);
      if (norm) {  // w_j = exp(z_j) / sum over the chosen of exp(z_i)
        double s = 0;
        for (int j = 0; j < k; ++j) s += static_cast<double>(w[j]) * dw[j];
        for (int j = 0; j < k; ++j) dz[static_cast<size_t>(idx[j])] = w[j] * (dw[j] - s);
      } else {  // w_j = p_j, the softmax over all experts
        const float* z = &a.logits[static_cast<size_t>(t) * NE];
        double mx = z[0], sum = 0;
        for (int i = 1; i < NE; ++i) mx = std::max(mx, static_cast<double>(z[i]));
        for (int i = 0; i < NE; ++i) sum += std::exp(z[i] - mx);
        double s = 0;
        for (int j = 0; j < k; ++j) s += std::exp(z[idx[j]] - mx) / sum * dw[j];
        for (int i = 0; i < NE; ++i) dz[static_cast<size_t>(i)] = -std::exp(z[i] - mx) / sum * s;
        for (int j = 0; j < k; ++j)
          dz[static_cast<size_t>(idx[j])] += std::exp(z[idx[j]] - mx) / sum * dw[j];
      }
      float* d = dxn + static_cast<size_t>(t) * uE;
      for (int i = 0; i < NE; ++i) {
        if (dz[static_cast<size_t>(i)] == 0.0) continue;
        const float g = static_cast<float>(dz[static_cast<size_t>(i)]);
        const float* ri = &a.rf[static_cast<size_t>(i) * uE];
        for (int q = 0; q < E; ++q) d[q] += g * ri[q];
      }
    }
  });
}

namespace {

// dx (+)= W^T dy through the projection, and the LoRA pair's gradients:
// gB += s dy^T (A x), gA += (s dy B)^T x, dx += A^T (s B^T dy).
void project_back(const WeightMatrix& WT, LoraParam* p, const float* x, const float* ax,
                  const float* dy, int n, float* dx, bool accumulate, float* tmp, float* dax,
                  float* bt, ThreadPool& pool) {
  const int64_t in = WT.rows, out = WT.cols;
  if (accumulate) {
    matmul(WT, dy, n, tmp, pool);
    for (int64_t i = 0; i < n * in; ++i) dx[i] += tmp[i];
  } else {
    matmul(WT, dy, n, dx, pool);
  }
  if (!p) return;
  const int r = p->m.rank;
  const float s = p->m.scale;
  const float* A = p->m.a.data();
  const float* B = p->m.b.data();
  // dax = s dy B  (n x r), through B^T as an F32 matrix (r x out).
  for (int64_t o = 0; o < out; ++o)
    for (int k = 0; k < r; ++k) bt[k * out + o] = s * B[o * r + k];
  matmul({GgmlType::F32, r, out, bt}, dy, n, dax, pool);
  pool.parallel_for(out, [&](int64_t b, int64_t e, int) {  // gB
    for (int64_t o = b; o < e; ++o) {
      float* g = p->gb.data() + o * r;
      for (int t = 0; t < n; ++t) {
        const float d = s * dy[t * out + o];
        const float* at = ax + static_cast<int64_t>(t) * r;
        for (int k = 0; k < r; ++k) g[k] += d * at[k];
      }
    }
  });
  pool.parallel_for(in, [&](int64_t b, int64_t e, int) {  // gA, dx
    for (int t = 0; t < n; ++t) {
      const float* xt = x + static_cast<int64_t>(t) * in;
      const float* dt = dax + static_cast<int64_t>(t) * r;
      float* dxt = dx + static_cast<int64_t>(t) * in;
      for (int k = 0; k < r; ++k) {
        float* g = p->ga.data() + static_cast<int64_t>(k) * in;
        const float* ak = A + static_cast<int64_t>(k) * in;
        const float d = dt[k];
        for (int64_t i = b; i < e; ++i) {
          g[i] += d * xt[i];
          dxt[i] += d * ak[i];
        }
      }
    }
  });
}

}  // namespace

void LoraTrainStep::backward_layer(int l, const float* x, int n, Acts& a, LoraParams* p,
                                   float* dx) {
  const Qwen3Config& c = model_->config();
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const auto& T = transposed_->layers[static_cast<size_t>(l)];
  const int E = c.n_embd, QD = c.q_dim(), KD = c.kv_dim(), F = c.n_ff, hd = c.head_dim;
  const int half = hd / 2, group = c.n_head / c.n_head_kv;
  const float eps = c.rms_eps;
  const int64_t nE = static_cast<int64_t>(n) * E;
  auto back = [&](int t, const float* xin, const float* dy, float* dxin, bool acc) {
    project_back(T[static_cast<size_t>(t)].wt, find(p, l, t), xin, a.ax[t].data(), dy, n, dxin, acc,
                 a.tmp.data(), a.dax.data(), a.bt.data(), pool_);
  };
  // x3 = x2 + down(h)
  std::copy(dx, dx + nE, a.dx2.begin());
  if (c.is_moe()) {
    moe_backward(L, n, a, dx, a.dxn.data());
  } else {
    back(6, a.h.data(), dx, a.dh.data(), false);
    swiglu_back(a.g.data(), a.u.data(), a.dh.data(), a.dg.data(), a.du.data(),
                static_cast<int64_t>(n) * F);
    back(4, a.xn2.data(), a.dg.data(), a.dxn.data(), false);
    back(5, a.xn2.data(), a.du.data(), a.dxn.data(), true);
  }
  for (int t = 0; t < n; ++t)
    rmsnorm_back(row(a.x2, t, E), L.ffn_norm, row(a.dxn, t, E), E, eps, row(a.dx2, t, E), true);
  // x2 = x + o(att)
  back(3, a.att.data(), a.dx2.data(), a.datt.data(), false);
  // Attention: per KV head (its query heads write its dk, dv).
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t nn = static_cast<size_t>(n) * n;
  std::fill(a.dk.begin(), a.dk.begin() + static_cast<long>(n) * KD, 0.0f);
  std::fill(a.dv.begin(), a.dv.begin() + static_cast<long>(n) * KD, 0.0f);
  const AttnShape shape{n, hd, QD, KD, scale};
  pool_.parallel_for(c.n_head_kv, [&](int64_t gb, int64_t ge, int) {
    std::vector<float> dp(static_cast<size_t>(n));
    for (int64_t g = gb; g < ge; ++g)
      for (int64_t h = g * group; h < (g + 1) * group; ++h)
        attn_head_backward(a.qr.data() + h * hd, a.kr.data() + g * hd, a.v.data() + g * hd,
                           a.P.data() + static_cast<size_t>(h) * nn, a.datt.data() + h * hd, shape,
                           a.dq.data() + h * hd, a.dk.data() + g * hd, a.dv.data() + g * hd,
                           dp.data());
  });
  // RoPE (transpose: the rotation by -angle), then the per-head q/k norms.
  std::vector<float> nsin(static_cast<size_t>(half));
  for (int t = 0; t < n; ++t) {
    const float* sn = row(rope_sin_, t, half);
    for (int i = 0; i < half; ++i) nsin[static_cast<size_t>(i)] = -sn[i];
    float* dqt = row(a.dq, t, QD);
    float* dkt = row(a.dk, t, KD);
    rope_neox(dqt, c.n_head, hd, row(rope_cos_, t, half), nsin.data());
    rope_neox(dkt, c.n_head_kv, hd, row(rope_cos_, t, half), nsin.data());
    const float* q0 = row(a.q0, t, QD);
    const float* k0 = row(a.k0, t, KD);
    for (int h = 0; h < c.n_head; ++h)
      rmsnorm_back(q0 + h * hd, L.q_norm, dqt + h * hd, hd, eps, dqt + h * hd, false);
    for (int h = 0; h < c.n_head_kv; ++h)
      rmsnorm_back(k0 + h * hd, L.k_norm, dkt + h * hd, hd, eps, dkt + h * hd, false);
  }
  back(0, a.xn1.data(), a.dq.data(), a.dxn.data(), false);
  back(1, a.xn1.data(), a.dk.data(), a.dxn.data(), true);
  back(2, a.xn1.data(), a.dv.data(), a.dxn.data(), true);
  // x2 = x + ..., xn1 = rmsnorm(x)
  std::copy(a.dx2.begin(), a.dx2.begin() + nE, dx);
  for (int t = 0; t < n; ++t)
    rmsnorm_back(x + t * E, L.attn_norm, row(a.dxn, t, E), E, eps, dx + t * E, true);
}

void LoraTrainStep::forward_all(const std::vector<int32_t>& ids, const LoraParams* p) {
  const Qwen3Config& c = model_->config();
  const int n = static_cast<int>(ids.size()), E = c.n_embd, half = c.head_dim / 2;
  if (n == 0) throw std::invalid_argument("empty training sequence");
  for (int32_t id : ids)
    if (id < 0 || id >= c.n_vocab)
      throw std::invalid_argument("token id " + std::to_string(id) + " out of the vocabulary");
  if (p)
    for (const auto& q : p->params())
      if (q.layer >= c.n_layers || q.m.in != lora_target_in(c, q.target) ||
          q.m.out != lora_target_out(c, q.target))
        throw std::invalid_argument("LoRA parameters do not fit the base model");
  rope_cos_.resize(static_cast<size_t>(n) * half);
  rope_sin_.resize(static_cast<size_t>(n) * half);
  for (int t = 0; t < n; ++t) rope_.at(t, row(rope_cos_, t, half), row(rope_sin_, t, half));
  layer_in_.resize(static_cast<size_t>(c.n_layers + 1) * n * E);
  for (int t = 0; t < n; ++t)
    dequantize_matrix_row(model_->weights().token_embd, ids[t], row(layer_in_, t, E));
  acts_->resize(c, n, max_rank(p));
  Acts& a = *acts_;
  const int k = c.n_expert_used, NE = c.n_expert;
  routes_.resize(static_cast<size_t>(c.n_layers) * n * k);
  router_margin_ = std::numeric_limits<float>::infinity();
  for (int l = 0; l < c.n_layers; ++l) {
    const float* x = layer_in_.data() + static_cast<size_t>(l) * n * E;
    float* y = layer_in_.data() + static_cast<size_t>(l + 1) * n * E;
    forward_layer(l, x, n, a, p);
    for (int64_t i = 0; i < static_cast<int64_t>(n) * E; ++i) y[i] = a.x2[i] + a.tmp[i];
    if (!c.is_moe()) continue;
    std::copy_n(a.idx.begin(), static_cast<size_t>(n) * k,
                routes_.begin() + static_cast<long>(l) * n * k);
    for (int t = 0; t < n; ++t) {  // smallest chosen logit against the largest other
      const float* z = &a.logits[static_cast<size_t>(t) * NE];
      const int* idx = &a.idx[static_cast<size_t>(t) * k];
      float lo = z[idx[0]], hi = -std::numeric_limits<float>::infinity();
      for (int j = 1; j < k; ++j) lo = std::min(lo, z[idx[j]]);
      for (int i = 0; i < NE; ++i)
        if (std::find(idx, idx + k, i) == idx + k) hi = std::max(hi, z[i]);
      router_margin_ = std::min(router_margin_, lo - hi);
    }
  }
}

std::vector<float> LoraTrainStep::logits(const std::vector<int32_t>& ids, const LoraParams* p) {
  forward_all(ids, p);
  const Qwen3Config& c = model_->config();
  const int n = static_cast<int>(ids.size()), E = c.n_embd;
  const float* xl = layer_in_.data() + static_cast<size_t>(c.n_layers) * n * E;
  std::vector<float> xf(static_cast<size_t>(n) * E), out(static_cast<size_t>(n) * c.n_vocab);
  for (int t = 0; t < n; ++t)
    rmsnorm(xl + t * E, model_->weights().output_norm, row(xf, t, E), E, c.rms_eps);
  matmul(model_->weights().output, xf.data(), n, out.data(), pool_);
  return out;
}

StepLoss LoraTrainStep::run(const TrainSequence& seq, LoraParams* p, float grad_scale) {
  if (seq.target.size() != seq.ids.size())
    throw std::invalid_argument("training sequence: ids and target differ in length");
  const bool grad = grad_scale != 0.0f;
  if (grad && !transposed_) throw std::logic_error("LoraTrainStep built without transposes");
  if (grad && !p) throw std::invalid_argument("no LoRA parameters to train");
  forward_all(seq.ids, p);
  const Qwen3Config& c = model_->config();
  const int n = static_cast<int>(seq.ids.size()), E = c.n_embd, V = c.n_vocab;
  const float eps = c.rms_eps;
  const ModelWeights& w = model_->weights();
  float* xl = layer_in_.data() + static_cast<size_t>(c.n_layers) * n * E;
  std::vector<int> pos;  // rows t - 1 that predict a marked token t
  for (int t = 1; t < n; ++t)
    if (seq.target[static_cast<size_t>(t)]) pos.push_back(t - 1);
  StepLoss r;
  r.n_tokens = static_cast<int>(pos.size());
  std::vector<float> dX;
  if (grad) dX.assign(static_cast<size_t>(n) * E, 0.0f);
  constexpr int kChunk = 32;
  std::vector<float> xf(static_cast<size_t>(kChunk) * E), lg(static_cast<size_t>(kChunk) * V),
      dxf(static_cast<size_t>(kChunk) * E);
  for (size_t c0 = 0; c0 < pos.size(); c0 += kChunk) {
    const int m = static_cast<int>(std::min<size_t>(kChunk, pos.size() - c0));
    for (int i = 0; i < m; ++i) rmsnorm(xl + pos[c0 + i] * E, w.output_norm, row(xf, i, E), E, eps);
    matmul(w.output, xf.data(), m, lg.data(), pool_);
    for (int i = 0; i < m; ++i) {
      float* li = row(lg, i, V);
      const int label = seq.ids[static_cast<size_t>(pos[c0 + i] + 1)];
      float mx = li[0];
      for (int k = 1; k < V; ++k) mx = std::max(mx, li[k]);
      double sum = 0;
      for (int k = 0; k < V; ++k) sum += std::exp(static_cast<double>(li[k]) - mx);
      const double lse = mx + std::log(sum);
      r.loss_sum += lse - li[label];
      if (grad) {
        for (int k = 0; k < V; ++k)
          li[k] = grad_scale * static_cast<float>(std::exp(static_cast<double>(li[k]) - lse));
        li[label] -= grad_scale;
      }
    }
    if (!grad) continue;
    matmul(transposed_->output.wt, lg.data(), m, dxf.data(), pool_);
    for (int i = 0; i < m; ++i) {
      const int t = pos[c0 + i];
      rmsnorm_back(xl + t * E, w.output_norm, row(dxf, i, E), E, eps, row(dX, t, E), true);
    }
  }
  if (!grad || pos.empty()) return r;
  // Below the lowest adapted layer nothing has a gradient.
  int lowest = c.n_layers;
  for (const auto& q : p->params()) lowest = std::min(lowest, q.layer);
  for (int l = c.n_layers - 1; l >= lowest; --l) {
    const float* x = layer_in_.data() + static_cast<size_t>(l) * n * E;
    forward_layer(l, x, n, *acts_, p);
    backward_layer(l, x, n, *acts_, p, dX.data());
  }
  return r;
}

}  // namespace qwen3::train
