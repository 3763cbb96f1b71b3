// FeedForward: dense SwiGLU MLP and the Qwen3 mixture of experts (see feed_forward.h).
#include "model/feed_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/rows8.h"

namespace qwen3 {

namespace {
// matmul_multi's post ranges start on multiples of 16 rows (kernels/matmul.h).
constexpr int64_t kPairRows = 16;
}  // namespace

void moe_route(const float* logits, int n_expert, int k, bool norm, int* idx, float* weight) {
  // Softmax as ggml_soft_max does it: max-subtracted exponentials in float, scaled by
  // 1/sum; the sum accumulated in double.
  float mx = logits[0];
  for (int e = 1; e < n_expert; ++e) mx = std::max(mx, logits[e]);
  double sum = 0;
  // Top-k by insertion into the k best so far (k is small: 8 of 128).
  int n_sel = 0;
  for (int e = 0; e < n_expert; ++e) {
    const float p = std::exp(logits[e] - mx);
    sum += p;
    if (n_sel == k && !(p > weight[k - 1])) continue;
    int j = n_sel < k ? n_sel++ : k - 1;
    while (j > 0 && p > weight[j - 1]) {
      weight[j] = weight[j - 1];
      idx[j] = idx[j - 1];
      --j;
    }
    weight[j] = p;
    idx[j] = e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int j = 0; j < k; ++j) weight[j] *= inv;
  if (norm) {
    float s = 0;
    for (int j = 0; j < k; ++j) s += weight[j];
    for (int j = 0; j < k; ++j) weight[j] /= s;
  }
}

void moe_group(const int* idx, int n, int k, int n_expert, int* count, int* start, int* list) {
  std::fill(count, count + n_expert, 0);
  for (int i = 0; i < n * k; ++i) ++count[idx[i]];
  for (int e = 0, s = 0; e < n_expert; ++e) {
    start[e] = s;
    s += count[e];
  }
  for (int i = 0; i < n * k; ++i) list[start[idx[i]]++] = i;  // no allocation: start is
  for (int e = 0; e < n_expert; ++e) start[e] -= count[e];    // moved on, then back
}

void moe_combine(const float* slot_out, const float* weight, int n, int k, int n_embd, float* out) {
  const size_t E = static_cast<size_t>(n_embd);
  for (int t = 0; t < n; ++t) {
    float* o = out + static_cast<size_t>(t) * E;
    const float* w = weight + static_cast<size_t>(t) * k;
    const float* d = slot_out + static_cast<size_t>(t) * k * E;
    for (size_t i = 0; i < E; ++i) o[i] = d[i] * w[0];
    for (int j = 1; j < k; ++j) {
      const float* dj = d + static_cast<size_t>(j) * E;
      for (size_t i = 0; i < E; ++i) o[i] += dj[i] * w[j];
    }
  }
}

FeedForward::FeedForward(const Qwen3Config& c, int max_tokens) : c_(c) {
  const size_t B = static_cast<size_t>(max_tokens);
  if (!c.is_moe()) {
    gate_.resize(B * c.n_ff);
    up_.resize(B * c.n_ff);
    n_pairs_ = static_cast<size_t>(c.n_ff) / kPairRows + 1;
    pairs_ = std::make_unique<std::atomic<int>[]>(n_pairs_);
    return;
  }
  const size_t k = static_cast<size_t>(c.n_expert_used), E = static_cast<size_t>(c.n_embd);
  // One expert's rows for B tokens, or the k experts' rows of one decoded token.
  gate_.resize(std::max(B, k) * c.n_ff_exp);
  up_.resize(std::max(B, k) * c.n_ff_exp);
  logits_.resize(B * c.n_expert);
  idx_.resize(B * k);
  weight_.resize(B * k);
  count_.resize(static_cast<size_t>(c.n_expert));
  start_.resize(static_cast<size_t>(c.n_expert));
  list_.resize(B * k);
  xe_.resize(B * E);
  de_.resize(B * E);
  slot_out_.resize(B * k * E);
}

namespace {

// Rows [r0, r0 + n) of W as a matrix of their own (r0 and n multiples of 8 in rows8).
WeightMatrix row_slice(const WeightMatrix& W, int64_t r0, int64_t n) {
  const uint8_t* base = static_cast<const uint8_t*>(W.data);
  const size_t off = W.layout == WeightLayout::Rows8
                         ? rows8_group_size(W.type, W.cols) * static_cast<size_t>(r0 / 8)
                         : ggml_row_size(W.type, W.cols) * static_cast<size_t>(r0);
  return WeightMatrix{W.type, n, W.cols, base + off, W.layout};
}

// Splits `rows` into `parts` slices whose bounds are multiples of 8 (when rows is).
int64_t slice_bound(int64_t rows, int parts, int i) {
  const int64_t b = rows * i / parts;
  return rows % 8 == 0 ? b / 8 * 8 : b;
}

}  // namespace

void FeedForward::swiglu(int n, int width, ThreadPool& pool) {
  // Prompts: rows spread over the pool (the exponentials of n x n_ff values); a few rows
  // stay on the calling thread. Element-wise, so the split changes nothing.
  const size_t w = static_cast<size_t>(width);
  if (n < 8) {
    silu_mul(gate_.data(), up_.data(), gate_.data(), static_cast<int64_t>(n) * width);
    return;
  }
  pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
    silu_mul(&gate_[static_cast<size_t>(b) * w], &up_[static_cast<size_t>(b) * w],
             &gate_[static_cast<size_t>(b) * w], (e - b) * width);
  });
}

