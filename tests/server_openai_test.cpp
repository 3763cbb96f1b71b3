// The official `openai` npm client against the real server (tests/js/openai_client.mjs):
// replayed replies with reasoning and tool calls through an in-process server, and a
// random-weight tiny model through the `qwen3 serve` binary.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_node_client(const json& spec) {
  std::string cmd = "QWEN3_TOOLS_DIR=" + shell_quote(QWEN3_TOOLS_DIR) + " node " +
                    shell_quote(std::string(QWEN3_SOURCE_DIR) + "/tests/js/openai_client.mjs") +
                    " " + shell_quote(spec.dump());
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(ServerOpenAiClient, ReplayedReasoningAndContent) {
  RunningServer srv(replay_options(kReasoningReply));
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(srv.port()) + "/v1"},
               {"mode", "replay"},
               {"reasoning", "The user greets me. I answer briefly."},
               {"content", "Hello! Here is **bold** and `code`."}};
  EXPECT_EQ(run_node_client(spec), 0);
}

TEST(ServerOpenAiClient, ReplayedToolCalls) {
  RunningServer srv(replay_options(kToolReply));
  json spec = {
      {"base", "http://127.0.0.1:" + std::to_string(srv.port()) + "/v1"},
      {"mode", "tools"},
      {"tool", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}, {"unit", "celsius"}}}}}};
  EXPECT_EQ(run_node_client(spec), 0);
}

// `qwen3 serve` as users start it, on a tiny random-weight model.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    log_ = std::string(QWEN3_BUILD_DIR) + "/server_openai_test.serve.log";
    // A stale log from an earlier run would name an old port before the child rewrites it.
    std::remove(log_.c_str());
    pid_ = fork();
    if (pid_ == 0) {
      std::freopen(log_.c_str(), "w", stderr);
      std::vector<char*> argv;
      std::string bin = QWEN3_BIN;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    // The port is in the first log line: "listening on http://127.0.0.1:PORT".
    std::regex re("http://127\\.0\\.0\\.1:(\\d+)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      std::smatch m;
      std::string text = ss.str();
      if (std::regex_search(text, m, re))
        port_ = std::stoi(m[1]);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !stopped_) stop();
  }
  int stop() {
    stopped_ = true;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }
  bool wait_ready() {
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 1200; ++i) {
      auto r = c.Get("/health");
      if (r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool stopped_ = false;
  std::string log_;
};

std::string tiny_model() {
  std::string path = std::string(QWEN3_BUILD_DIR) + "/server_test_tiny.gguf";
  if (!std::ifstream(path)) {
    std::string cmd = std::string(QWEN3_BIN) + " gen-model --preset tiny --type f32 --tokenizer " +
                      tokenizer_path() + " --seed 1 -o " + path + ".tmp && mv " + path + ".tmp " +
                      path;
    if (std::system(cmd.c_str()) != 0) return {};
  }
  return path;
}

TEST(ServerOpenAiClient, TinyModelThroughTheServeCommand) {
  std::string model = tiny_model();
  ASSERT_FALSE(model.empty()) << "qwen3 gen-model failed";
  ServeProcess serve({"serve", "-m", model, "--port", "0", "--parallel", "2", "-t", "1"});
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"mode", "model"}};
  EXPECT_EQ(run_node_client(spec), 0);
  EXPECT_EQ(serve.stop(), 0);  // SIGTERM: a clean shutdown
}

}  // namespace
}  // namespace qwen3::test
