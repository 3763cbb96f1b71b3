// The OpenVINO path driven by the test-only fake OpenVINO backend (prompt cap, busy flag,
// failure injection): the AUTO chain and its reasons, and the live NPU -> CPU hand-off
// under both triggers, checked token for token against the CPU engine alone given the
// same history. The CPU engine is a tiny random-weight model from `qwen3 gen-model`; the
// fake reads its tokenizer from the same GGUF.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "engine/fake_openvino_backend.h"
#include "qwen3/pipeline.h"
#include "serve_process.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

const char* kDeviceReply = "Hi from the NPU.<|im_end|>";

class DeviceHandoff : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qwen3_device_handoff_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = test::tiny_serve_model("test_models/device_tiny_f32_seed1.gguf");
    ASSERT_FALSE(model_.empty()) << "qwen3 gen-model failed";
    engine::register_fake_openvino_backend();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { engine::fake_openvino_set_busy(false); }
  void TearDown() override { engine::fake_openvino_set_busy(false); }

  // An NPU pipeline on the fake with a prompt cap, handing off to the same model on the CPU.
  static Pipeline npu(const std::string& handoff, std::size_t cap, Properties extra = {}) {
    Properties p = {{"n_ctx", "512"},
                    {"kv_type", "f32"},
                    {"fake_reply", kDeviceReply},
                    {"fake_max_prompt_len", std::to_string(cap)},
                    {"handoff", handoff},
                    {"cpu_model", model_}};
    for (const auto& kv : extra) p[kv.first] = kv.second;
    return Pipeline(model_, "NPU", p);
  }
  static Pipeline cpu() { return Pipeline(model_, "CPU", {{"n_ctx", "512"}, {"kv_type", "f32"}}); }

  static GenerationConfig config() {
    GenerationConfig c;
    c.max_new_tokens = 12;
    c.min_reply_tokens = 12;
    c.seed = 7;  // sampled, not greedy: the sampler state must match too
    c.enable_thinking = false;
    c.ignore_eos = true;  // a random model may end at once; the length is what we compare
    return c;
  }

  static fs::path dir_;
  static std::string model_;
};
fs::path DeviceHandoff::dir_;
std::string DeviceHandoff::model_;

TEST_F(DeviceHandoff, AutoChainRecordsEachTiersReason) {
  {
    // NPU balanced does not compile, NPU conservative finds no driver: the GPU tier serves.
    Pipeline p(model_, "AUTO",
               {{"n_ctx", "512"}, {"fake_fail", "NPU:balanced=compile,NPU:conservative=driver"}});
    const PipelineInfo info = p.info();
    EXPECT_EQ(info.backend, "fake-openvino");
    EXPECT_EQ(info.device, "GPU");
    EXPECT_EQ(info.tier, "GPU balanced");
    ASSERT_EQ(info.failed_tiers.size(), 2u);
    EXPECT_EQ(info.failed_tiers[0].tier, "NPU balanced");
    EXPECT_NE(info.failed_tiers[0].reason.find("compile failed on NPU: "), std::string::npos);
    EXPECT_NE(info.failed_tiers[0].reason.find("try --profile conservative"), std::string::npos)
        << info.failed_tiers[0].reason;
    EXPECT_EQ(info.failed_tiers[1].tier, "NPU conservative");
    EXPECT_NE(info.failed_tiers[1].reason.find("NPU driver not found"), std::string::npos)
        << info.failed_tiers[1].reason;
  }
  {
    // Every OpenVINO tier fails: the native CPU engine serves, with three reasons.
    Pipeline p(model_, "AUTO", {{"n_ctx", "512"}, {"fake_fail", "NPU,GPU=driver"}});
    const PipelineInfo info = p.info();
    EXPECT_EQ(info.backend, "native");
    EXPECT_EQ(info.tier, "CPU");
    ASSERT_EQ(info.failed_tiers.size(), 3u);
    EXPECT_NE(info.failed_tiers[2].reason.find("no GPU visible to OpenVINO"), std::string::npos);
  }
  {
    // Nothing fails: the first tier serves with the model's NPU profile.
    Pipeline p(model_, "AUTO", {{"n_ctx", "512"}});
    EXPECT_EQ(p.info().tier, "NPU balanced");
    EXPECT_TRUE(p.info().failed_tiers.empty());
  }
}

