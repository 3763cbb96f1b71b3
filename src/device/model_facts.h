// What the device rules need to know about a model: its size, the shapes that set the
// KV cache size, its trained context and how its weights are quantized. Kept separate
// from Qwen3Config so it can also describe an OpenVINO export or a named preset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3 {
struct Qwen3Config;
namespace gguf {
class GgufFile;
}
}  // namespace qwen3

namespace qwen3::device {

enum class WeightFormat { Unknown, Int4, Nf4, Int8, Fp16, Gguf };

std::string_view to_string(WeightFormat w);

struct ModelFacts {
  std::string name;
  double params_billion = 0;  // total parameters, in billions
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int n_ctx_train = 0;  // the context the model files declare
  WeightFormat weights = WeightFormat::Unknown;
  std::optional<bool> symmetric;  // for INT4: --sym (true) or asymmetric (false)
  int group_size = 0;             // -1 channel-wise, >0 group size, 0 unknown
  std::string weight_type;        // informational: a GGUF's ggml type ("Q4_K") if known

  // K and V for one token over all layers: 2 * n_layers * n_kv_heads * head_dim * bytes.
  uint64_t kv_bytes_per_token(int bytes_per_element) const {
    return 2ull * static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_kv_heads) *
           static_cast<uint64_t>(head_dim) * static_cast<uint64_t>(bytes_per_element);
  }
};

// Qwen3 dense models "0.6b" "1.7b" "4b" "8b" "14b" "32b", assumed exported as the NPU
// guide recommends: INT4 symmetric, group size 128 up to 4B and channel-wise above.
// Throws std::invalid_argument listing the names for anything else.
ModelFacts model_preset(std::string_view name);
std::vector<std::string> model_preset_names();

// Facts from the shapes of a Qwen3Config (e.g. read from a GGUF file).
ModelFacts facts_from_config(const Qwen3Config& cfg);

// A GGUF file: shapes via Qwen3Config::from_gguf, the ggml type of blk.0.attn_q.
ModelFacts facts_from_gguf(const std::string& path);
// The same from an open file (`path` names the model when its metadata does not).
ModelFacts facts_from_gguf(const gguf::GgufFile& f, const std::string& path);

// -m MODEL: a GGUF file or a model folder (below). Throws std::runtime_error otherwise.
ModelFacts load_model_facts(const std::string& path);

// A Hugging Face or OpenVINO model folder: config.json for the shapes, and for an
// optimum-cli export openvino_config.json's quantization_config (bits, sym, group_size).
// Throws std::runtime_error naming the file and field on missing or malformed input.
ModelFacts facts_from_model_folder(const std::string& dir);

// Applies a --quant value: "int4-sym", "int4-asym", "nf4", "int8", "fp16".
// Throws std::invalid_argument otherwise.
void apply_quant_spec(ModelFacts& facts, std::string_view spec);

// The model a device configuration is for, as `qwen3 device-config` and the Python module
// take it: a path (-m, model) or a preset name (--model-preset, model_preset), then a
// weight quantization spec and a group size (-1 = channel-wise). Empty / nullopt = not
// given; nothing given = nullopt (generic profiles). std::invalid_argument on
// contradicting or bad values, std::runtime_error on an unreadable model.
std::optional<ModelFacts> describe_model(const std::string& path, const std::string& preset,
                                         const std::string& quant, std::optional<int> group_size);

}  // namespace qwen3::device
