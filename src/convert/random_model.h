// Random-weight Qwen3 GGUF files (`qwen3 gen-model`): any shape, any supported weight
// type, the real tokenizer embedded, metadata as llama.cpp's convert_hf_to_gguf.py
// writes it so llama.cpp loads the same file. Weights are a pure function of
// (seed, tensor name, element index), so the thread count never changes the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_types.h"
#include "model/qwen3_config.h"

namespace qwen3 {

class Tokenizer;

// A weight type for the matrices: a single ggml type ("pure") or the Q4_K_M mix.
struct GenModelType {
  std::string name;              // "f32", "q4_0", "q4_k_m", ...
  std::optional<GgmlType> type;  // nullopt for the q4_k_m mix
  uint32_t file_type;            // llama.cpp's general.file_type (llama_ftype)
};

// "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|q4_k_m" (case-insensitive);
// throws std::invalid_argument naming the known types otherwise.
GenModelType parse_gen_model_type(std::string_view name);
std::vector<std::string> gen_model_type_names();

struct GenModelOptions {
  Qwen3Config config;
  GenModelType type;
  uint64_t seed = 0;
  int n_threads = 0;  // 0 = physical cores
  // The text half of a Qwen3-VL pair: architecture "qwen3vl" (same tensors as qwen3) with
  // `qwen3vl.n_deepstack_layers` and `qwen3vl.rope.dimension_sections` (M-RoPE t/h/w
  // sections, 4 values). Off while vl_deepstack_layers < 0.
  int vl_deepstack_layers = -1;
  std::vector<int32_t> vl_mrope_sections;
};

// Qwen3-VL's M-RoPE sections for a head size: [24, 20, 20, 0] for head_dim 128, scaled
// down (remainder to the first) for the tiny shapes.
std::vector<int32_t> qwen3vl_mrope_sections(int head_dim);

// The ggml type of tensor `name` (dims innermost first) for this model: norm weights F32,
// matrices the requested type, falling back like llama.cpp when a row length is not a
// multiple of the block size (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16).
GgmlType gen_model_tensor_type(const GenModelOptions& opts, std::string_view name,
                               const std::vector<int64_t>& dims);

// Writes the model to `path`, one tensor at a time (never the whole model in memory).
// The tokenizer's chat template (or `chat_template` if not empty) is embedded.
void generate_random_model(const GenModelOptions& opts, const Tokenizer& tokenizer,
                           const std::string& path, const std::string& chat_template = "");

// Deterministic weight generator (exposed for tests): element i of tensor `name`.
float random_weight(uint64_t seed, std::string_view name, uint64_t i, float half_width);

}  // namespace qwen3
