// The property validator: every rule, the origin app's NPU configuration, and
// differential checks over generated maps.
#include <gtest/gtest.h>

#include <random>

#include "device/config_validator.h"
#include "device/model_facts.h"
#include "device/property_schema.h"

using namespace qwen3::device;
using nlohmann::json;

namespace {

ValidateOptions npu(std::optional<ModelFacts> model = std::nullopt) {
  ValidateOptions o;
  o.device = Device::NPU;
  o.model = std::move(model);
  return o;
}

std::vector<Finding> with(const std::vector<Finding>& fs, Severity s, const std::string& key) {
  std::vector<Finding> out;
  for (const auto& f : fs)
    if (f.severity == s && f.key == key) out.push_back(f);
  return out;
}

bool mentions(const std::vector<Finding>& fs, Severity s, const std::string& key,
              const std::string& text) {
  for (const auto& f : with(fs, s, key))
    if (f.message.find(text) != std::string::npos || f.fix.find(text) != std::string::npos)
      return true;
  return false;
}

}  // namespace

TEST(DeviceValidator, OriginAppConfigurationIsCaught) {
  const json origin = {{"NPU_USE_NPUW", "YES"},           {"NPUW_LLM", "YES"},
                       {"NPUW_LLM_BATCH_DIM", 0},         {"NPUW_LLM_SEQ_LEN_DIM", 1},
                       {"NPUW_LLM_MAX_PROMPT_LEN", 2048}, {"NPUW_LLM_MIN_RESPONSE_LEN", 256},
                       {"NPU_LOW_MEMORY_MODE", "YES"}};
  const auto fs = validate_config(origin, npu(model_preset("8b")));
  EXPECT_TRUE(mentions(fs, Severity::Error, "NPUW_LLM_SEQ_LEN_DIM", "is 2"));
  EXPECT_TRUE(mentions(fs, Severity::Error, "NPU_LOW_MEMORY_MODE", "no such property"));
  EXPECT_EQ(count(fs, Severity::Error), 2u) << format_findings(fs);
  for (const char* k : {"NPU_USE_NPUW", "NPUW_LLM", "NPUW_LLM_BATCH_DIM"})
    EXPECT_TRUE(mentions(fs, Severity::Note, k, "GenAI")) << k;
  // Set directly, the plugin lengths leave GenAI's own MAX_PROMPT_LEN check at 1024.
  EXPECT_TRUE(mentions(fs, Severity::Warning, "NPUW_LLM_MAX_PROMPT_LEN", "1024"));
  EXPECT_TRUE(mentions(fs, Severity::Warning, "NPUW_LLM_MIN_RESPONSE_LEN", "MIN_RESPONSE_LEN"));
}

TEST(DeviceValidator, CleanUserLevelMapHasNoErrorsOrWarnings) {
  const json m = {{"MAX_PROMPT_LEN", 2048},
                  {"MIN_RESPONSE_LEN", 512},
                  {"GENERATE_HINT", "BEST_PERF"},
                  {"PREFILL_HINT", "DYNAMIC"},
                  {"CACHE_DIR", ".npucache"}};
  const auto fs = validate_config(m, npu(model_preset("8b")));
  EXPECT_EQ(count(fs, Severity::Error), 0u) << format_findings(fs);
  EXPECT_EQ(count(fs, Severity::Warning), 0u) << format_findings(fs);
}

TEST(DeviceValidator, NonObjectAndNestedValuesAreErrors) {
  EXPECT_TRUE(has_errors(validate_config(json::array({1, 2}), npu())));
  EXPECT_TRUE(has_errors(validate_config(json("x"), npu())));
  const auto fs = validate_config({{"CACHE_DIR", json::array({"a"})}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "CACHE_DIR").size(), 1u);
  EXPECT_TRUE(has_errors(validate_config({{"CACHE_DIR", nullptr}}, npu())));
}

