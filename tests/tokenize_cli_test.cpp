// `qwen3 tokenize` and `qwen3 detokenize` as a user runs them (the binary, via QWEN3_BIN).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"

namespace {

using Result = qwen3::test::CommandResult;

std::string tmp_path(const std::string& name) {
  return std::string(QWEN3_BUILD_DIR) + "/tokenize_cli_test_" + name;
}

void write(const std::string& path, const std::string& text) {
  qwen3::test::write_file(path, text);
}

// Runs `qwen3 <args>` with stdin from `input`.
Result qwen3(const std::string& args, const std::string& input = "") {
  return qwen3::test::run_with_input(std::string("'") + QWEN3_BIN + "' " + args, input,
                                     tmp_path("run"));
}

const std::string kModel = std::string("-m '") + QWEN3_TOKENIZER_DIR + "'";

TEST(TokenizeCli, TextToIds) {
  const Result r = qwen3("tokenize " + kModel + " --text 'Hello world'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[9707,1879]\n");
}

TEST(TokenizeCli, StdinAndSpecialTokens) {
  Result r = qwen3("tokenize " + kModel, "<|im_start|>user");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[151644,872]\n");
  r = qwen3("tokenize " + kModel + " --no-special", "<|im_start|>");
  EXPECT_EQ(r.status, 0) << r.err;
  const auto ids = nlohmann::json::parse(r.out).get<std::vector<int>>();
  EXPECT_GT(ids.size(), 1u);
  for (int id : ids) EXPECT_LT(id, 151643);
}

TEST(TokenizeCli, TokenizerJsonPathWorksToo) {
  const Result r =
      qwen3(std::string("tokenize -m '") + QWEN3_TOKENIZER_DIR + "/tokenizer.json' --text hi");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[6023]\n");
}

TEST(TokenizeCli, Batch) {
  const std::string f = tmp_path("batch.json");
  write(f, R"(["Hello world", "", "<think>"])");
  const Result r = qwen3("tokenize " + kModel + " --batch '" + f + "'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[[9707,1879],[],[151667]]\n");
}

TEST(TokenizeCli, DetokenizeRoundTrip) {
  Result r = qwen3("detokenize " + kModel + " --ids 9707,1879,151645");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello world<|im_end|>");
  r = qwen3("detokenize " + kModel + " --ids '9707, 1879, 151645' --skip-special");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello world");
}

TEST(TokenizeCli, BadInputIsExitTwoWithOneLineError) {
  const std::string bad_json = tmp_path("bad.json"), wrong_shape = tmp_path("shape.json");
  write(bad_json, "[\"unterminated");
  write(wrong_shape, R"({"texts": ["a"]})");
  const std::string numbers = tmp_path("numbers.json");
  write(numbers, R"(["a", 3])");
  const std::vector<std::string> cases = {
      "tokenize -m /nonexistent/model --text hi",
      "tokenize " + kModel + " --batch /nonexistent/batch.json",
      "tokenize " + kModel + " --batch '" + bad_json + "'",
      "tokenize " + kModel + " --batch '" + wrong_shape + "'",
      "tokenize " + kModel + " --batch '" + numbers + "'",
      "tokenize -m '" + bad_json + "' --text hi",
      "detokenize " + kModel + " --ids 1,x,3",
      "detokenize " + kModel + " --ids 1,,3",
      "detokenize " + kModel + " --ids 99999999",
      "detokenize " + kModel + " --ids -5",
  };
  for (const auto& c : cases) {
    const Result r = qwen3(c);
    EXPECT_EQ(r.status, 2) << c;
    EXPECT_FALSE(r.err.empty()) << c;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << c << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c;
  }
  // Argument errors come from CLI11 (message plus a --help hint).
  const Result r = qwen3("tokenize --text hi");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;
}

}  // namespace
