// InferenceContext: one sequence over a loaded Qwen3Model, its KV cache and activation
// buffers allocated once (inference_context.cpp); the single-sequence way to run the
// model, for the native backend, `qwen3 logits` and the tests.
#pragma once

#include <cstdint>
#include <memory>

#include "model/kv_type.h"

namespace qwen3 {

class Qwen3Model;
struct LoraSet;  // model/lora_adapter.h

class InferenceContext {  // one sequence: KV cache + activation buffers allocated once
 public:
  // n_ctx 0 = min(model max, 4096); n_threads 0 = the model's default (physical cores).
  InferenceContext(std::shared_ptr<const Qwen3Model> model, int n_ctx = 0, KvType kv = KvType::F16,
                   int n_threads = 0);
  ~InferenceContext();
  InferenceContext(InferenceContext&&) noexcept;
  InferenceContext& operator=(InferenceContext&&) noexcept;

  int n_ctx() const;
  int n_past() const;
  KvType kv_type() const;
  int n_threads() const;
  const Qwen3Model& model() const;

  // The LoRA adapters the following eval() calls run with (nullptr or no active adapter:
  // the base model). Checks every adapter against the model (std::runtime_error). The
  // cached keys/values of earlier tokens stay as they were computed: truncate or reset to
  // recompute them with the new adapters.
  void set_lora(std::shared_ptr<const LoraSet> set);
  const std::shared_ptr<const LoraSet>& lora() const;

  void truncate(int n_past);  // roll the KV cache back (prompt-cache reuse)
  void reset() { truncate(0); }

  // Evaluates ids at positions n_past..n_past+n-1 and appends them to the KV cache.
  // Writes the logits of the last token (n_vocab floats) or, if all_logits, n x n_vocab.
  // Throws std::length_error if n_past+n > n_ctx, std::invalid_argument on a bad id.
  void eval(const int32_t* ids, int n, float* logits, bool all_logits = false);

  // Qwen3-VL models (Qwen3Config::is_vl): appends one image, grid_h x grid_w tokens whose
  // rows are the vision encoder's output (n_embd x (1 + DeepStack layers) floats each,
  // row-major), with M-RoPE positions from the grid (model/mrope.h); text evaluated after
  // it continues at the image's first position + max(grid_w, grid_h), as llama.cpp's
  // libmtmd does. `logits` as for eval. std::invalid_argument for a text-only model.
  void eval_image(const float* embd, int grid_w, int grid_h, float* logits,
                  bool all_logits = false);
  // The rotary (M-RoPE time) position the next token gets: n_past() for text-only use.
  int next_rope_pos() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3