TEST(DeviceValidator, UnknownKeysGetDidYouMean) {
  auto fs = validate_config({{"MAX_PROMT_LEN", 1024}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "MAX_PROMT_LEN", "did you mean MAX_PROMPT_LEN"));
  fs = validate_config({{"generate_hint", "BEST_PERF"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "generate_hint", "did you mean GENERATE_HINT"));
  fs = validate_config({{"TOTALLY_UNRELATED_THING", 1}}, npu());
  ASSERT_EQ(with(fs, Severity::Error, "TOTALLY_UNRELATED_THING").size(), 1u);
  EXPECT_EQ(with(fs, Severity::Error, "TOTALLY_UNRELATED_THING")[0].fix, "remove it");
}

TEST(DeviceValidator, TypesValuesAndRanges) {
  auto fs = validate_config({{"MAX_PROMPT_LEN", "2048"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "MAX_PROMPT_LEN", "Type mismatch"));
  fs = validate_config({{"NPUW_LLM_MAX_PROMPT_LEN", "2048"}}, npu());  // the plugin parses it
  EXPECT_TRUE(with(fs, Severity::Error, "NPUW_LLM_MAX_PROMPT_LEN").empty());
  fs = validate_config({{"MAX_PROMPT_LEN", 10.5}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "MAX_PROMPT_LEN").size(), 1u);
  fs = validate_config({{"MAX_PROMPT_LEN", 0}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "MAX_PROMPT_LEN", "out of range"));
  fs = validate_config({{"GENERATE_HINT", "LATENCY"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "GENERATE_HINT", "FAST_COMPILE"));
  fs = validate_config({{"PREFILL_HINT", "STATC"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "PREFILL_HINT", "did you mean STATIC"));
  fs = validate_config({{"NPUW_LLM_PREFILL_HINT", "BEST_PERF"}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "NPUW_LLM_PREFILL_HINT").size(), 1u);
  fs = validate_config({{"EXPORT_BLOB", "MAYBE"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "EXPORT_BLOB", "YES or NO"));
  fs = validate_config({{"EXPORT_BLOB", true}, {"BLOB_PATH", "a.blob"}}, npu());
  EXPECT_TRUE(with(fs, Severity::Error, "EXPORT_BLOB").empty());
  fs = validate_config({{"PREFILL_CONFIG", "x"}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "PREFILL_CONFIG").size(), 1u);
  fs = validate_config({{"CACHE_DIR", ""}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "CACHE_DIR").size(), 1u);
}

TEST(DeviceValidator, KeysGenAiSetsItself) {
  auto fs = validate_config({{"NPUW_LLM_SEQ_LEN_DIM", 2}, {"NPUW_LLM_BATCH_DIM", 0}}, npu());
  EXPECT_EQ(count(fs, Severity::Error), 0u);
  EXPECT_EQ(with(fs, Severity::Note, "NPUW_LLM_SEQ_LEN_DIM").size(), 1u);
  fs = validate_config({{"NPUW_LLM_BATCH_DIM", 1}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "NPUW_LLM_BATCH_DIM").size(), 1u);
  fs = validate_config({{"NPU_USE_NPUW", "NO"}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "NPU_USE_NPUW").size(), 1u);
  fs = validate_config({{"NPUW_LLM", false}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "NPUW_LLM").size(), 1u);
}

TEST(DeviceValidator, PluginLevelDuplicates) {
  auto fs = validate_config({{"MAX_PROMPT_LEN", 2048}, {"NPUW_LLM_MAX_PROMPT_LEN", 1024}}, npu());
  EXPECT_EQ(with(fs, Severity::Error, "NPUW_LLM_MAX_PROMPT_LEN").size(), 1u);
  fs = validate_config({{"MAX_PROMPT_LEN", 2048}, {"NPUW_LLM_MAX_PROMPT_LEN", 2048}}, npu());
  EXPECT_EQ(with(fs, Severity::Note, "NPUW_LLM_MAX_PROMPT_LEN").size(), 1u);
  fs = validate_config({{"NPUW_LLM_GENERATE_HINT", "BEST_PERF"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Note, "NPUW_LLM_GENERATE_HINT", "GENERATE_HINT"));
  fs = validate_config({{"GENERATE_HINT", "BEST_PERF"}, {"NPUW_LLM_GENERATE_HINT", "FAST_COMPILE"}},
                       npu());
  EXPECT_EQ(with(fs, Severity::Warning, "NPUW_LLM_GENERATE_HINT").size(), 1u);
}

TEST(DeviceValidator, LegacyCacheDirAndBlobs) {
  auto fs = validate_config({{"NPUW_CACHE_DIR", "c"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Warning, "NPUW_CACHE_DIR", "rename it to CACHE_DIR"));
  fs = validate_config({{"NPUW_CACHE_DIR", "c"}, {"CACHE_DIR", "c"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Warning, "NPUW_CACHE_DIR", "already set"));
  fs = validate_config({{"EXPORT_BLOB", "YES"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "EXPORT_BLOB", "BLOB_PATH"));
  fs = validate_config({{"WEIGHTS_PATH", "m.bin"}}, npu());
  EXPECT_EQ(with(fs, Severity::Warning, "WEIGHTS_PATH").size(), 1u);
}

TEST(DeviceValidator, ContextAndMemoryBudget) {
  const std::string key = "MAX_PROMPT_LEN + MIN_RESPONSE_LEN";
  ModelFacts m = model_preset("8b");  // 147,456 bytes of f16 KV per token
  EXPECT_EQ(m.kv_bytes_per_token(2), 2u * 36 * 8 * 128 * 2);
  auto fs = validate_config({{"MAX_PROMPT_LEN", 40000}, {"MIN_RESPONSE_LEN", 1000}}, npu(m));
  EXPECT_TRUE(mentions(fs, Severity::Error, key, "40960"));
  ValidateOptions o = npu(m);
  o.kv_budget_bytes = 512ull << 20;  // 3640 tokens of 8B KV
  fs = validate_config({{"MAX_PROMPT_LEN", 3072}, {"MIN_RESPONSE_LEN", 512}}, o);
  EXPECT_TRUE(with(fs, Severity::Warning, key).empty()) << format_findings(fs);
  fs = validate_config({{"MAX_PROMPT_LEN", 3200}, {"MIN_RESPONSE_LEN", 512}}, o);
  EXPECT_TRUE(mentions(fs, Severity::Warning, key, "3640 tokens"));
  // The plugin's own length wins over MAX_PROMPT_LEN for what gets compiled.
  fs = validate_config({{"MAX_PROMPT_LEN", 1024}, {"NPUW_LLM_MAX_PROMPT_LEN", 4096}}, o);
  EXPECT_EQ(with(fs, Severity::Warning, key).size(), 1u);
  fs = validate_config(json::object(), npu());
  EXPECT_TRUE(mentions(fs, Severity::Note, "", "no model given"));
}

TEST(DeviceValidator, PrefillChunkAndResponseNotes) {
  auto fs =
      validate_config({{"PREFILL_HINT", "STATIC"}, {"NPUW_LLM_PREFILL_CHUNK_SIZE", 256}}, npu());
  EXPECT_EQ(with(fs, Severity::Warning, "NPUW_LLM_PREFILL_CHUNK_SIZE").size(), 1u);
  fs = validate_config({{"MAX_PROMPT_LEN", 1024}, {"NPUW_LLM_PREFILL_CHUNK_SIZE", 1024}}, npu());
  EXPECT_EQ(with(fs, Severity::Note, "NPUW_LLM_PREFILL_CHUNK_SIZE").size(), 1u);
  fs = validate_config({{"MIN_RESPONSE_LEN", 128}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Note, "MIN_RESPONSE_LEN", "thinking"));
  fs = validate_config({{"MIN_RESPONSE_LEN", 1024}}, npu());
  EXPECT_TRUE(with(fs, Severity::Note, "MIN_RESPONSE_LEN").empty());
}

TEST(DeviceValidator, HintsAndKeysAgainstDevice) {
  ValidateOptions gpu;
  gpu.device = Device::GPU;
  auto fs = validate_config({{"GENERATE_HINT", "BEST_PERF"}, {"MAX_PROMPT_LEN", 1024}}, gpu);
  EXPECT_TRUE(mentions(fs, Severity::Error, "GENERATE_HINT", "NPU property"));
  EXPECT_TRUE(mentions(fs, Severity::Error, "MAX_PROMPT_LEN", "NPU property"));
  fs = validate_config({{"NUM_THREADS", 4}}, gpu);
  EXPECT_TRUE(mentions(fs, Severity::Error, "NUM_THREADS", "native CPU engine"));
  fs = validate_config({{"INFERENCE_PRECISION_HINT", "f16"}, {"KV_CACHE_PRECISION", "u8"}}, gpu);
  EXPECT_FALSE(has_errors(fs));
  fs = validate_config({{"INFERENCE_PRECISION_HINT", "f16"}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Warning, "INFERENCE_PRECISION_HINT", "GPU"));
  ValidateOptions cpu;
  cpu.device = Device::CPU;
  fs = validate_config({{"PERFORMANCE_HINT", "LATENCY"}}, cpu);
  EXPECT_TRUE(mentions(fs, Severity::Error, "PERFORMANCE_HINT", "an OpenVINO property"));
  fs = validate_config({{"INFERENCE_PRECISION_HINT", "f16"}}, cpu);
  EXPECT_TRUE(mentions(fs, Severity::Error, "INFERENCE_PRECISION_HINT", "GPU property"));
  fs = validate_config({{"KV_CACHE_PRECISION", "f16"}}, npu());  // a GPU key, not CPU-only
  EXPECT_TRUE(mentions(fs, Severity::Warning, "KV_CACHE_PRECISION", "GPU property"));
  fs = validate_config({{"CONTEXT_LENGTH", 4096}}, npu());
  EXPECT_TRUE(mentions(fs, Severity::Error, "CONTEXT_LENGTH", "native CPU engine"));
  fs = validate_config({{"PREFILL_HINT", "STATIC"}}, cpu);
  EXPECT_TRUE(mentions(fs, Severity::Error, "PREFILL_HINT", "NPU property"));
}

TEST(DeviceValidator, NativeCpuRules) {
  ValidateOptions o;
  o.device = Device::CPU;
  o.model = model_preset("8b");
  o.hardware_threads = 2;
  o.kv_budget_bytes = 1024ull << 20;
  auto fs = validate_config({{"NUM_THREADS", 8}}, o);
  EXPECT_TRUE(mentions(fs, Severity::Warning, "NUM_THREADS", "2 logical CPUs"));
  fs = validate_config({{"CONTEXT_LENGTH", 50000}}, o);
  EXPECT_TRUE(mentions(fs, Severity::Error, "CONTEXT_LENGTH", "40960"));
  // f32 doubles the KV bytes: 4096 tokens of 8B fit 1 GiB in f16 but not in f32.
  fs = validate_config({{"CONTEXT_LENGTH", 4096}, {"KV_CACHE_PRECISION", "f16"}}, o);
  EXPECT_TRUE(with(fs, Severity::Warning, "CONTEXT_LENGTH").empty());
  fs = validate_config({{"CONTEXT_LENGTH", 4096}, {"KV_CACHE_PRECISION", "f32"}}, o);
  EXPECT_EQ(with(fs, Severity::Warning, "CONTEXT_LENGTH").size(), 1u);
  fs = validate_config({{"CONTEXT_LENGTH", 1024}, {"PROMPT_BATCH_SIZE", 2048}}, o);
  EXPECT_EQ(with(fs, Severity::Warning, "PROMPT_BATCH_SIZE").size(), 1u);
  fs = validate_config({{"KV_CACHE_PRECISION", "q8"}}, o);
  EXPECT_EQ(with(fs, Severity::Error, "KV_CACHE_PRECISION").size(), 1u);
}

TEST(DeviceValidator, ModelAwareWeightRules) {
  const json m = {{"MAX_PROMPT_LEN", 1024}, {"MIN_RESPONSE_LEN", 512}};
  ModelFacts f = model_preset("8b");
  EXPECT_FALSE(has_errors(validate_config(m, npu(f))));
  f.symmetric = false;
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Error, "(model)", "symmetric"));
  f = model_preset("8b");
  f.group_size = 128;
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Warning, "(model)", "channel-wise"));
  f = model_preset("4b");  // group size 128 is the recommendation up to 4B
  EXPECT_EQ(count(validate_config(m, npu(f)), Severity::Warning), 0u);
  f = model_preset("1.7b");
  apply_quant_spec(f, "int8");
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Error, "(model)", "4-bit"));
  f = model_preset("14b");
  apply_quant_spec(f, "nf4");
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Note, "(model)", "Lunar Lake"));
  f.group_size = 64;
  EXPECT_EQ(with(validate_config(m, npu(f)), Severity::Warning, "(model)").size(), 1u);
  f.weights = WeightFormat::Gguf;
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Note, "(model)", "GGUF"));
  f.weights = WeightFormat::Unknown;
  EXPECT_TRUE(mentions(validate_config(m, npu(f)), Severity::Note, "(model)", "unknown"));
}

