// The configuration builder: profiles, fitting to the model, overrides, and the rule
// that its output always passes its own validator.
#include <gtest/gtest.h>

#include "device/config_builder.h"
#include "device/config_validator.h"
#include "device/profiles.h"
#include "device/property_schema.h"

using namespace qwen3::device;
using nlohmann::json;

TEST(DeviceBuilder, EveryProfileHasARationaleForEveryValue) {
  for (Device d : kAllDevices)
    for (ProfileLevel l : kAllProfileLevels) {
      const Profile p = make_profile(d, l, 8);
      ASSERT_FALSE(p.settings.empty());
      for (const auto& s : p.settings) {
        EXPECT_FALSE(s.rationale.empty()) << s.key;
        EXPECT_NE(find_key(d, s.key), nullptr) << to_string(d) << " emits unknown " << s.key;
      }
      EXPECT_FALSE(p.budget_rationale.empty());
    }
}

TEST(DeviceBuilder, OutputPassesItsOwnValidatorForEveryDeviceProfileAndModel) {
  std::vector<std::optional<ModelFacts>> models = {std::nullopt};
  for (const auto& n : model_preset_names()) models.push_back(model_preset(n));
  for (Device d : kAllDevices)
    for (ProfileLevel l : kAllProfileLevels)
      for (const auto& m : models)
        for (int threads : {1, 2, 16}) {
          BuildRequest req;
          req.device = d;
          req.level = l;
          req.model = m;
          req.hardware_threads = threads;
          const BuildResult r = build_config(req);
          const std::string what = std::string(to_string(d)) + " " + std::string(to_string(l)) +
                                   " " + (m ? m->name : "no model");
          EXPECT_EQ(count(r.findings, Severity::Error), 0u) << what << format_findings(r.findings);
          EXPECT_EQ(count(r.findings, Severity::Warning), 0u)
              << what << format_findings(r.findings);
          // Independently re-validated with the profile's budget: still clean.
          ValidateOptions vo;
          vo.device = d;
          vo.model = m;
          const Profile p = make_profile(d, l, threads);
          if (p.kv_budget_bytes) vo.kv_budget_bytes = p.kv_budget_bytes;
          vo.hardware_threads = threads;
          EXPECT_FALSE(has_errors(validate_config(r.properties, vo))) << what;
        }
}

TEST(DeviceBuilder, Npu8bBalancedIsTheDocumentedConfiguration) {
  BuildRequest req;
  req.device = Device::NPU;
  req.level = ProfileLevel::Balanced;
  req.model = model_preset("8b");
  const json expected = {{"MAX_PROMPT_LEN", 2048},
                         {"MIN_RESPONSE_LEN", 512},
                         {"GENERATE_HINT", "BEST_PERF"},
                         {"PREFILL_HINT", "DYNAMIC"},
                         {"NPUW_LLM_PREFILL_CHUNK_SIZE", 512},
                         {"CACHE_DIR", ".npucache"},
                         {"CACHE_MODE", "OPTIMIZE_SPEED"}};
  EXPECT_EQ(build_config(req).properties, expected);
}

