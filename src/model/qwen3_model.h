// The Qwen3 model (weights + config + tokenizer, immutable once loaded, shareable across
// threads) and InferenceContext, one sequence's KV cache and activation buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/qwen3_config.h"
#include "model/tensor_source.h"

namespace qwen3 {

class Tokenizer;
class ThreadPool;
struct ModelWeights;  // model/model_weights.h
struct LoraSet;       // model/lora_adapter.h

struct ModelLoadOptions {
  int n_threads = 0;  // 0 = physical cores
  // Hugging Face folders: quantize the matrices to this type at load (nullopt = keep).
  std::optional<GgmlType> quantize;
  // Copy matrices into the interleaved rows8 layout when the CPU has kernels for it
  // (AVX2; Q4_0, Q8_0, Q4_K): about 2-3x faster decode. The environment variable
  // QWEN3_NO_REPACK=1 turns it off (zero-copy mmap only).
  bool repack = true;
};

class Qwen3Model {
 public:
  // A GGUF file or a Hugging Face folder (config.json, tokenizer files, *.safetensors). Throws
  // std::runtime_error (or gguf::GgufError) with a clear message on bad or unsupported files.
  static std::shared_ptr<Qwen3Model> load(const std::string& path,
                                          const ModelLoadOptions& opts = {});
  // Builds a model from any tensor source (GGUF, safetensors...). Checks every tensor
  // against the config: presence, shape, supported type.
  static std::shared_ptr<Qwen3Model> from_source(const Qwen3Config& config,
                                                 std::shared_ptr<const Tokenizer> tokenizer,
                                                 std::shared_ptr<const TensorSource> source,
                                                 const ModelLoadOptions& opts = {});

  const Qwen3Config& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  std::shared_ptr<const Tokenizer> tokenizer_ptr() const { return tokenizer_; }
  const ModelWeights& weights() const { return *weights_; }
  const TensorSource& source() const { return *source_; }
  double load_ms() const { return load_ms_; }
  int default_threads() const { return n_threads_; }
  // MoE: true if the expert matrices were copied into the rows8 layout (they fit the
  // QWEN3_EXPERT_REPACK_MB budget), false if they are read from the mapped file.
  bool experts_repacked() const { return experts_repacked_; }

 private:
  Qwen3Model();
  Qwen3Config config_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::shared_ptr<const TensorSource> source_;
  std::vector<std::vector<float>> owned_f32_;  // norm weights converted to F32
  std::shared_ptr<ModelWeights> weights_;
  std::vector<std::unique_ptr<uint8_t[]>> repacked_;  // rows8 copies of matrices
  void repack_matrices();
  double load_ms_ = 0;
  int n_threads_ = 0;
  bool experts_repacked_ = false;
};

enum class KvType { F16, F32 };

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3
