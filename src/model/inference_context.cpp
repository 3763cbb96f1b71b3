// InferenceContext: the Qwen3 forward pass over a batch of tokens (prompt) or one token
// (decode). Every buffer is allocated in the constructor; eval() allocates nothing.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "kernels/thread_pool.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/model_weights.h"
#include "model/qwen3_model.h"

namespace qwen3 {

namespace {
// Prompt tokens per forward step (bounds the activation buffers: ~8 MiB on 0.6B). Longer
// prompts take several steps; each re-reads the weights, which costs little next to
// the compute of 128 tokens.
constexpr int kMaxBatch = 128;
constexpr int kDefaultCtx = 4096;
}  // namespace

struct InferenceContext::Impl {
  std::shared_ptr<const Qwen3Model> model;
  const Qwen3Config& c;
  const ModelWeights& w;
  int n_ctx;
  int n_past = 0;
  int batch;
  ThreadPool pool;
  KvCache cache;
  RopeTable rope;
  std::vector<AttentionScratch> scratch;
  // Activations, batch rows each.
  std::vector<float> x, xn, q, k, v, att, tmp, gate, up, rope_cos, rope_sin;

  Impl(std::shared_ptr<const Qwen3Model> m, int ctx, KvType kv, int n_threads)
      : model(std::move(m)),
        c(model->config()),
        w(model->weights()),
        n_ctx(ctx),
        batch(std::min(kMaxBatch, ctx)),
        pool(n_threads),
        cache(c.n_layers, c.n_head_kv, c.head_dim, ctx, kv),
        rope(c.head_dim, c.rope_theta),
        scratch(make_attention_scratch(pool.size(), ctx, c.head_dim)) {
    const size_t B = static_cast<size_t>(batch);
    x.resize(B * c.n_embd);
    xn.resize(B * c.n_embd);
    tmp.resize(B * c.n_embd);
    q.resize(B * c.q_dim());
    att.resize(B * c.q_dim());
    k.resize(B * c.kv_dim());
    v.resize(B * c.kv_dim());
    gate.resize(B * c.n_ff);
    up.resize(B * c.n_ff);
    rope_cos.resize(static_cast<size_t>(c.head_dim / 2));
    rope_sin.resize(static_cast<size_t>(c.head_dim / 2));
  }

