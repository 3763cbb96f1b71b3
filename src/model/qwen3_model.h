// The Qwen3 model: weights + config + tokenizer, immutable once loaded, shareable across
// threads. InferenceContext (one sequence over it) and KvType have their own headers,
// included at the end for the callers that load a model and run it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/qwen3_config.h"
#include "model/tensor_source.h"

namespace qwen3 {
namespace gguf {
class GgufFile;
}

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
  // A GGUF load: called with the open file before its metadata is released, so a caller
  // can read more keys (the engine: the sampling defaults) without opening it again.
  std::function<void(const gguf::GgufFile&)> on_gguf_metadata;
  // The GGUF file of `path`, already open with its metadata (a caller that read it
  // first, e.g. for AUTO's device facts): used instead of opening the file again.
  std::shared_ptr<const gguf::GgufFile> opened_gguf;
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

}  // namespace qwen3

// Declared in their own headers; here for the callers that load a model and run it.
#include "model/inference_context.h"  // IWYU pragma: export
#include "model/kv_type.h"            // IWYU pragma: export