void FeedForward::forward(const LayerWeights& L, const float* xn, int n, float* out,
                          ThreadPool& pool, LoraBatch* lora, int layer, const MatmulExtra& in) {
  if (c_.is_moe()) {
    if (in.prep) {  // a pass of its own before the router
      if (n > 1)
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
          for (int64_t t = b; t < e; ++t) in.prep(in.prep_ctx, t);
        });
      else
        in.prep(in.prep_ctx, 0);
    }
    moe(L, xn, n, out, pool);  // adapters on experts are refused when they are set
  } else {
    dense(L, xn, n, out, pool, lora, layer, in);
  }
}

void FeedForward::swiglu_post(void* ctx, int, int64_t r0, int64_t r1) {
  auto* self = static_cast<FeedForward*>(ctx);
  // The second of the range's gate and up items to finish computes it; acq_rel makes the
  // first one's rows visible.
  if (self->pairs_[static_cast<size_t>(r0 / kPairRows)].fetch_add(1, std::memory_order_acq_rel) !=
      1)
    return;
  const size_t F = static_cast<size_t>(self->c_.n_ff);
  for (int t = 0; t < self->n_tok_; ++t) {
    float* g = &self->gate_[static_cast<size_t>(t) * F + static_cast<size_t>(r0)];
    silu_mul(g, &self->up_[static_cast<size_t>(t) * F + static_cast<size_t>(r0)], g, r1 - r0);
  }
}

void FeedForward::dense(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool,
                        LoraBatch* lora, int layer, const MatmulExtra& in) {
  const WeightMatrix* gu[] = {&L.w_gate, &L.w_up};
  float* gu_out[] = {gate_.data(), up_.data()};
  // Gate and up items cover the same row ranges when the two matrices are planned alike
  // (same rows and layout).
  const bool fuse = fuse_ && L.w_gate.rows == L.w_up.rows && L.w_gate.layout == L.w_up.layout;
  MatmulExtra extra;
  extra.prep = in.prep;
  extra.prep_ctx = in.prep_ctx;
  if (fuse) {
    for (size_t i = 0; i < n_pairs_; ++i) pairs_[i].store(0, std::memory_order_relaxed);
    n_tok_ = n;
    extra.post = &FeedForward::swiglu_post;
    extra.ctx = this;
  }
  if (lora)  // the adapters' updates ride the matmuls' own passes of the pool
    lora->matmul(layer, LoraGroup::kGateUp, gu, gu_out, 2, xn, n, pool, extra);
  else
    matmul_multi(gu, gu_out, 2, xn, n, pool, extra);
  if (!fuse) swiglu(n, c_.n_ff, pool);
  if (lora) {
    const WeightMatrix* down[] = {&L.w_down};
    lora->matmul(layer, LoraGroup::kDown, down, &out, 1, gate_.data(), n, pool);
  } else {
    matmul(L.w_down, gate_.data(), n, out, pool);
  }
}