TEST_F(DeviceHandoff, OverflowContinuesTokenExactOnTheCpu) {
  Pipeline p = npu("overflow", 48);
  EXPECT_EQ(p.info().handoff, "overflow");
  EXPECT_EQ(p.info().max_prompt_tokens, 48u);
  p.start_chat("You are terse.");
  const DecodedResult r1 = p.generate("Hi!", config());
  EXPECT_EQ(r1.device, "NPU");
  EXPECT_EQ(r1.handoff, "");
  EXPECT_EQ(r1.text, "Hi from the NPU.");
  ASSERT_LE(r1.prompt_tokens, 48u);

  // The second turn makes the conversation longer than the NPU's cap.
  const std::string long_msg =
      "Tell me everything about the history of the printing press, the people who built it, "
      "and how it changed the way books were made across Europe.";
  const DecodedResult r2 = p.generate(long_msg, config());
  ASSERT_GT(r2.prompt_tokens, 48u);
  EXPECT_EQ(r2.device, "CPU");
  EXPECT_EQ(r2.handoff.rfind("overflow: the conversation has ", 0), 0u) << r2.handoff;
  EXPECT_EQ(r2.cached_tokens, 0u);  // the CPU engine's cache was filled from the history
  EXPECT_EQ(r2.tokens.size(), 12u);

  // The CPU engine alone, given that history, produces exactly the same tokens.
  ChatHistory h;
  h.push_back(ChatMessage::system("You are terse."));
  h.push_back(ChatMessage::user("Hi!"));
  h.push_back(ChatMessage::assistant(r1.text, r1.reasoning));
  h.push_back(ChatMessage::user(long_msg));
  Pipeline alone = cpu();
  const DecodedResult ref = alone.generate(h, config());
  EXPECT_EQ(ref.prompt_tokens, r2.prompt_tokens);
  EXPECT_EQ(ref.tokens, r2.tokens);
  EXPECT_EQ(ref.text, r2.text);

  // A third turn stays on the CPU and reuses its cache there.
  const DecodedResult r3 = p.generate("Shorter, please.", config());
  EXPECT_EQ(r3.device, "CPU");
  EXPECT_GT(r3.cached_tokens, 0u);  // up to where the template drops the empty think block
  h.push_back(ChatMessage::assistant(r2.text, r2.reasoning));
  h.push_back(ChatMessage::user("Shorter, please."));
  EXPECT_EQ(alone.generate(h, config()).tokens, r3.tokens);

  // A conversation that fits again goes back to the device.
  ChatHistory small;
  small.push_back(ChatMessage::user("Hi!"));
  const DecodedResult back = p.generate(small, config());
  EXPECT_EQ(back.device, "NPU");
  EXPECT_EQ(back.text, "Hi from the NPU.");
}

TEST_F(DeviceHandoff, BusyDeviceHandsOffUnderLoadOnly) {
  ChatHistory h;
  h.push_back(ChatMessage::user("What is two plus two?"));
  engine::fake_openvino_set_busy(true);
  {
    Pipeline p = npu("load", 256);
    const DecodedResult r = p.generate(h, config());
    EXPECT_EQ(r.device, "CPU");
    EXPECT_EQ(r.handoff, "load: the NPU is busy with another conversation");
    Pipeline alone = cpu();
    EXPECT_EQ(alone.generate(h, config()).tokens, r.tokens);
  }
  {
    // "overflow" only moves what does not fit: a busy device still serves.
    Pipeline p = npu("overflow", 256);
    const DecodedResult r = p.generate(h, config());
    EXPECT_EQ(r.device, "NPU");
    EXPECT_EQ(r.text, "Hi from the NPU.");
  }
  engine::fake_openvino_set_busy(false);
  Pipeline p = npu("load", 256);
  EXPECT_EQ(p.generate(h, config()).device, "NPU");
}

