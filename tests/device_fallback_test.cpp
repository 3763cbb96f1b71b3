// The deployment-tier fallback chain, driven by fake backend factories.
#include <gtest/gtest.h>

#include "engine/device_fallback.h"

using namespace qwen3;
using namespace qwen3::engine;
using device::Device;
using device::ProfileLevel;

namespace {
struct FakeBackend {
  std::string served_by;
};
using Factory = std::function<std::unique_ptr<FakeBackend>(const DeploymentTier&)>;
}  // namespace

TEST(DeviceFallback, DefaultAutoChainOrder) {
  const auto chain = default_auto_chain(device::model_preset("8b"), 4);
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[0].name(), "NPU balanced");
  EXPECT_EQ(chain[1].name(), "NPU conservative");
  EXPECT_EQ(chain[2].name(), "GPU balanced");
  EXPECT_EQ(chain[3].name(), "CPU balanced");
  EXPECT_EQ(chain[0].properties["MAX_PROMPT_LEN"], 2048);
  EXPECT_EQ(chain[1].properties["MAX_PROMPT_LEN"], 1024);
  EXPECT_EQ(chain[3].properties["NUM_THREADS"], 3);
  for (const auto& t : chain) EXPECT_FALSE(device::has_errors(t.findings)) << t.name();
}

TEST(DeviceFallback, FirstWorkingTierServesAndFailuresAreRecorded) {
  std::vector<std::string> tried;
  Factory f = [&](const DeploymentTier& t) -> std::unique_ptr<FakeBackend> {
    tried.push_back(t.name());
    if (t.device == Device::NPU && t.level == ProfileLevel::Balanced)
      throw std::runtime_error("Failed to compile Model0_FCEW000__0");
    if (t.device == Device::NPU) return nullptr;
    if (t.device == Device::GPU) throw 42;  // not even a std::exception
    return std::make_unique<FakeBackend>(FakeBackend{t.name()});
  };
  auto sel = select_tier<FakeBackend>(default_auto_chain(), f);
  ASSERT_TRUE(sel.backend);
  EXPECT_EQ(sel.backend->served_by, "CPU balanced");
  EXPECT_EQ(sel.index, 3u);
  ASSERT_EQ(sel.failures.size(), 3u);
  EXPECT_EQ(sel.failures[0].reason, "Failed to compile Model0_FCEW000__0");
  EXPECT_EQ(sel.failures[1].reason, "the backend factory returned nothing");
  EXPECT_EQ(sel.failures[2].reason, "unknown exception");
  EXPECT_EQ(tried.size(), 4u);
  const std::string log = describe(sel.failures, &sel.tier);
  EXPECT_NE(log.find("NPU balanced: failed: Failed to compile"), std::string::npos);
  EXPECT_NE(log.find("CPU balanced: serving"), std::string::npos);
}

TEST(DeviceFallback, StopsAtTheFirstSuccess) {
  int calls = 0;
  Factory f = [&](const DeploymentTier& t) {
    ++calls;
    return std::make_unique<FakeBackend>(FakeBackend{t.name()});
  };
  auto sel = select_tier<FakeBackend>(default_auto_chain(), f);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sel.index, 0u);
  EXPECT_TRUE(sel.failures.empty());
}

TEST(DeviceFallback, AllFailingThrowsWithEveryReason) {
  Factory f = [](const DeploymentTier& t) -> std::unique_ptr<FakeBackend> {
    throw std::runtime_error("no " + std::string(device::to_string(t.device)));
  };
  try {
    select_tier<FakeBackend>(parse_chain("NPU:aggressive,CPU:conservative"), f);
    FAIL() << "expected NoTierAvailable";
  } catch (const NoTierAvailable& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    const std::string what = e.what();
    EXPECT_NE(what.find("NPU aggressive: no NPU"), std::string::npos) << what;
    EXPECT_NE(what.find("CPU conservative: no CPU"), std::string::npos) << what;
  }
  EXPECT_THROW(select_tier<FakeBackend>({}, f), NoTierAvailable);
}

TEST(DeviceFallback, TiersWithInvalidPropertiesAreSkippedUntried) {
  auto chain = parse_chain("NPU,CPU");
  chain[0].properties["NPUW_LLM_SEQ_LEN_DIM"] = 1;
  chain[0].findings.push_back({device::Severity::Error, "NPUW_LLM_SEQ_LEN_DIM", "bad axis", ""});
  std::vector<std::string> tried;
  Factory f = [&](const DeploymentTier& t) {
    tried.push_back(t.name());
    return std::make_unique<FakeBackend>(FakeBackend{t.name()});
  };
  auto sel = select_tier<FakeBackend>(chain, f);
  EXPECT_EQ(tried, std::vector<std::string>{"CPU balanced"});
  ASSERT_EQ(sel.failures.size(), 1u);
  EXPECT_NE(sel.failures[0].reason.find("invalid properties"), std::string::npos);
}

TEST(DeviceFallback, ParseChain) {
  const auto chain = parse_chain("npu:conservative,GPU:aggressive,CPU");
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].name(), "NPU conservative");
  EXPECT_EQ(chain[1].name(), "GPU aggressive");
  EXPECT_EQ(chain[2].name(), "CPU balanced");
  EXPECT_THROW(parse_chain("TPU"), std::invalid_argument);
  EXPECT_THROW(parse_chain("NPU:turbo"), std::invalid_argument);
  EXPECT_THROW(parse_chain(""), std::invalid_argument);
  EXPECT_THROW(parse_chain("NPU,,CPU"), std::invalid_argument);
}
