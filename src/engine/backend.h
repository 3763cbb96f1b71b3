// The interface Pipeline drives, and a registry of backends by name.
//
// Two kinds: token-level backends (the native CPU engine; the test "replay" backend) give
// logits for a token batch and let the Pipeline sample, keep the KV cache and reuse it;
// whole-generation backends (OpenVINO GenAI) take prompt ids and stream generated ids.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/kv_type.h"
#include "qwen3/adapter_config.h"
#include "qwen3/generation_config.h"
#include "qwen3/properties.h"

namespace qwen3::gguf {
class GgufFile;
}

namespace qwen3 {

class Tokenizer;

namespace engine {

struct BackendCapabilities {
  std::string name;             // registry name: "native", "replay", "openvino"
  std::string device;           // "CPU", "NPU", ...
  bool kv_reuse = false;        // truncate() + eval() continue a cached prefix
  std::size_t max_context = 0;  // tokens the backend can hold (prompt + reply)
};

struct BackendOptions {
  std::string model_path;
  std::string device = "CPU";
  Properties properties;    // the Pipeline's properties, unparsed extras included
  int n_ctx = 0;            // 0 = backend default
  int n_threads = 0;        // 0 = physical cores
  KvType kv = KvType::F16;  // KV cache element type (property kv_type: f16, q8_0, f32)
  std::string quantize;     // load-time quantization of a HF folder ("" / "none" = keep)
  AdapterConfig adapters;   // LoRA adapters (property "lora"); native CPU engine only
  // Whole-generation device backends (OpenVINO): the device properties (the device
  // builder's profile for this tier, or a `qwen3 device-config` file), as typed JSON.
  nlohmann::json device_properties = nlohmann::json::object();
  std::string profile;  // the profile they come from: "balanced", ..., "file" (device_config)
  // The native engine: model_path's GGUF already open (AUTO read its facts from it), so
  // the load does not open it again; null = open model_path.
  std::shared_ptr<const gguf::GgufFile> opened_gguf;
};

class TokenBackend;
class GenerationBackend;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendCapabilities capabilities() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;
  virtual double load_ms() const { return 0.0; }
  // The sampling defaults the backend read from the model file while loading it, so the
  // file is opened once; nullopt = it did not (the Pipeline reads the model path itself).
  virtual std::optional<ModelSamplingDefaults> model_sampling_defaults() const {
    return std::nullopt;
  }
  // Exactly one of these is non-null.
  virtual TokenBackend* token_level() { return nullptr; }
  virtual GenerationBackend* whole_generation() { return nullptr; }
};

class TokenBackend : public Backend {
 public:
  TokenBackend* token_level() override { return this; }
  virtual int n_ctx() const = 0;
  virtual int n_past() const = 0;  // tokens in the KV cache
  virtual int n_vocab() const = 0;
  virtual void truncate(int n_past) = 0;  // keep the first n_past cached tokens
  // Appends ids[0..n) after the cache and returns the logits of the last one (n_vocab
  // floats, valid until the next call). Throws std::length_error past n_ctx.
  virtual const float* eval(const std::int32_t* ids, int n) = 0;
  // Runs the following evals with these LoRA adapters and empties the KV cache (n_past
  // becomes 0). Backends without LoRA support throw std::invalid_argument.
  virtual void set_adapters(const AdapterConfig& adapters);
  // Qwen3-VL: encodes the images of the next prompt (encoded file bytes) and returns the
  // token ids that stand for each in the prompt; eval() then takes those ids. Backends
  // without a vision encoder throw std::invalid_argument.
  virtual std::vector<std::vector<std::int32_t>> prepare_images(
      const std::vector<const std::string*>& images) {
    (void)images;
    throw std::invalid_argument(
        "this model takes no images: serve a Qwen3-VL model with its vision encoder "
        "(--mmproj)");
  }
};

// What a whole-generation backend reports about one generate() call, from its own
// measurements (OpenVINO GenAI's PerfMetrics); negative = not measured.
struct GenerationReport {
  std::size_t cached_tokens = 0;  // prompt tokens the device kept from the previous call
  double ttft_ms = -1;            // the device's time to first token
  double tpot_ms = -1;            // the device's time per output token
  double generate_ms = -1;        // the device's whole generate() call
};

class GenerationBackend : public Backend {
 public:
  GenerationBackend* whole_generation() override { return this; }
  // Generates after `prompt` (the whole templated conversation); on_token returns false to
  // stop. Sampling fields of `config` are resolved (no unset optionals). Throws
  // std::length_error when the prompt is over max_prompt_tokens().
  virtual GenerationReport generate(const std::vector<std::int32_t>& prompt,
                                    const GenerationConfig& config,
                                    const std::function<bool(std::int32_t)>& on_token) = 0;
  // The longest prompt the device takes (NPU: MAX_PROMPT_LEN); 0 = only max_context.
  virtual std::size_t max_prompt_tokens() const { return 0; }
  // The device is generating for another conversation right now (the hand-off "load"
  // trigger sends this one to the CPU instead of waiting).
  virtual bool busy() const { return false; }
};

// The Pipeline's properties as BackendOptions (n_ctx, n_threads, kv_type, quantize parsed
// and checked; std::invalid_argument names a bad value).
BackendOptions parse_backend_options(const std::string& model_path, const std::string& device,
                                     const Properties& props);
// Throws std::invalid_argument for a property the native backend does not know.
void check_native_properties(const Properties& props);

using BackendFactory = std::function<std::unique_ptr<Backend>(const BackendOptions&)>;

// Registers (or replaces) a backend under `name`. "native" is built in.
void register_backend(const std::string& name, BackendFactory factory);
// Throws std::invalid_argument listing the known names if `name` is not registered.
std::unique_ptr<Backend> create_backend(const std::string& name, const BackendOptions& opts);
std::vector<std::string> backend_names();

}  // namespace engine
}  // namespace qwen3
