// The short version of the loopback load test (bench/load_test.sh --short): 8 concurrent
// streaming clients for 5 s against `qwen3 serve` on a tiny model, then 100 sequential
// requests; every request completes with a well-formed stream or a clean 503, nothing
// hangs, RSS stays flat. The full run (32 clients, 60 s, 1,000 requests) is the same
// script without --short.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

TEST(ServerLoad, ShortLoopbackRun) {
  std::string cmd = "bash '" + std::string(QWEN3_SOURCE_DIR) + "/bench/load_test.sh' '" +
                    std::string(QWEN3_BUILD_DIR) + "' --short";
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 0);
}
