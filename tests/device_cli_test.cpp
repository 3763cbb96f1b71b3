// `qwen3 device-config` and `qwen3 devices` through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_run.h"

namespace {

using CliResult = qwen3::test::CommandResult;

CliResult run(const std::string& args) {
  return qwen3::test::run_with_input(std::string(QWEN3_BIN) + " " + args, "",
                                     std::string(QWEN3_BUILD_DIR) + "/device_cli_test");
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/" + name;
  qwen3::test::write_file(path, text);
  return path;
}

}  // namespace

TEST(DeviceCli, BuildsTheNpuMapAsJson) {
  const CliResult r = run("device-config --device NPU --profile balanced --model-preset 8b");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["MAX_PROMPT_LEN"], 2048);
  EXPECT_EQ(j["MIN_RESPONSE_LEN"], 512);
  EXPECT_EQ(j["GENERATE_HINT"], "BEST_PERF");
  EXPECT_FALSE(j.contains("NPUW_LLM_SEQ_LEN_DIM"));
}

TEST(DeviceCli, OverridesAndErrorsGoToStderrWithExitOne) {
  CliResult r = run("device-config --device NPU --set MAX_PROMPT_LEN=3072 --set CACHE_DIR=/tmp/c");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["MAX_PROMPT_LEN"], 3072);
  r = run("device-config --device NPU --set NPUW_LLM_SEQ_LEN_DIM=1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["NPUW_LLM_SEQ_LEN_DIM"], 1);
  EXPECT_NE(r.err.find("error: NPUW_LLM_SEQ_LEN_DIM"), std::string::npos) << r.err;
}

TEST(DeviceCli, CpuAndGpuProfiles) {
  CliResult r =
      run("device-config --device CPU --profile aggressive --threads 4 --model-preset 0.6b");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["NUM_THREADS"], 4);
  EXPECT_EQ(j["KV_CACHE_PRECISION"], "f32");
  r = run("device-config --device gpu --profile conservative --explain");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["PERFORMANCE_HINT"], "LATENCY");
  EXPECT_NE(r.err.find("PERFORMANCE_HINT:"), std::string::npos);
}

TEST(DeviceCli, ValidatesTheOriginConfiguration) {
  const std::string path =
      write_file("device_cli_origin.json",
                 R"({"NPU_USE_NPUW": "YES", "NPUW_LLM": "YES", "NPUW_LLM_BATCH_DIM": 0,
          "NPUW_LLM_SEQ_LEN_DIM": 1, "NPUW_LLM_MAX_PROMPT_LEN": 2048,
          "NPUW_LLM_MIN_RESPONSE_LEN": 256, "NPU_LOW_MEMORY_MODE": "YES"})");
  CliResult r = run("device-config --validate " + path + " --device NPU --model-preset 8b");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("error: NPUW_LLM_SEQ_LEN_DIM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error: NPU_LOW_MEMORY_MODE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("note: NPUW_LLM:"), std::string::npos) << r.out;
  r = run("device-config --validate " + path + " --json");
  EXPECT_EQ(r.status, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["errors"], 2);
  bool seen = false;
  for (const auto& f : j["findings"])
    seen |= f.value("key", "") == "NPU_LOW_MEMORY_MODE" && f.value("severity", "") == "error" &&
            !f.value("fix", "").empty();
  EXPECT_TRUE(seen);
}

TEST(DeviceCli, ValidOrBuiltFilesPass) {
  const CliResult built = run("device-config --device NPU --profile aggressive --model-preset 14b");
  ASSERT_EQ(built.status, 0);
  const std::string path = write_file("device_cli_built.json", built.out);
  const CliResult r =
      run("device-config --validate " + path + " --profile aggressive --model-preset 14b");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("0 error(s), 0 warning(s)"), std::string::npos) << r.out;
}

TEST(DeviceCli, ModelAwareFlags) {
  const std::string path = write_file("device_cli_small.json", R"({"MAX_PROMPT_LEN": 1024})");
  CliResult r = run("device-config --validate " + path + " --model-preset 8b --quant int4-asym");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("symmetric"), std::string::npos) << r.out;
  r = run("device-config --validate " + path + " --model-preset 8b --group-size 128");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("channel-wise"), std::string::npos) << r.out;
}

TEST(DeviceCli, BadInputExitsTwo) {
  EXPECT_EQ(run("device-config --device TPU").status, 2);
  EXPECT_EQ(run("device-config --profile turbo").status, 2);
  EXPECT_EQ(run("device-config --model-preset 7b").status, 2);
  EXPECT_EQ(run("device-config --set NOEQUALS").status, 2);
  EXPECT_EQ(run("device-config --validate /nonexistent/file.json").status, 2);
  EXPECT_EQ(run("device-config -m /nonexistent/model.gguf").status, 2);
  EXPECT_EQ(run("device-config --model-preset 8b -m x.gguf").status, 2);
  EXPECT_EQ(run("device-config --quant int4-sym").status, 2);
  const std::string bad = write_file("device_cli_bad.json", "{\"MAX_PROMPT_LEN\": ");
  const CliResult r = run("device-config --validate " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  // A JSON file that is not an object is a finding, not a crash.
  const std::string arr = write_file("device_cli_array.json", "[1, 2]");
  EXPECT_EQ(run("device-config --validate " + arr).status, 1);
}

TEST(DeviceCli, DevicesListsCompiledBackends) {
  CliResult r = run("devices --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j.size(), 2u);
  EXPECT_EQ(j[0]["backend"], "native");
  EXPECT_EQ(j[0]["devices"][0]["device"], "CPU");
  EXPECT_GE(j[0]["devices"][0]["logical_cpus"].get<int>(), 1);
  EXPECT_EQ(j[1]["backend"], "openvino");
  r = run("devices");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("native: compiled in"), std::string::npos) << r.out;
}

TEST(DeviceCli, AutoPrintsTheFallbackChain) {
  const CliResult r = run("device-config --device AUTO --model-preset 8b --threads 4");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["device"], "NPU");
  EXPECT_EQ(j[0]["profile"], "balanced");
  EXPECT_EQ(j[1]["profile"], "conservative");
  EXPECT_EQ(j[2]["device"], "GPU");
  EXPECT_EQ(j[3]["device"], "CPU");
  EXPECT_EQ(j[3]["properties"]["NUM_THREADS"], 3);
  EXPECT_EQ(run("device-config --device AUTO --profile balanced").status, 2);
}
