// --device on a build without OpenVINO, as a user meets it: AUTO serves on the CPU and
// says why each OpenVINO tier did not start (Pipeline::info, `qwen3 devices --json`, the
// server's log line and /v1/models meta); --device NPU fails with what to do about it.
// A tiny random-weight model from `qwen3 gen-model`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "engine/device_choice.h"
#include "qwen3/pipeline.h"
#include "serve_process.h"
#include "server_test_util.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

const char* kRebuild = "rebuild with -DQWEN3_WITH_OPENVINO=ON where OpenVINO GenAI is installed";

struct Cli {
  int status = -1;
  std::string out, err;
};

Cli run_cli(const std::string& args) {
  const std::string err_file =
      (fs::temp_directory_path() / ("qwen3_devchoice_err_" + std::to_string(::getpid()))).string();
  const std::string cmd = std::string(QWEN3_BIN) + " " + args + " 2>" + err_file;
  Cli r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  FILE* e = fopen(err_file.c_str(), "r");
  if (e) {
    while ((n = fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, n);
    fclose(e);
  }
  fs::remove(err_file);
  return r;
}

class DeviceChoice : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qwen3_device_choice_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = test::tiny_serve_model("test_models/device_tiny_f32_seed1.gguf");
    ASSERT_FALSE(model_.empty()) << "qwen3 gen-model failed";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
#ifdef QWEN3_HAVE_OPENVINO
    GTEST_SKIP() << "this build has OpenVINO: the no-OpenVINO messages do not apply";
#endif
    ASSERT_FALSE(engine::openvino_available());
  }

  static fs::path dir_;
  static std::string model_;
};
fs::path DeviceChoice::dir_;
std::string DeviceChoice::model_;

TEST_F(DeviceChoice, AutoServesOnCpuAndRecordsWhyEachTierFailed) {
  Pipeline pipe(model_, "AUTO", {{"n_ctx", "256"}});
  const PipelineInfo info = pipe.info();
  EXPECT_EQ(info.backend, "native");
  EXPECT_EQ(info.tier, "CPU");
  ASSERT_EQ(info.failed_tiers.size(), 3u);
  EXPECT_EQ(info.failed_tiers[0].tier, "NPU balanced");
  EXPECT_EQ(info.failed_tiers[1].tier, "NPU conservative");
  EXPECT_EQ(info.failed_tiers[2].tier, "GPU balanced");
  for (const auto& f : info.failed_tiers)
    EXPECT_NE(f.reason.find(kRebuild), std::string::npos) << f.tier << ": " << f.reason;
  EXPECT_EQ(info.handoff, "never");
}

TEST_F(DeviceChoice, ExplicitNpuFailsWithWhatToDo) {
  for (const char* dev : {"NPU", "gpu"}) {
    try {
      Pipeline pipe(model_, dev, {{"n_ctx", "256"}});
      ADD_FAILURE() << dev << " should not load without OpenVINO";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(kRebuild), std::string::npos) << what;
      EXPECT_NE(what.find("--device CPU"), std::string::npos) << what;
    }
  }
  // The front door says the same, on stderr with exit status 2.
  const Cli r = run_cli("run -m " + model_ + " --device NPU -p hi -n 2");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(kRebuild), std::string::npos) << r.err;
}

TEST_F(DeviceChoice, BadHandoffAndProfileValuesAreErrors) {
  EXPECT_THROW(Pipeline(model_, "CPU", {{"handoff", "sometimes"}}), std::invalid_argument);
  const Cli r = run_cli("run -m " + model_ + " --device AUTO --handoff sometimes -p hi");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("handoff"), std::string::npos) << r.err;
}

TEST_F(DeviceChoice, DevicesJsonShowsTheAutoChain) {
  const Cli r = run_cli("devices --json -m " + model_);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  const auto& a = j[2];
  EXPECT_EQ(a["backend"], "AUTO");
  EXPECT_EQ(a["chosen"], "CPU");
  ASSERT_EQ(a["tiers"].size(), 4u);
  EXPECT_EQ(a["tiers"][0]["tier"], "NPU balanced");
  EXPECT_EQ(a["tiers"][0]["status"], "fails");
  EXPECT_NE(a["tiers"][0]["reason"].get<std::string>().find(kRebuild), std::string::npos);
  EXPECT_EQ(a["tiers"][3]["tier"], "CPU");
  EXPECT_EQ(a["tiers"][3]["status"], "serves");
  const Cli text = run_cli("devices");
  EXPECT_NE(text.out.find("--device AUTO would serve on CPU"), std::string::npos) << text.out;
}

TEST_F(DeviceChoice, ServeAutoLogsTheChainAndModelsShowsIt) {
  server::ServerOptions o;
  o.model_path = model_;
  o.model_name = "tiny";
  o.port = 0;
  o.n_ctx = 256;
  o.device = "AUTO";
  ::testing::internal::CaptureStderr();
  std::string log;
  {
    test::RunningServer srv(o);
    auto res = srv.client().Get("/v1/models");
    log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    const auto meta = nlohmann::json::parse(res->body)["data"][0]["meta"];
    EXPECT_EQ(meta["tier"], "CPU");
    EXPECT_EQ(meta["device"], "CPU");
    ASSERT_EQ(meta["failed_tiers"].size(), 3u);
    EXPECT_EQ(meta["failed_tiers"][0]["tier"], "NPU balanced");
    EXPECT_NE(meta["failed_tiers"][2]["reason"].get<std::string>().find(kRebuild),
              std::string::npos);
  }
  EXPECT_NE(log.find("device AUTO: NPU balanced failed: this build has no OpenVINO"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("device AUTO: serving on CPU"), std::string::npos) << log;
}

TEST_F(DeviceChoice, AGgufIsNotAnOpenVinoExport) {
  const std::string why = engine::openvino_folder_problem(model_);
  EXPECT_NE(why.find("not an OpenVINO model folder"), std::string::npos) << why;
  EXPECT_NE(why.find("optimum-cli export openvino"), std::string::npos) << why;
  fs::create_directories(dir_ / "half_export");
  std::FILE* f = std::fopen((dir_ / "half_export" / "openvino_model.xml").c_str(), "w");
  ASSERT_TRUE(f);
  std::fclose(f);
  EXPECT_NE(
      engine::openvino_folder_problem((dir_ / "half_export").string()).find("openvino_model.bin"),
      std::string::npos);
}

}  // namespace
}  // namespace qwen3
