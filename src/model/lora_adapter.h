// A LoRA adapter (low-rank update of the projection matrices) as the forward pass applies
// it, unmerged: y = W x + s * B (A x), with A (rank x in) and B (out x rank) in F32 and
// s = the user's scale times the adapter's own alpha / rank (rsLoRA: alpha / sqrt(rank);
// llama.cpp GGUF adapters without alpha: 1). Loaded from a PEFT folder
// (adapter_config.json + adapter_model.safetensors) or a llama.cpp LoRA GGUF
// (general.type = adapter); both give the same LoraAdapter. The base model is never
// copied or changed: several adapters, each with its own scale (a LoraSet), may run on
// one shared base.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/matmul.h"
#include "model/lora_kernels.h"
#include "model/qwen3_config.h"

namespace qwen3 {
namespace gguf {
class GgufFile;
}

// The seven projections an adapter may target, in forward-pass order.
enum class LoraTarget : uint8_t { kQ, kK, kV, kO, kGate, kUp, kDown };
constexpr int kNumLoraTargets = 7;

std::string_view lora_target_peft_name(LoraTarget t);  // "q_proj", ..., "down_proj"
std::string_view lora_target_gguf_name(LoraTarget t);  // "attn_q", ..., "ffn_down"
// The projection's input and output widths in `c`.
int lora_target_in(const Qwen3Config& c, LoraTarget t);
int lora_target_out(const Qwen3Config& c, LoraTarget t);

// One targeted projection: A (rank x in) and B (out x rank), row-major F32.
struct LoraMatrices {
  int rank = 0;
  int in = 0;
  int out = 0;
  float scale = 1.0f;  // alpha / rank, alpha / sqrt(rank) (rsLoRA), or 1
  std::vector<float> a;
  std::vector<float> b;
  WeightMatrix A() const { return {GgmlType::F32, rank, in, a.data()}; }
  WeightMatrix B() const { return {GgmlType::F32, out, rank, b.data()}; }
};

class LoraAdapter {
 public:
  // A PEFT folder (or its adapter_config.json / adapter_model.safetensors) or a llama.cpp
  // LoRA GGUF. Throws std::runtime_error naming the file and the problem (missing pair,
  // rank 0, inconsistent shapes, unknown target, unsupported options such as DoRA).
  static std::shared_ptr<const LoraAdapter> load(const std::string& path);
  // Like load(), but one adapter per file while anyone holds it (servers, several
  // pipelines on one base share the matrices).
  static std::shared_ptr<const LoraAdapter> load_shared(const std::string& path);

  // Throws std::runtime_error if the adapter does not fit the base model `c`: another
  // architecture, a layer past the last, a shape that is not the projection's, LoRA on
  // the experts of a mixture-of-experts model.
  void check_base(const Qwen3Config& c) const;

  // nullptr if the adapter does not touch that projection.
  const LoraMatrices* find(int layer, LoraTarget t) const;
  // The projection's matrices as the forward pass reads them (model/lora_kernels.h:
  // F16 / BF16 when exact, B transposed); false if the adapter does not touch it.
  bool view(int layer, LoraTarget t, LoraView* out) const;

  const std::string& path() const { return path_; }
  // Unique per adapter object in this process (never reused): identifies the matrices in
  // LoraSet::key() without comparing them.
  std::uint64_t id() const { return id_; }
  const std::string& format() const { return format_; }  // "peft" or "gguf"
  const std::string& arch() const { return arch_; }      // GGUF architecture, "" if unknown
  int n_layers() const { return static_cast<int>(slots_.size()); }
  int n_matrices() const { return static_cast<int>(mats_.size()); }
  int max_rank() const;
  // The targets present in any layer, in LoraTarget order ("q_proj", ...).
  std::vector<LoraTarget> targets() const;

  // For the loaders: an empty adapter, then one add() per projection. add() checks the
  // pair's own consistency (rank > 0, sizes) and rejects duplicates.
  LoraAdapter(std::string path, std::string format, std::string arch = "");
  void add(int layer, LoraTarget t, LoraMatrices m);

 private:
  std::string path_, format_, arch_;
  std::uint64_t id_;
  bool lossy_f16_;  // lora_lossy_f16() when constructed
  std::vector<LoraMatrices> mats_;
  std::unique_ptr<LoraArena> arena_;                     // the run-time copies' memory
  std::vector<LoraPacked> packed_;                       // per mats_ entry: its run-time copy
  std::vector<std::array<int, kNumLoraTargets>> slots_;  // per layer: index into mats_ or -1
};

// Loaders (lora_peft_loader.cpp, lora_gguf_loader.cpp).
std::shared_ptr<LoraAdapter> load_peft_adapter(const std::string& folder_or_file);
std::shared_ptr<LoraAdapter> load_gguf_adapter(const std::string& path);
// The same from memory (fuzzers, tests): adapter_config.json's text and the bytes of
// adapter_model.safetensors; an open adapter GGUF. `name` / `path` name it in errors.
std::shared_ptr<LoraAdapter> parse_peft_adapter(const std::string& config_json,
                                                const uint8_t* safetensors, size_t size,
                                                const std::string& name);
std::shared_ptr<LoraAdapter> parse_gguf_adapter(const gguf::GgufFile& file,
                                                const std::string& path);

// The adapters one sequence runs with, each with its user scale (0 = off). Scales
// multiply the adapter's own alpha / rank.
struct LoraSet {
  struct Entry {
    std::shared_ptr<const LoraAdapter> adapter;
    float scale = 1.0f;
  };
  std::vector<Entry> entries;
  // True if some adapter has a non-zero scale (otherwise the forward pass is the base's).
  bool active() const;
  // What the forward pass computes with this set, as a string: the adapters with a
  // non-zero scale, in order, by id() and the scale's bits; "" for the base model. Two
  // sets with the same key give the same logits bit for bit (zero-scale entries are
  // skipped by the forward pass), so the prefix cache is keyed by it.
  std::string key() const;
};

// Opt-in, lossy (`--lora-f16`): adapters loaded (or built with add()) while it is on keep
// their run-time copy (model/lora_kernels.h) in F16 even where F16 does not hold their
// values exactly: F32 adapters are rounded to the nearest F16 value (about 3 significant
// digits), for half the bytes read per decoded token. Off by default (exact: F32 stays
// F32). The F32 matrices themselves (find(): merging, export) are never rounded.
// load_shared keeps the exact and the rounded copies of a file apart.
void set_lora_lossy_f16(bool on);
bool lora_lossy_f16();

// Loads each (path, scale) with LoraAdapter::load_shared and checks it against `c`.
std::shared_ptr<const LoraSet> load_lora_set(
    const std::vector<std::pair<std::string, float>>& adapters, const Qwen3Config& c);

}  // namespace qwen3