  // Runs n (<= batch) tokens at positions n_past.. and leaves the final hidden states,
  // normalised, in xn. Appends their keys/values to the cache.
  void forward(const int32_t* ids, int n) {
    const int E = c.n_embd, hd = c.head_dim, QD = c.q_dim(), KD = c.kv_dim();
    const float eps = c.rms_eps;
    for (int t = 0; t < n; ++t)
      dequantize_matrix_row(w.token_embd, ids[t], &x[static_cast<size_t>(t) * E]);
    const AttentionShape shape{c.n_head, c.n_head_kv, hd};
    for (int l = 0; l < c.n_layers; ++l) {
      const LayerWeights& L = w.layers[static_cast<size_t>(l)];
      for (int t = 0; t < n; ++t)
        rmsnorm(&x[static_cast<size_t>(t) * E], L.attn_norm, &xn[static_cast<size_t>(t) * E], E,
                eps);
      matmul(L.wq, xn.data(), n, q.data(), pool);
      matmul(L.wk, xn.data(), n, k.data(), pool);
      matmul(L.wv, xn.data(), n, v.data(), pool);
      for (int t = 0; t < n; ++t) {
        float* qt = &q[static_cast<size_t>(t) * QD];
        float* kt = &k[static_cast<size_t>(t) * KD];
        for (int h = 0; h < c.n_head; ++h) rmsnorm(qt + h * hd, L.q_norm, qt + h * hd, hd, eps);
        for (int h = 0; h < c.n_head_kv; ++h) rmsnorm(kt + h * hd, L.k_norm, kt + h * hd, hd, eps);
        rope.at(n_past + t, rope_cos.data(), rope_sin.data());
        rope_neox(qt, c.n_head, hd, rope_cos.data(), rope_sin.data());
        rope_neox(kt, c.n_head_kv, hd, rope_cos.data(), rope_sin.data());
        cache.store(l, n_past + t, kt, &v[static_cast<size_t>(t) * KD]);
      }
      causal_attention(cache, l, shape, q.data(), n, n_past, att.data(), pool, scratch);
      matmul(L.wo, att.data(), n, tmp.data(), pool);
      add(x.data(), tmp.data(), x.data(), static_cast<int64_t>(n) * E);
      for (int t = 0; t < n; ++t)
        rmsnorm(&x[static_cast<size_t>(t) * E], L.ffn_norm, &xn[static_cast<size_t>(t) * E], E,
                eps);
      matmul(L.w_gate, xn.data(), n, gate.data(), pool);
      matmul(L.w_up, xn.data(), n, up.data(), pool);
      silu_mul(gate.data(), up.data(), gate.data(), static_cast<int64_t>(n) * c.n_ff);
      matmul(L.w_down, gate.data(), n, tmp.data(), pool);
      add(x.data(), tmp.data(), x.data(), static_cast<int64_t>(n) * E);
    }
    for (int t = 0; t < n; ++t)
      rmsnorm(&x[static_cast<size_t>(t) * E], w.output_norm, &xn[static_cast<size_t>(t) * E], E,
              eps);
  }
};

InferenceContext::InferenceContext(std::shared_ptr<const Qwen3Model> model, int n_ctx, KvType kv,
                                   int n_threads) {
  if (!model) throw std::invalid_argument("InferenceContext: no model");
  const int max_ctx = model->config().n_ctx_train;
  if (n_ctx < 0) throw std::invalid_argument("context size must not be negative");
  if (n_ctx == 0) n_ctx = std::min(max_ctx, kDefaultCtx);
  if (n_ctx > max_ctx)
    throw std::invalid_argument("context size " + std::to_string(n_ctx) +
                                " exceeds the model's maximum of " + std::to_string(max_ctx));
  if (n_threads <= 0) n_threads = model->default_threads();
  impl_ = std::make_unique<Impl>(std::move(model), n_ctx, kv, n_threads);
}

InferenceContext::~InferenceContext() = default;
InferenceContext::InferenceContext(InferenceContext&&) noexcept = default;
InferenceContext& InferenceContext::operator=(InferenceContext&&) noexcept = default;

int InferenceContext::n_ctx() const {
  return impl_->n_ctx;
}
int InferenceContext::n_past() const {
  return impl_->n_past;
}
KvType InferenceContext::kv_type() const {
  return impl_->cache.type();
}
int InferenceContext::n_threads() const {
  return impl_->pool.size();
}
const Qwen3Model& InferenceContext::model() const {
  return *impl_->model;
}

void InferenceContext::truncate(int n_past) {
  if (n_past < 0 || n_past > impl_->n_past)
    throw std::out_of_range("truncate(" + std::to_string(n_past) + "): the cache holds " +
                            std::to_string(impl_->n_past) + " tokens");
  impl_->n_past = n_past;
}

void InferenceContext::eval(const int32_t* ids, int n, float* logits, bool all_logits) {
  Impl& s = *impl_;
  if (n <= 0) throw std::invalid_argument("eval: no tokens");
  if (n > s.n_ctx - s.n_past)
    throw std::length_error("context exceeded: " + std::to_string(s.n_past) + " cached + " +
                            std::to_string(n) + " new tokens > context size " +
                            std::to_string(s.n_ctx));
  for (int i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= s.c.n_vocab)
      throw std::invalid_argument("token id " + std::to_string(ids[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary of " +
                                  std::to_string(s.c.n_vocab));
  const int64_t V = s.c.n_vocab;
  const int E = s.c.n_embd;
  for (int done = 0; done < n;) {
    const int nb = std::min(s.batch, n - done);
    s.forward(ids + done, nb);
    s.n_past += nb;
    done += nb;
    if (!logits) continue;
    if (all_logits)
      matmul(s.w.output, s.xn.data(), nb, logits + (done - nb) * V, s.pool);
    else if (done == n)
      matmul(s.w.output, s.xn.data() + static_cast<size_t>(nb - 1) * E, 1, logits, s.pool);
  }
}

}  // namespace qwen3
