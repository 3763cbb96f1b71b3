// Rules for OpenVINO GenAI's NPU pipeline: keys GenAI sets itself, the plugin-level
// duplicates of its user-level keys, legacy keys and the static-shape KV capacity.
// Facts: GenAI's update_npu_config() inserts NPU_USE_NPUW, NPUW_LLM, NPUW_LLM_BATCH_DIM
// and NPUW_LLM_SEQ_LEN_DIM (from the model's KV axes) unless given, pops MAX_PROMPT_LEN /
// MIN_RESPONSE_LEN (defaults 1024 / 128) for its own checks, and renames the hints.
#include "device/validator_rules.h"

namespace qwen3::device::rules {
namespace {

// The KV-cache axes GenAI detects from the model itself: a different value is an error
// (the message is wrong_before + value + wrong_after), the right one is redundant.
struct KvAxisKey {
  const char* key;
  int64_t axis;
  const char* wrong_before;
  const char* wrong_after;
  const char* fix;
  const char* redundant;
};

constexpr KvAxisKey kKvAxisKeys[] = {
    {"NPUW_LLM_BATCH_DIM", 0,
     "the batch axis of an exported Qwen3 KV cache [batch, kv_heads, seq, head_dim] is 0, not ", "",
     "remove it; GenAI detects the axis from the model",
     "GenAI detects the batch axis from the model's KV-cache inputs itself"},
    {"NPUW_LLM_SEQ_LEN_DIM", 2,
     "the sequence axis of a standard exported Qwen3 KV cache [batch, kv_heads, seq, "
     "head_dim] is 2; ",
     " makes NPUW size and slice the cache along the wrong axis",
     "remove it; GenAI detects the axis (2) from the model",
     "GenAI detects the sequence axis from the model's KV-cache inputs itself"},
};

void genai_owned_keys(const nlohmann::json& p, std::vector<Finding>& out) {
  for (const char* key : {"NPU_USE_NPUW", "NPUW_LLM"}) {
    if (!p.contains(key)) continue;
    if (bool_value(p, key) == false) {
      out.push_back({Severity::Error, key,
                     "GenAI's NPU LLM pipeline runs through NPUW; NO disables it and the "
                     "model fails to compile",
                     "remove it (GenAI sets YES itself)"});
    } else {
      out.push_back({Severity::Note, key,
                     "GenAI sets " + std::string(key) + "=YES itself for device NPU",
                     "remove it; it is redundant"});
    }
  }
  for (const KvAxisKey& k : kKvAxisKeys) {
    if (!p.contains(k.key)) continue;
    const auto v = int_value(p, k.key);
    if (v && *v != k.axis) {
      out.push_back(
          {Severity::Error, k.key, k.wrong_before + std::to_string(*v) + k.wrong_after, k.fix});
    } else {
      out.push_back({Severity::Note, k.key, k.redundant, "remove it; it is redundant"});
    }
  }
}

struct LengthPair {
  const char* user;
  const char* plugin;
  int64_t genai_default;
};

void length_pairs(const nlohmann::json& p, std::vector<Finding>& out) {
  for (const LengthPair& lp : {LengthPair{"MAX_PROMPT_LEN", "NPUW_LLM_MAX_PROMPT_LEN", 1024},
                               LengthPair{"MIN_RESPONSE_LEN", "NPUW_LLM_MIN_RESPONSE_LEN", 128}}) {
    const auto plugin = int_value(p, lp.plugin);
    if (!p.contains(lp.plugin)) continue;
    const std::string user(lp.user), plugin_key(lp.plugin);
    const std::string v = plugin ? std::to_string(*plugin) : p[lp.plugin].dump();
    if (!p.contains(lp.user)) {
      out.push_back(
          {Severity::Warning, plugin_key,
           "set directly, the plugin compiles for " + v + " tokens but GenAI keeps " + user +
               " at its default " + std::to_string(lp.genai_default) + " for its own checks" +
               (user == "MAX_PROMPT_LEN" ? " and throws on prompts longer than that"
                                         : ", so the sizes it assumes disagree with the plugin"),
           "replace it with " + user + ": " + v});
      continue;
    }
    const auto u = int_value(p, lp.user);
    if (u && plugin && *u != *plugin) {
      out.push_back({Severity::Error, plugin_key,
                     "the plugin compiles for " + std::to_string(*plugin) +
                         " tokens while GenAI checks against " + user + "=" + std::to_string(*u),
                     "remove " + plugin_key + " and keep " + user});
    } else {
      out.push_back({Severity::Note, plugin_key, "GenAI sets it from " + user + " itself",
                     "remove it; it is redundant"});
    }
  }
}

void renamed_keys(const nlohmann::json& p, std::vector<Finding>& out) {
  for (const char* user : {"GENERATE_HINT", "PREFILL_HINT", "GENERATE_CONFIG", "PREFILL_CONFIG"}) {
    const std::string plugin = std::string("NPUW_LLM_") + user;
    if (!p.contains(plugin)) continue;
    if (p.contains(user)) {
      out.push_back({Severity::Warning, plugin,
                     std::string("both ") + user + " and " + plugin + " are given; GenAI renames " +
                         user + " to " + plugin + ", so one silently replaces the other",
                     std::string("keep only ") + user});
    } else {
      out.push_back({Severity::Note, plugin,
                     std::string("GenAI's documented name is ") + user +
                         " (it renames it to this plugin key)",
                     std::string("write ") + user + " instead"});
    }
  }
}

void cache_and_blob(const nlohmann::json& p, std::vector<Finding>& out) {
  if (p.contains("NPUW_CACHE_DIR")) {
    out.push_back({Severity::Warning, "NPUW_CACHE_DIR",
                   "legacy NPU-specific weightless cache; since OpenVINO 2025.1 the "
                   "device-neutral CACHE_DIR is the supported mechanism",
                   p.contains("CACHE_DIR") ? "remove it; CACHE_DIR is already set"
                                           : "rename it to CACHE_DIR"});
  }
  if (bool_value(p, "EXPORT_BLOB") == true && !p.contains("BLOB_PATH")) {
    out.push_back({Severity::Error, "EXPORT_BLOB",
                   "EXPORT_BLOB=YES writes the compiled model to BLOB_PATH, which is not set",
                   "add BLOB_PATH: \"<dir>/model.blob\""});
  }
  if (p.contains("WEIGHTS_PATH") && !p.contains("BLOB_PATH")) {
    out.push_back({Severity::Warning, "WEIGHTS_PATH",
                   "WEIGHTS_PATH only serves importing a weightless blob from BLOB_PATH",
                   "add BLOB_PATH or remove WEIGHTS_PATH"});
  }
}

int64_t first_int(const nlohmann::json& p, const char* a, const char* b, int64_t dflt) {
  if (auto v = int_value(p, a)) return *v;
  if (auto v = int_value(p, b)) return *v;
  return dflt;
}

void shape_rules(const nlohmann::json& p, const ValidateOptions& o, std::vector<Finding>& out) {
  // What the plugin compiles: its own keys win over the ones GenAI forwards.
  const int64_t prompt = first_int(p, "NPUW_LLM_MAX_PROMPT_LEN", "MAX_PROMPT_LEN", 1024);
  const int64_t response = first_int(p, "NPUW_LLM_MIN_RESPONSE_LEN", "MIN_RESPONSE_LEN", 128);
  capacity_rules("MAX_PROMPT_LEN + MIN_RESPONSE_LEN", prompt + response, 2, o, out);

  std::string hint = "DYNAMIC";
  if (auto h = string_value(p, "PREFILL_HINT")) hint = *h;
  if (auto h = string_value(p, "NPUW_LLM_PREFILL_HINT")) hint = *h;
  if (auto chunk = int_value(p, "NPUW_LLM_PREFILL_CHUNK_SIZE")) {
    if (hint == "STATIC") {
      out.push_back({Severity::Warning, "NPUW_LLM_PREFILL_CHUNK_SIZE",
                     "chunked prefill only runs with PREFILL_HINT=DYNAMIC; STATIC ignores it",
                     "remove it, or set PREFILL_HINT to DYNAMIC"});
    } else if (*chunk >= prompt) {
      out.push_back({Severity::Note, "NPUW_LLM_PREFILL_CHUNK_SIZE",
                     "a chunk of " + std::to_string(*chunk) + " covers MAX_PROMPT_LEN=" +
                         std::to_string(prompt) + ": the prompt is prefilled in one pass",
                     "lower it below MAX_PROMPT_LEN for dynamic prefill"});
    }
  }
  if (response < 512) {
    out.push_back({Severity::Note, "MIN_RESPONSE_LEN",
                   "only " + std::to_string(response) +
                       " tokens are guaranteed for the answer once the prompt fills "
                       "MAX_PROMPT_LEN; Qwen3's thinking often needs more",
                   "use 512 or more with thinking, or turn thinking off"});
  }
  if (!o.model) {
    out.push_back({Severity::Note, "",
                   "no model given: the context, memory and weight-format rules were skipped",
                   "pass -m MODEL or --model-preset 8b"});
  }
}

}  // namespace

void npu_rules(const nlohmann::json& p, const ValidateOptions& o, std::vector<Finding>& out) {
  genai_owned_keys(p, out);
  length_pairs(p, out);
  renamed_keys(p, out);
  cache_and_blob(p, out);
  shape_rules(p, o, out);
}

}  // namespace qwen3::device::rules