TEST(DeviceBuilder, FitsTheModelContextAndBudget) {
  ModelFacts small = model_preset("0.6b");
  small.n_ctx_train = 1000;  // tighter than every NPU profile
  BuildRequest req;
  req.device = Device::NPU;
  req.level = ProfileLevel::Aggressive;
  req.model = small;
  BuildResult r = build_config(req);
  const int64_t total = r.properties["MAX_PROMPT_LEN"].get<int64_t>() +
                        r.properties["MIN_RESPONSE_LEN"].get<int64_t>();
  EXPECT_LE(total, 1000);
  EXPECT_GT(total, 500);
  EXPECT_LT(r.properties["NPUW_LLM_PREFILL_CHUNK_SIZE"].get<int64_t>(),
            r.properties["MAX_PROMPT_LEN"].get<int64_t>());
  EXPECT_FALSE(has_errors(r.findings)) << format_findings(r.findings);
  EXPECT_EQ(count(r.findings, Severity::Warning), 0u) << format_findings(r.findings);

  // A model with a huge KV cache per token is fitted to the profile's memory budget.
  ModelFacts fat = model_preset("32b");
  fat.n_kv_heads = 64;  // 2 MiB of f16 KV per token
  req.level = ProfileLevel::Conservative;
  req.model = fat;
  r = build_config(req);
  const uint64_t tokens = r.properties["MAX_PROMPT_LEN"].get<uint64_t>() +
                          r.properties["MIN_RESPONSE_LEN"].get<uint64_t>();
  EXPECT_LE(tokens * fat.kv_bytes_per_token(2),
            npu_profile(ProfileLevel::Conservative).kv_budget_bytes);
  EXPECT_EQ(count(r.findings, Severity::Warning), 0u) << format_findings(r.findings);

  // CPU aggressive keeps f32 KV and cuts the context to the 8 GiB budget for 8B.
  req.device = Device::CPU;
  req.level = ProfileLevel::Aggressive;
  req.model = model_preset("8b");
  r = build_config(req);
  const int64_t ctx = r.properties["CONTEXT_LENGTH"].get<int64_t>();
  EXPECT_LT(ctx, 32768);
  EXPECT_LE(static_cast<uint64_t>(ctx) * model_preset("8b").kv_bytes_per_token(4), 8192ull << 20);
  EXPECT_EQ(ctx % 256, 0);
}

TEST(DeviceBuilder, CpuThreadsFollowTheHost) {
  BuildRequest req;
  req.device = Device::CPU;
  req.hardware_threads = 8;
  for (auto [level, want] :
       {std::pair{ProfileLevel::Conservative, 4}, std::pair{ProfileLevel::Balanced, 7},
        std::pair{ProfileLevel::Aggressive, 8}}) {
    req.level = level;
    EXPECT_EQ(build_config(req).properties["NUM_THREADS"], want);
  }
  req.hardware_threads = 1;
  for (ProfileLevel l : kAllProfileLevels) {
    req.level = l;
    EXPECT_EQ(build_config(req).properties["NUM_THREADS"], 1);
  }
}

TEST(DeviceBuilder, OverridesAreTypedAndValidated) {
  EXPECT_EQ(parse_override("A=B=C"), (std::pair<std::string, std::string>{"A", "B=C"}));
  EXPECT_THROW(parse_override("NOEQUALS"), std::invalid_argument);
  EXPECT_THROW(parse_override("=1"), std::invalid_argument);
  EXPECT_EQ(override_value(Device::NPU, "MAX_PROMPT_LEN", "4096"), json(4096));
  EXPECT_EQ(override_value(Device::NPU, "CACHE_DIR", "123"), json("123"));
  EXPECT_EQ(override_value(Device::NPU, "PREFILL_CONFIG", "{\"A\":1}"), json({{"A", 1}}));
  EXPECT_EQ(override_value(Device::NPU, "UNKNOWN_KEY", "7"), json(7));

  BuildRequest req;
  req.device = Device::NPU;
  req.model = model_preset("8b");
  req.overrides = {{"MAX_PROMPT_LEN", "3072"}, {"GENERATE_HINT", "FAST_COMPILE"}};
  BuildResult r = build_config(req);
  EXPECT_EQ(r.properties["MAX_PROMPT_LEN"], 3072);
  EXPECT_EQ(r.properties["GENERATE_HINT"], "FAST_COMPILE");
  EXPECT_FALSE(has_errors(r.findings));
  req.overrides = {{"NPUW_LLM_SEQ_LEN_DIM", "1"}, {"NPU_LOW_MEMORY_MODE", "YES"}};
  r = build_config(req);
  EXPECT_EQ(count(r.findings, Severity::Error), 2u) << format_findings(r.findings);
  req.overrides = {{"MAX_PROMPT_LEN", "100000"}};
  EXPECT_TRUE(has_errors(build_config(req).findings));
}
