// Structured output against `qwen3 serve` on a tiny random-weight model with the official
// `openai` client (tests/js/structured_client.mjs): beta.chat.completions.parse with zod,
// response_format json_schema over generated schemas validated by ajv + ajv-formats,
// tool_choice required / named over generated tool sets, a 400 for a bad schema.
// QWEN3_STRUCTURED_SCHEMAS / QWEN3_STRUCTURED_TOOLS raise the counts (the full suite: 200).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
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

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

// `qwen3 serve` as users start it, on a tiny random-weight model.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    log_ = std::string(QWEN3_BUILD_DIR) + "/structured_output_server_test.serve.log";
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
  std::string path = std::string(QWEN3_BUILD_DIR) + "/structured_output_tiny.gguf";
  if (!std::ifstream(path)) {
    std::string cmd = std::string(QWEN3_BIN) + " gen-model --preset tiny --type f32 --tokenizer " +
                      tokenizer_path() + " --seed 1 -o " + path + ".tmp && mv " + path + ".tmp " +
                      path;
    if (std::system(cmd.c_str()) != 0) return {};
  }
  return path;
}

TEST(StructuredOutputServer, OpenAiClientParseSchemasAndTools) {
  std::string model = tiny_model();
  ASSERT_FALSE(model.empty()) << "qwen3 gen-model failed";
  ServeProcess serve({"serve", "-m", model, "--port", "0", "--parallel", "2", "-t", "1"});
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"schemas", env_int("QWEN3_STRUCTURED_SCHEMAS", 16)},
               {"tools", env_int("QWEN3_STRUCTURED_TOOLS", 8)}};
  std::string cmd = "QWEN3_TOOLS_DIR=" + shell_quote(QWEN3_TOOLS_DIR) + " node " +
                    shell_quote(std::string(QWEN3_SOURCE_DIR) + "/tests/js/structured_client.mjs") +
                    " " + shell_quote(spec.dump());
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, 0);
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace qwen3::test
