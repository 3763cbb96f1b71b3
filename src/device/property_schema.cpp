#include "device/property_schema.h"

#include <algorithm>
#include <cctype>

namespace qwen3::device {
namespace {

constexpr int64_t kMaxTokens = 1 << 20;

KeySpec key_spec(std::string key, ValueKind kind, std::string help) {
  KeySpec k;
  k.key = std::move(key);
  k.kind = kind;
  k.help = std::move(help);
  return k;
}

KeySpec int_key(std::string key, int64_t min, int64_t max, std::string help,
                bool integer_only = false) {
  KeySpec k = key_spec(std::move(key), ValueKind::Int, std::move(help));
  k.min = min;
  k.max = max;
  k.integer_only = integer_only;
  return k;
}

KeySpec bool_key(std::string key, std::string help) {
  return key_spec(std::move(key), ValueKind::Bool, std::move(help));
}

KeySpec string_key(std::string key, std::string help) {
  return key_spec(std::move(key), ValueKind::String, std::move(help));
}

KeySpec enum_key(std::string key, std::vector<std::string> values, std::string help) {
  KeySpec k = key_spec(std::move(key), ValueKind::Enum, std::move(help));
  k.values = std::move(values);
  return k;
}

KeySpec object_key(std::string key, std::string help) {
  return key_spec(std::move(key), ValueKind::Object, std::move(help));
}

const std::vector<std::string> kPerfHints = {"LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT"};
const std::vector<std::string> kCacheModes = {"OPTIMIZE_SPEED", "OPTIMIZE_SIZE"};
const std::vector<std::string> kGenerateHints = {"FAST_COMPILE", "BEST_PERF"};
const std::vector<std::string> kPrefillHints = {"DYNAMIC", "STATIC"};
const std::vector<std::string> kAttentionHints = {"STATIC", "DYNAMIC", "PYRAMID", "HFA"};

// OpenVINO GenAI's NPU pipeline (user-level keys it renames or pops) and the NPU
// plugin's NPUW options (intel_npu npuw_option_defs.inc, OpenVINO 2025-2026).
std::vector<KeySpec> npu_keys() {
  return {
      int_key("MAX_PROMPT_LEN", 1, kMaxTokens,
              "GenAI: longest prompt the static-shape pipeline accepts (default 1024)", true),
      int_key("MIN_RESPONSE_LEN", 1, kMaxTokens,
              "GenAI: KV room reserved for the answer beyond the prompt (default 128)", true),
      enum_key("GENERATE_HINT", kGenerateHints,
               "GenAI -> NPUW_LLM_GENERATE_HINT: FAST_COMPILE (default) or BEST_PERF"),
      enum_key("PREFILL_HINT", kPrefillHints,
               "GenAI -> NPUW_LLM_PREFILL_HINT: DYNAMIC (default since 2025.3) or STATIC"),
      object_key("PREFILL_CONFIG", "GenAI -> NPUW_LLM_PREFILL_CONFIG: plugin options of prefill"),
      object_key("GENERATE_CONFIG",
                 "GenAI -> NPUW_LLM_GENERATE_CONFIG: plugin options of generation"),
      string_key("CACHE_DIR", "OpenVINO model cache folder (compiled blobs reused next start)"),
      enum_key("CACHE_MODE", kCacheModes,
               "OPTIMIZE_SPEED keeps weights in the blob, OPTIMIZE_SIZE makes it weightless"),
      string_key("BLOB_PATH", "ahead-of-time compiled blob to export to or import from"),
      bool_key("EXPORT_BLOB", "write the compiled model to BLOB_PATH"),
      string_key("WEIGHTS_PATH", "original weights (.bin) for importing a weightless blob"),
      enum_key("PERFORMANCE_HINT", kPerfHints, "OpenVINO performance hint"),
      bool_key("NPU_USE_NPUW", "route the model through NPUW (GenAI sets YES itself)"),
      bool_key("NPUW_LLM", "NPUW's LLM mode (GenAI sets YES itself)"),
      int_key("NPUW_LLM_BATCH_DIM", 0, 3, "KV-cache batch axis (GenAI detects it: 0)"),
      int_key("NPUW_LLM_SEQ_LEN_DIM", 0, 3,
              "KV-cache sequence axis (GenAI detects it: 2 for [batch, heads, seq, dim])"),
      int_key("NPUW_LLM_MAX_PROMPT_LEN", 1, kMaxTokens,
              "plugin-level prompt length (GenAI sets it from MAX_PROMPT_LEN)"),
      int_key("NPUW_LLM_MIN_RESPONSE_LEN", 1, kMaxTokens,
              "plugin-level response length (GenAI sets it from MIN_RESPONSE_LEN)"),
      enum_key("NPUW_LLM_GENERATE_HINT", kGenerateHints, "plugin name of GENERATE_HINT"),
      enum_key("NPUW_LLM_PREFILL_HINT", kPrefillHints, "plugin name of PREFILL_HINT"),
      object_key("NPUW_LLM_PREFILL_CONFIG", "plugin name of PREFILL_CONFIG"),
      object_key("NPUW_LLM_GENERATE_CONFIG", "plugin name of GENERATE_CONFIG"),
      int_key("NPUW_LLM_PREFILL_CHUNK_SIZE", 0, kMaxTokens,
              "tokens per prefill chunk with PREFILL_HINT=DYNAMIC (default 1024)"),
      bool_key("NPUW_LLM_OPTIMIZE_V_TENSORS", "transposed V layout (default YES)"),
      bool_key("NPUW_LLM_SHARED_HEAD", "LM head as a separate shared model (default YES)"),
      bool_key("NPUW_LLM_CACHE_ROPE", "precomputed RoPE tables (default YES)"),
      bool_key("NPUW_LLM_GENERATE_PYRAMID", "pyramid attention in generation (default YES)"),
      int_key("NPUW_LLM_MAX_GENERATION_TOKEN_LEN", 1, 1024,
              "tokens per generate step (default 1; >1 only for speculative decoding)"),
      bool_key("NPUW_LLM_ENABLE_PREFIX_CACHING", "reuse KV of a repeated prompt prefix (NO)"),
      int_key("NPUW_LLM_PREFIX_CACHING_BLOCK_SIZE", 1, kMaxTokens,
              "prefix-cache block in tokens (default 256)"),
      int_key("NPUW_LLM_PREFIX_CACHING_MAX_NUM_BLOCKS", 1, kMaxTokens,
              "prefix-cache capacity in blocks (default 128)"),
      enum_key("NPUW_LLM_PREFILL_ATTENTION_HINT", kAttentionHints, "attention in prefill"),
      enum_key("NPUW_LLM_GENERATE_ATTENTION_HINT", kAttentionHints, "attention in generation"),
      string_key("NPUW_CACHE_DIR", "legacy NPUW weightless cache (use CACHE_DIR)"),
      string_key("NPUW_DEVICES", "devices NPUW may place subgraphs on (default NPU,CPU)"),
      bool_key("NPUW_FOLD", "fold repeated blocks into one function"),
      bool_key("NPUW_DQ", "dynamic quantization on the plugin side"),
      bool_key("NPU_TURBO", "NPU turbo mode"),
      bool_key("ENABLE_MMAP", "map the weights file instead of reading it"),
  };
}

// The OpenVINO GPU plugin, as far as the LLM pipeline needs it.
std::vector<KeySpec> gpu_keys() {
  return {
      enum_key("PERFORMANCE_HINT", kPerfHints, "OpenVINO performance hint"),
      enum_key("INFERENCE_PRECISION_HINT", {"f16", "f32"}, "activation precision"),
      enum_key("KV_CACHE_PRECISION", {"f16", "f32", "u8", "i8"}, "KV cache element type"),
      string_key("CACHE_DIR", "OpenVINO model cache folder"),
      enum_key("CACHE_MODE", kCacheModes, "blob with (SPEED) or without (SIZE) weights"),
      int_key("NUM_STREAMS", 1, 64, "parallel inference streams (1 for one chat)"),
      bool_key("ENABLE_MMAP", "map the weights file instead of reading it"),
  };
}

// This project's native CPU engine.
std::vector<KeySpec> cpu_keys() {
  return {
      int_key("NUM_THREADS", 1, 1024, "worker threads for matmuls and attention"),
      int_key("CONTEXT_LENGTH", 16, kMaxTokens, "KV cache capacity in tokens"),
      enum_key("KV_CACHE_PRECISION", {"f16", "f32"}, "KV cache element type"),
      int_key("PROMPT_BATCH_SIZE", 1, 8192, "prompt tokens per forward pass in prefill"),
  };
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

}  // namespace

const std::vector<KeySpec>& known_keys(Device device) {
  static const std::vector<KeySpec> npu = npu_keys(), gpu = gpu_keys(), cpu = cpu_keys();
  switch (device) {
    case Device::NPU:
      return npu;
    case Device::GPU:
      return gpu;
    case Device::CPU:
      return cpu;
  }
  return cpu;
}

const KeySpec* find_key(Device device, std::string_view key) {
  for (const auto& k : known_keys(device))
    if (k.key == key) return &k;
  return nullptr;
}

std::vector<std::string> known_key_names(Device device) {
  std::vector<std::string> out;
  for (const auto& k : known_keys(device)) out.push_back(k.key);
  return out;
}

std::optional<int64_t> read_int(const nlohmann::json& v, bool integer_only) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (integer_only || !v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return std::nullopt;
  return std::stoll(s);
}

std::optional<bool> read_bool(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (!v.is_string()) return std::nullopt;
  const std::string u = upper(v.get<std::string>());
  if (u == "YES" || u == "TRUE") return true;
  if (u == "NO" || u == "FALSE") return false;
  return std::nullopt;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "YES" : "NO";
  return v.dump();
}

}  // namespace qwen3::device
