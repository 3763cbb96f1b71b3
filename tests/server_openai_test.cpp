// The official `openai` npm client against the real server (tests/js/openai_client.mjs):
// replayed replies with reasoning and tool calls through an in-process server, and a
// random-weight tiny model through the `qwen3 serve` binary.

#include <cstdio>
#include <fstream>

#include "serve_process.h"
#include "server_test_util.h"

namespace qwen3::test {
namespace {

int run_node_client(const json& spec) {
  return run_js_client("openai_client.mjs", spec);
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

TEST(ServerOpenAiClient, TinyModelThroughTheServeCommand) {
  std::string model = tiny_serve_model("server_test_tiny.gguf");
  ASSERT_FALSE(model.empty()) << "qwen3 gen-model failed";
  ServeProcess serve({"serve", "-m", model, "--port", "0", "--parallel", "2", "-t", "1"},
                     "server_openai_test.serve.log");
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"mode", "model"}};
  EXPECT_EQ(run_node_client(spec), 0);
  EXPECT_EQ(serve.stop(), 0);  // SIGTERM: a clean shutdown
}

}  // namespace
}  // namespace qwen3::test
