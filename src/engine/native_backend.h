// The built-in token-level backend: a Qwen3Model and one InferenceContext on the CPU.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "engine/backend.h"
#include "engine/vl_encoder.h"
#include "model/qwen3_model.h"

namespace qwen3::engine {

class NativeBackend : public TokenBackend {
 public:
  // Loads opts.model_path. Known properties: n_ctx, n_threads, kv_type, quantize (the Pipeline
  // parses them into opts); anything else is rejected by the Pipeline.
  explicit NativeBackend(const BackendOptions& opts);
  // Shares an already loaded model (tests, several sequences over one set of weights).
  NativeBackend(std::shared_ptr<const Qwen3Model> model, const BackendOptions& opts);

  BackendCapabilities capabilities() const override;
  const Tokenizer& tokenizer() const override { return model_->tokenizer(); }
  double load_ms() const override { return load_ms_; }
  std::optional<ModelSamplingDefaults> model_sampling_defaults() const override {
    return model_defaults_;
  }
  int n_ctx() const override { return ctx_.n_ctx(); }
  int n_past() const override { return ctx_.n_past(); }
  // The tokenizer's id space: the model's padded rows past it are never sampled.
  int n_vocab() const override { return n_vocab_; }
  void truncate(int n_past) override { ctx_.truncate(n_past); }
  const float* eval(const std::int32_t* ids, int n) override;

  const Qwen3Model& model() const { return *model_; }
  // Runs the following evals with these LoRA adapters (empty = the base) and clears the
  // KV cache, whose entries were computed with the previous ones.
  void set_adapters(const AdapterConfig& adapters) override;
  // Qwen3-VL with the property "mmproj": encodes the images; eval() then runs each run
  // of an image's ids (engine/vl_images.h) as InferenceContext::eval_image.
  std::vector<std::vector<std::int32_t>> prepare_images(
      const std::vector<const std::string*>& images) override;

  // The model loaded as this backend loads it, and what was read from its file on the
  // way (a GGUF's general.sampling.* keys; none for a folder). The batched server load
  // (shared_pipelines) uses it too.
  struct Loaded {
    std::shared_ptr<const Qwen3Model> model;
    std::optional<ModelSamplingDefaults> defaults;
  };
  static Loaded load(const BackendOptions& opts);

 private:
  NativeBackend(const BackendOptions& opts, std::chrono::steady_clock::time_point t0);
  NativeBackend(Loaded loaded, const BackendOptions& opts,
                std::chrono::steady_clock::time_point t0);

  std::shared_ptr<const Qwen3Model> model_;
  InferenceContext ctx_;
  std::vector<float> logits_;  // the model's full row
  int n_vocab_ = 0;
  double load_ms_ = 0;
  std::optional<ModelSamplingDefaults> model_defaults_;  // a GGUF's, read while loading
  std::shared_ptr<VlEncoder> vision_;                    // property "mmproj"
  VlImageSet images_;                                    // the last prepare_images()
};

std::unique_ptr<Backend> make_native_backend(const BackendOptions& opts);

}  // namespace qwen3::engine
