// InferenceContext: one sequence's KV cache driven through BatchForward, the prompt in
// steps of up to 128 tokens. Every buffer is allocated in the constructor; eval()
// allocates nothing.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "model/inference_context.h"

#include "model/batch_forward.h"
#include "model/kv_cache.h"
#include "model/lora_adapter.h"
#include "model/mrope.h"
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
  int n_ctx;
  int n_past = 0;
  KvCache cache;
  BatchForward fwd;
  std::vector<BatchToken> tokens;  // one step's batch
  std::shared_ptr<const LoraSet> lora;
  // Qwen3-VL: the images in the cache (their rotary positions differ from their slots).
  struct ImageSpan {
    int start, n_tokens, n_pos;
  };
  std::vector<ImageSpan> images;
  std::vector<VlInput> vl;  // one step's M-RoPE inputs

  // The rotary position of cache slot `slot` (past every image before it).
  int rope_pos(int slot) const {
    int p = slot;
    for (const ImageSpan& im : images)
      if (im.start + im.n_tokens <= slot) p += im.n_pos - im.n_tokens;
    return p;
  }

  Impl(std::shared_ptr<const Qwen3Model> m, int ctx, KvType kv, int n_threads)
      : model(std::move(m)),
        n_ctx(ctx),
        cache(model->config().n_layers, model->config().n_head_kv, model->config().head_dim, ctx,
              kv),
        fwd(model, std::min(kMaxBatch, ctx), ctx, n_threads),
        tokens(static_cast<size_t>(fwd.max_tokens())),
        vl(static_cast<size_t>(fwd.max_tokens())) {}
};

InferenceContext::InferenceContext(std::shared_ptr<const Qwen3Model> model, int n_ctx, KvType kv,
                                   int n_threads) {
  if (!model) throw std::invalid_argument("InferenceContext: no model");
  const int max_ctx = model->config().max_context();  // YaRN extends it
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
  return impl_->fwd.n_threads();
}
const Qwen3Model& InferenceContext::model() const {
  return *impl_->model;
}

void InferenceContext::set_lora(std::shared_ptr<const LoraSet> set) {
  if (set)
    for (const auto& e : set->entries)
      if (e.adapter) e.adapter->check_base(impl_->model->config());
  impl_->lora = std::move(set);
}

const std::shared_ptr<const LoraSet>& InferenceContext::lora() const {
  return impl_->lora;
}

void InferenceContext::truncate(int n_past) {
  if (n_past < 0 || n_past > impl_->n_past)
    throw std::out_of_range("truncate(" + std::to_string(n_past) + "): the cache holds " +
                            std::to_string(impl_->n_past) + " tokens");
  impl_->n_past = n_past;
  auto& im = impl_->images;  // images cut by the truncation are forgotten whole
  while (!im.empty() && im.back().start + im.back().n_tokens > n_past) im.pop_back();
}

int InferenceContext::next_rope_pos() const {
  return impl_->rope_pos(impl_->n_past);
}

void InferenceContext::eval(const int32_t* ids, int n, float* logits, bool all_logits) {
  Impl& s = *impl_;
  if (n <= 0) throw std::invalid_argument("eval: no tokens");
  if (n > s.n_ctx - s.n_past)
    throw std::length_error("context exceeded: " + std::to_string(s.n_past) + " cached + " +
                            std::to_string(n) + " new tokens > context size " +
                            std::to_string(s.n_ctx));
  for (int i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= s.model->config().n_vocab)
      throw std::invalid_argument("token id " + std::to_string(ids[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary of " +
                                  std::to_string(s.model->config().n_vocab));
  const int64_t V = s.model->config().n_vocab;
  KvSequence* seqs[] = {&s.cache.seq()};
  // After an image the rotary positions run behind the cache slots (M-RoPE).
  const int rope_delta = s.images.empty() ? 0 : s.rope_pos(s.n_past) - s.n_past;
  for (int done = 0; done < n;) {
    const int nb = std::min(s.fwd.max_tokens(), n - done);
    for (int t = 0; t < nb; ++t) {
      const size_t i = static_cast<size_t>(t);
      s.tokens[i] = {ids[done + t], 0, s.n_past + t, logits && (all_logits || done + t == n - 1),
                     s.lora.get()};
      if (!s.images.empty()) {
        const int p = s.n_past + t + rope_delta;
        s.vl[i] = {p, p, p, nullptr};
        s.tokens[i].vl = &s.vl[i];
      }
    }
    s.fwd.forward(s.tokens.data(), nb, seqs, 1, all_logits ? logits + done * V : logits);
    s.n_past += nb;
    done += nb;
  }
}

void InferenceContext::eval_image(const float* embd, int grid_w, int grid_h, float* logits,
                                  bool all_logits) {
  Impl& s = *impl_;
  const Qwen3Config& c = s.model->config();
  if (!c.is_vl())
    throw std::invalid_argument("eval_image: the model is not a Qwen3-VL model (no image input)");
  if (!embd || grid_w <= 0 || grid_h <= 0)
    throw std::invalid_argument("eval_image: no image embeddings");
  const int n = grid_w * grid_h;
  if (n > s.n_ctx - s.n_past)
    throw std::length_error("context exceeded: " + std::to_string(s.n_past) + " cached + " +
                            std::to_string(n) + " image tokens > context size " +
                            std::to_string(s.n_ctx));
  const size_t dim = static_cast<size_t>(c.n_embd) * static_cast<size_t>(1 + c.vl_deepstack_layers);
  const int p0 = s.rope_pos(s.n_past);
  const int64_t V = c.n_vocab;
  KvSequence* seqs[] = {&s.cache.seq()};
  const int start = s.n_past;
  for (int done = 0; done < n;) {
    const int nb = std::min(s.fwd.max_tokens(), n - done);
    for (int t = 0; t < nb; ++t) {
      const size_t i = static_cast<size_t>(t);
      s.vl[i] = image_token_position(p0, grid_w, done + t);
      s.vl[i].embd = embd + static_cast<size_t>(done + t) * dim;
      s.tokens[i] = {
          0, 0, s.n_past + t, logits && (all_logits || done + t == n - 1), s.lora.get(), &s.vl[i]};
    }
    s.fwd.forward(s.tokens.data(), nb, seqs, 1, all_logits ? logits + done * V : logits);
    s.n_past += nb;
    done += nb;
  }
  s.images.push_back({start, n, image_position_span(grid_w, grid_h)});
}

}  // namespace qwen3