// Differential: random maps of valid values for known keys never draw schema errors, and
// every key corrupted by one edit is either still known or suggested back.
TEST(DeviceValidator, GeneratedValidMapsAndTypos) {
  std::mt19937 rng(1234);
  for (Device d : kAllDevices) {
    const auto& keys = known_keys(d);
    for (int iter = 0; iter < 300; ++iter) {
      json m = json::object();
      for (const auto& k : keys) {
        if (rng() % 3 != 0) continue;
        switch (k.kind) {
          case ValueKind::Int:
            m[k.key] =
                k.min + static_cast<int64_t>(rng() % std::min<uint64_t>(64, k.max - k.min + 1));
            break;
          case ValueKind::Bool:
            m[k.key] = (rng() % 2) ? "YES" : "NO";
            break;
          case ValueKind::String:
            m[k.key] = "value" + std::to_string(rng() % 10);
            break;
          case ValueKind::Enum:
            m[k.key] = k.values[rng() % k.values.size()];
            break;
          case ValueKind::Object:
            m[k.key] = json::object();
            break;
        }
      }
      ValidateOptions o;
      o.device = d;
      for (const auto& f : validate_config(m, o)) {
        if (f.severity != Severity::Error) continue;
        // Only cross-field errors may fire on valid values.
        const bool cross = f.key == "NPUW_LLM_BATCH_DIM" || f.key == "NPUW_LLM_SEQ_LEN_DIM" ||
                           f.key == "NPU_USE_NPUW" || f.key == "NPUW_LLM" ||
                           f.key == "EXPORT_BLOB" || f.key == "NPUW_LLM_MAX_PROMPT_LEN" ||
                           f.key == "NPUW_LLM_MIN_RESPONSE_LEN";
        EXPECT_TRUE(cross) << to_string(d) << " " << f.key << ": " << f.message;
      }
    }
    for (const auto& k : keys) {
      if (k.key.size() < 8) continue;
      std::string typo = k.key;
      typo.erase(rng() % typo.size(), 1);
      if (find_key(d, typo)) continue;
      ValidateOptions o;
      o.device = d;
      const auto fs = validate_config({{typo, 1}}, o);
      ASSERT_FALSE(fs.empty());
      EXPECT_NE(fs[0].fix.find("did you mean"), std::string::npos) << typo << ": " << fs[0].fix;
    }
  }
}
