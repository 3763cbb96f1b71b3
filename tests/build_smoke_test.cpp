// Checks the build wiring itself: the CLI binary exists and answers --help.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gguf/ggml_types.h"

TEST(BuildSmoke, CliAnswersHelp) {
  std::string cmd = std::string(QWEN3_BIN) + " --help > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(BuildSmoke, GgmlTypeTableMatchesGgml) {
  EXPECT_EQ(qwen3::ggml_type_info(qwen3::GgmlType::Q4_K).type_size, 144u);
  EXPECT_EQ(qwen3::ggml_type_info(qwen3::GgmlType::Q6_K).type_size, 210u);
  EXPECT_EQ(qwen3::ggml_row_size(qwen3::GgmlType::Q8_0, 64), 68u);
  EXPECT_FALSE(qwen3::ggml_type_info(4u).has_value());  // removed Q4_2
  EXPECT_EQ(*qwen3::ggml_type_from_name("q5_k"), qwen3::GgmlType::Q5_K);
}