void FeedForward::moe(const LayerWeights& L, const float* xn, int n, float* out, ThreadPool& pool) {
  const int E = c_.n_embd, F = c_.n_ff_exp, NE = c_.n_expert, k = c_.n_expert_used;
  matmul(L.router, xn, n, logits_.data(), pool);
  for (int t = 0; t < n; ++t)
    moe_route(&logits_[static_cast<size_t>(t) * NE], NE, k, c_.norm_topk_prob,
              &idx_[static_cast<size_t>(t) * k], &weight_[static_cast<size_t>(t) * k]);
  if (n == 1) return decode(L, xn, out, pool);
  moe_group(idx_.data(), n, k, NE, count_.data(), start_.data(), list_.data());
  experts_read_ = 0;
  for (int e = 0; e < NE; ++e) {
    const int m = count_[static_cast<size_t>(e)];
    if (m == 0) continue;
    ++experts_read_;
    const int* pairs = &list_[static_cast<size_t>(start_[static_cast<size_t>(e)])];
    const float* x = xn;
    if (n > 1) {  // gather the expert's tokens (a single token is used in place)
      for (int i = 0; i < m; ++i)
        std::memcpy(&xe_[static_cast<size_t>(i) * E], xn + static_cast<size_t>(pairs[i] / k) * E,
                    sizeof(float) * E);
      x = xe_.data();
    }
    const size_t ue = static_cast<size_t>(e);
    const WeightMatrix* gu[] = {&L.exp_gate[ue], &L.exp_up[ue]};
    float* gu_out[] = {gate_.data(), up_.data()};
    matmul_multi(gu, gu_out, 2, x, m, pool);
    swiglu(m, F, pool);
    matmul(L.exp_down[ue], gate_.data(), m, de_.data(), pool);
    for (int i = 0; i < m; ++i)
      std::memcpy(&slot_out_[static_cast<size_t>(pairs[i]) * E], &de_[static_cast<size_t>(i) * E],
                  sizeof(float) * E);
  }
  moe_combine(slot_out_.data(), weight_.data(), n, k, E, out);
}

// One token: the k experts' gate and up products in one parallel pass (each item a slice
// of one expert's rows), then the k down products in another, instead of 3k separate
// matmul calls. Each row is computed by the same kernel as in matmul, so the results
// equal the grouped path's.
void FeedForward::decode(const LayerWeights& L, const float* xn, float* out, ThreadPool& pool) {
  const int E = c_.n_embd, F = c_.n_ff_exp, k = c_.n_expert_used;
  const int* idx = idx_.data();
  const int parts = std::max(1, pool.size());
  experts_read_ = k;
  pool.parallel_for(static_cast<int64_t>(k) * parts, [&](int64_t b, int64_t e, int) {
    for (int64_t it = b; it < e; ++it) {
      const int j = static_cast<int>(it / parts), part = static_cast<int>(it % parts);
      const size_t ex = static_cast<size_t>(idx[j]);
      const int64_t r0 = slice_bound(F, parts, part), r1 = slice_bound(F, parts, part + 1);
      if (r1 <= r0) continue;
      float* g = &gate_[static_cast<size_t>(j) * F + static_cast<size_t>(r0)];
      float* u = &up_[static_cast<size_t>(j) * F + static_cast<size_t>(r0)];
      matmul(row_slice(L.exp_gate[ex], r0, r1 - r0), xn, 1, g, pool);  // nested: serial
      matmul(row_slice(L.exp_up[ex], r0, r1 - r0), xn, 1, u, pool);
      silu_mul(g, u, g, r1 - r0);
    }
  });
  pool.parallel_for(static_cast<int64_t>(k) * parts, [&](int64_t b, int64_t e, int) {
    for (int64_t it = b; it < e; ++it) {
      const int j = static_cast<int>(it / parts), part = static_cast<int>(it % parts);
      const size_t ex = static_cast<size_t>(idx[j]);
      const int64_t r0 = slice_bound(E, parts, part), r1 = slice_bound(E, parts, part + 1);
      if (r1 <= r0) continue;
      matmul(row_slice(L.exp_down[ex], r0, r1 - r0), &gate_[static_cast<size_t>(j) * F], 1,
             &slot_out_[static_cast<size_t>(j) * E + static_cast<size_t>(r0)], pool);
    }
  });
  const float* w = weight_.data();
  for (int i = 0; i < E; ++i) out[i] = slot_out_[static_cast<size_t>(i)] * w[0];
  for (int j = 1; j < k; ++j) {
    const float* dj = &slot_out_[static_cast<size_t>(j) * E];
    for (int i = 0; i < E; ++i) out[i] += dj[i] * w[j];
  }
}

}  // namespace qwen3
