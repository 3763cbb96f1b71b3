// BatchForward: one forward pass over tokens of several sequences (see batch_forward.h).
#include "model/batch_forward.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "kernels/matmul.h"
#include "model/model_weights.h"
#include "model/qwen3_model.h"

namespace qwen3 {

namespace {
// From this many tokens on, the per-token work between the matmuls is spread over the
// pool; below (one token), it stays on the calling thread.
constexpr int kParallelTokens = 2;

double profile_now(const ForwardProfile& p) {  // milliseconds
  if (p.thread_cpu) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  }
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

BatchForward::BatchForward(std::shared_ptr<const Qwen3Model> model, int max_tokens, int max_ctx,
                           int n_threads)
    : model_(std::move(model)),
      c_(model_->config()),
      w_(model_->weights()),
      max_tokens_(max_tokens),
      max_ctx_(max_ctx),
      pool_(n_threads > 0 ? n_threads : model_->default_threads()),
      rope_(c_),
      scratch_(make_attention_scratch(pool_.size(), max_ctx, c_.head_dim)),
      ffn_(c_, std::max(1, max_tokens)) {
  if (max_tokens <= 0 || max_ctx <= 0)
    throw std::invalid_argument("BatchForward: max_tokens and max_ctx must be positive");
  const size_t B = static_cast<size_t>(max_tokens);
  att_toks_.resize(B);
  out_row_.reserve(B);
  x_.resize(B * c_.n_embd);
  xn_.resize(B * c_.n_embd);
  tmp_.resize(B * c_.n_embd);
  q_.resize(B * c_.q_dim());
  att_.resize(B * c_.q_dim());
  k_.resize(B * c_.kv_dim());
  v_.resize(B * c_.kv_dim());
  rope_cos_.resize(B * static_cast<size_t>(c_.head_dim / 2));
  rope_sin_.resize(B * static_cast<size_t>(c_.head_dim / 2));
}

BatchForward::~BatchForward() = default;

void BatchForward::check(const BatchToken* tokens, int n, KvSequence* const* seqs,
                         int n_seqs) const {
  if (n <= 0 || n > max_tokens_)
    throw std::invalid_argument("forward: batch of " + std::to_string(n) + " tokens (1.." +
                                std::to_string(max_tokens_) + ")");
  for (int i = 0; i < n; ++i) {
    const BatchToken& t = tokens[i];
    if ((t.id < 0 || t.id >= c_.n_vocab) && !(t.vl && t.vl->embd))  // image rows need no id
      throw std::invalid_argument("token id " + std::to_string(t.id) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary of " +
                                  std::to_string(c_.n_vocab));
    if (t.vl && !c_.is_vl())
      throw std::invalid_argument("forward: image input for a model that is not Qwen3-VL");
    if (t.seq < 0 || t.seq >= n_seqs || seqs[t.seq] == nullptr)
      throw std::invalid_argument("forward: token " + std::to_string(i) + " names sequence " +
                                  std::to_string(t.seq) + " of " + std::to_string(n_seqs));
    if (t.pos < 0 || t.pos >= seqs[t.seq]->capacity() || t.pos >= max_ctx_)
      throw std::invalid_argument("forward: position " + std::to_string(t.pos) +
                                  " outside the blocks of its sequence (" +
                                  std::to_string(seqs[t.seq]->capacity()) + " positions)");
  }
}

void BatchForward::forward(const BatchToken* tokens, int n, KvSequence* const* seqs, int n_seqs,
                           float* logits) {
  // Profiling (set_profile): each lap() adds the time since the last one to a phase.
  const double start = prof_ ? profile_now(*prof_) : 0.0;
  double mark = start;
  auto lap = [&](double ForwardProfile::*phase) {
    if (!prof_) return;
    const double now = profile_now(*prof_);
    prof_->*phase += now - mark;
    mark = now;
  };
  check(tokens, n, seqs, n_seqs);
  const Qwen3Config& c = c_;
  const ModelWeights& w = w_;
  const int E = c.n_embd, hd = c.head_dim, QD = c.q_dim(), KD = c.kv_dim();
  const float eps = c.rms_eps;
  auto row = [](std::vector<float>& buf, int t, int width) {
    return &buf[static_cast<size_t>(t) * static_cast<size_t>(width)];
  };
  const int half = hd / 2;
  lora_.clear();
  for (int t = 0; t < n; ++t) {
    lora_.add_token(tokens[t].lora);
    const VlInput* vl = tokens[t].vl;
    if (vl && vl->embd)  // an image token: the vision encoder's row
      std::memcpy(row(x_, t, E), vl->embd, sizeof(float) * static_cast<size_t>(E));
    else
      dequantize_matrix_row(w.token_embd, tokens[t].id, row(x_, t, E));
    att_toks_[static_cast<size_t>(t)] = {seqs[tokens[t].seq], tokens[t].pos};
    // RoPE's cos/sin of each token's position, once for all the layers.
    if (vl)
      mrope_at(rope_, c.mrope_sections, *vl, row(rope_cos_, t, half), row(rope_sin_, t, half));
    else
      rope_.at(tokens[t].pos, row(rope_cos_, t, half), row(rope_sin_, t, half));
  }
  // Per-token work between the matmuls (norms, RoPE, cache stores, residual adds,
  // SwiGLU) rides the matmuls' own passes of the pool (fuse_, below: no hand-off of its
  // own). What is left as separate passes (all of it with set_fuse(false); fused, the
  // last layer's residual add and the output norm) is spread over the pool from two
  // tokens on (a few us per token and pass, with the workers still spinning from the
  // matmul just before); one token stays on the calling thread, where a hand-off would
  // cost about as much as the work. Each token's rows are computed the same way either
  // way.
  lap(&ForwardProfile::embed);
  const bool par = n >= kParallelTokens && pool_.size() > 1;
  auto per_token = [&](auto&& fn) {
    if (par)
      pool_.parallel_for(n, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) fn(static_cast<int>(t));
      });
    else
      for (int t = 0; t < n; ++t) fn(t);
  };
  // The per-head work after the Q/K/V matmul (q/k norms, RoPE, the cache stores) rides
  // its pass (MatmulExtra post): the planner aligns the work items to whole heads, and
  // the thread that wrote a head's rows finishes them at once, while they are in its
  // cache. Per head and token, the same calls as the unfused pass below, so the same bits.
  struct QkvPost {
    const Qwen3Config* c;
    const LayerWeights* L;
    const BatchToken* tokens;
    KvSequence* const* seqs;
    float *q, *k, *v;
    const float *cos, *sin;
    int n, layer;
    static void run(void* ctx, int mat, int64_t r0, int64_t r1) {
      const auto& p = *static_cast<const QkvPost*>(ctx);
      const Qwen3Config& c = *p.c;
      const int hd = c.head_dim, half = hd / 2;
      const int h0 = static_cast<int>(r0 / hd), h1 = static_cast<int>((r1 + hd - 1) / hd);
      const int width = (mat == 0 ? c.n_head : c.n_head_kv) * hd;
      for (int t = 0; t < p.n; ++t) {
        float* base = (mat == 0 ? p.q : mat == 1 ? p.k : p.v) + static_cast<size_t>(t) * width;
        const KvSequence& sq = *p.seqs[p.tokens[t].seq];
        const int pos = p.tokens[t].pos;
        const float* cs = p.cos + static_cast<size_t>(t) * half;
        const float* sn = p.sin + static_cast<size_t>(t) * half;
        for (int h = h0; h < h1; ++h) {
          float* x = base + static_cast<size_t>(h) * hd;
          if (mat == 2) {
            sq.pool().store_v_head(sq.block(pos), pos % sq.pool().block_size(), p.layer, h, x);
            continue;
          }
          rmsnorm(x, mat == 0 ? p.L->q_norm : p.L->k_norm, x, hd, c.rms_eps);
          rope_neox(x, 1, hd, cs, sn);
          if (mat == 1)
            sq.pool().store_k_head(sq.block(pos), pos % sq.pool().block_size(), p.layer, h, x);
        }
      }
    }
  } qkv_post{&c,        nullptr,          tokens,           seqs, q_.data(), k_.data(),
             v_.data(), rope_cos_.data(), rope_sin_.data(), n,    0};
  MatmulExtra qkv_extra;
  if (fuse_) {
    qkv_extra.post = &QkvPost::run;
    qkv_extra.ctx = &qkv_post;
    qkv_extra.row_align = hd;
  }
  // Rows that want logits pass the output norm into xn_, packed in batch order.
  int n_out = 0;
  out_row_.assign(static_cast<size_t>(n), -1);
  if (logits)
    for (int t = 0; t < n; ++t)
      if (tokens[t].logits) out_row_[static_cast<size_t>(t)] = n_out++;
  const AttentionShape shape{c.n_head, c.n_head_kv, hd};
  // The residual add and RMS norm that make a matmul's input rows ride its pass too
  // (MatmulExtra prep: one item per token, before the matrix items): the next layer's
  // attention norm that of the Q/K/V matmul, the ffn norm that of gate/up. Only the last
  // layer's add and the output norm keep a pass of their own.
  struct Prep {
    float *x, *xn;
    const float* tmp;
    const BatchToken* tokens;
    const float* norm;  // the norm's weights
    int E;
    float eps;
    bool add_tmp;  // x += tmp first
    int ds;        // Qwen3-VL DeepStack: also add the image rows' slice ds + 1 (-1: none)
    static void run(void* ctx, int64_t t) {
      const auto& p = *static_cast<const Prep*>(ctx);
      const size_t E = static_cast<size_t>(p.E);
      float* xt = p.x + static_cast<size_t>(t) * E;
      if (p.add_tmp) {
        add(xt, p.tmp + static_cast<size_t>(t) * E, xt, p.E);
        const VlInput* vl = p.tokens[t].vl;
        if (p.ds >= 0 && vl && vl->embd)
          add(xt, vl->embd + static_cast<size_t>(p.ds + 1) * E, xt, p.E);
      }
      rmsnorm(xt, p.norm, p.xn + static_cast<size_t>(t) * E, p.E, p.eps);
    }
  };
  Prep qkv_prep{x_.data(), xn_.data(), tmp_.data(), tokens, nullptr, E, eps, false, -1};
  Prep ffn_prep = qkv_prep;
  MatmulExtra ffn_in;
  if (fuse_) {
    qkv_extra.prep = &Prep::run;
    qkv_extra.prep_ctx = &qkv_prep;
    ffn_in.prep = &Prep::run;
    ffn_in.prep_ctx = &ffn_prep;
  } else {
    per_token(
        [&](int t) { rmsnorm(row(x_, t, E), w.layers[0].attn_norm, row(xn_, t, E), E, eps); });
  }
  lap(&ForwardProfile::per_token);
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    const bool last = l + 1 == c.n_layers;
    const float* next_norm = last ? w.output_norm : w.layers[static_cast<size_t>(l) + 1].attn_norm;
    const WeightMatrix* qkv[] = {&L.wq, &L.wk, &L.wv};
    float* qkv_out[] = {q_.data(), k_.data(), v_.data()};
    // The adapters' updates, if any, ride the matmuls' pass (the plain matmul without).
    qkv_post.L = &L;
    qkv_post.layer = l;
    qkv_prep.norm = L.attn_norm;
    qkv_prep.add_tmp = l > 0;  // the previous layer's feed-forward output
    qkv_prep.ds = l > 0 && l - 1 < c.vl_deepstack_layers ? l - 1 : -1;
    lora_.matmul(l, LoraGroup::kQkv, qkv, qkv_out, 3, xn_.data(), n, pool_, qkv_extra);
    lap(&ForwardProfile::qkv);
    if (!fuse_)
      per_token([&](int t) {
        float* qt = row(q_, t, QD);
        float* kt = row(k_, t, KD);
        for (int h = 0; h < c.n_head; ++h) rmsnorm(qt + h * hd, L.q_norm, qt + h * hd, hd, eps);
        for (int h = 0; h < c.n_head_kv; ++h) rmsnorm(kt + h * hd, L.k_norm, kt + h * hd, hd, eps);
        const float* cs = row(rope_cos_, t, half);
        const float* sn = row(rope_sin_, t, half);
        rope_neox(qt, c.n_head, hd, cs, sn);
        rope_neox(kt, c.n_head_kv, hd, cs, sn);
        // Tokens of a batch have distinct (sequence, position) slots: no two write one.
        const KvSequence& sq = *seqs[tokens[t].seq];
        sq.pool().store(sq.block(tokens[t].pos), tokens[t].pos % sq.pool().block_size(), l, kt,
                        row(v_, t, KD));
      });
    lap(&ForwardProfile::per_token);
    batch_attention(l, shape, att_toks_.data(), q_.data(), n, att_.data(), pool_, scratch_);
    lap(&ForwardProfile::attention);
    const WeightMatrix* wo[] = {&L.wo};
    float* o_out[] = {tmp_.data()};
    lora_.matmul(l, LoraGroup::kO, wo, o_out, 1, att_.data(), n, pool_);
    lap(&ForwardProfile::wo);
    ffn_prep.norm = L.ffn_norm;
    ffn_prep.add_tmp = true;
    if (!fuse_)
      per_token([&](int t) {
        add(row(x_, t, E), row(tmp_, t, E), row(x_, t, E), E);
        rmsnorm(row(x_, t, E), L.ffn_norm, row(xn_, t, E), E, eps);
      });
    lap(&ForwardProfile::per_token);
    ffn_.forward(L, xn_.data(), n, tmp_.data(), pool_, lora_.active() ? &lora_ : nullptr, l,
                 ffn_in);
    lap(&ForwardProfile::ffn);
    if (fuse_ && !last) continue;  // the next layer's Q/K/V prep adds and norms
    per_token([&](int t) {
      float* xt = row(x_, t, E);
      add(xt, row(tmp_, t, E), xt, E);
      const VlInput* vl = tokens[t].vl;
      if (l < c.vl_deepstack_layers && vl && vl->embd)  // Qwen3-VL DeepStack: slice l + 1
        add(xt, vl->embd + static_cast<size_t>(l + 1) * E, xt, E);
      if (!last)
        rmsnorm(xt, next_norm, row(xn_, t, E), E, eps);
      else if (out_row_[static_cast<size_t>(t)] >= 0)
        rmsnorm(xt, next_norm, row(xn_, out_row_[static_cast<size_t>(t)], E), E, eps);
    });
    lap(&ForwardProfile::per_token);
  }
  if (prof_) {
    ++prof_->calls;
    prof_->tokens += static_cast<std::uint64_t>(n);
  }
  if (n_out > 0) matmul(w.output, xn_.data(), n_out, logits, pool_);
  lap(&ForwardProfile::lm_head);
  if (prof_) prof_->total += profile_now(*prof_) - start;
}

}  // namespace qwen3