TEST_F(DeviceHandoff, WithoutHandoffAnOverflowSaysWhatToDo) {
  Pipeline p(model_, "NPU", {{"n_ctx", "512"}, {"fake_max_prompt_len", "8"}});
  EXPECT_EQ(p.info().handoff, "never");
  try {
    p.generate("A message much longer than eight tokens, surely.", config());
    FAIL() << "an overflow without hand-off must fail";
  } catch (const std::length_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("MAX_PROMPT_LEN of 8"), std::string::npos) << what;
    EXPECT_NE(what.find("--handoff overflow --cpu-model"), std::string::npos) << what;
  }
  // A hand-off needs a CPU copy of the model.
  EXPECT_THROW(Pipeline(model_, "NPU", {{"handoff", "overflow"}}), std::invalid_argument);
}

TEST_F(DeviceHandoff, DeviceErrorBeforeTheFirstTokenFallsBackToTheCpu) {
  Pipeline p = npu("overflow", 256, {{"fake_fail_generate", "1"}});
  ChatHistory h;
  h.push_back(ChatMessage::user("Hello?"));
  const DecodedResult r = p.generate(h, config());
  EXPECT_EQ(r.device, "CPU");
  EXPECT_EQ(r.handoff, "device error: fake openvino: inference request failed");
  Pipeline alone = cpu();
  EXPECT_EQ(alone.generate(h, config()).tokens, r.tokens);
}

// The front door: `qwen3 run` with the fake, AUTO's reasons and the hand-off on stderr.
TEST_F(DeviceHandoff, RunCommandReportsTiersAndHandoff) {
  const std::string err = (dir_ / "run.err").string();
  const std::string base = std::string(QWEN3_BIN) + " run -m " + model_ +
                           " --fake-openvino --fake-reply 'Hi from the NPU.<|im_end|>' -c 512 "
                           "-n 16 --no-think -p 'Tell me a long story about ships and the sea.'";
  auto run = [&](const std::string& args, std::string& out) {
    out.clear();
    FILE* f = popen((base + " " + args + " 2>" + err).c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const int st = pclose(f);
    std::string e;
    FILE* g = fopen(err.c_str(), "r");
    while (g && (n = fread(buf, 1, sizeof buf, g)) > 0) e.append(buf, n);
    if (g) fclose(g);
    out += "\n--stderr--\n" + e;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  std::string out;
  ASSERT_EQ(run("--device AUTO --fake-fail NPU", out), 0) << out;
  EXPECT_NE(out.find("device: NPU balanced failed: compile failed on NPU"), std::string::npos)
      << out;
  EXPECT_NE(out.find("device: GPU balanced serving (backend fake-openvino)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Hi from the NPU."), std::string::npos) << out;

  ASSERT_EQ(
      run("--device NPU --fake-max-prompt-len 8 --handoff overflow --cpu-model " + model_, out), 0)
      << out;
  EXPECT_NE(out.find("[handed off to the CPU engine: overflow"), std::string::npos) << out;
  EXPECT_EQ(out.find("Hi from the NPU."), std::string::npos) << out;
}

TEST_F(DeviceHandoff, BenchRunsOnTheDevice) {
  const std::string cmd = std::string(QWEN3_BIN) + " bench -m " + model_ +
                          " --device NPU --fake-openvino -p 16 -n 3 -r 1 --json 2>/dev/null";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(f), 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["device"], "NPU");
  EXPECT_EQ(j["backend"], "fake-openvino");
  EXPECT_EQ(j["tier"], "NPU balanced");
  for (const char* k : {"prefill_tps", "decode_tps", "ttft_ms", "load_ms", "peak_rss_mb"})
    EXPECT_TRUE(j.contains(k)) << k;
}

}  // namespace
}  // namespace qwen3
