// Runs the reference (@huggingface/tokenizers via tools/tokenizer_live.mjs) on freshly
// generated strings, a new seed each run (printed, so a failure can be replayed with
// QWEN3_TOKENIZER_SEED=<seed>). Skipped when node is not installed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli_run.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

constexpr auto& run = test::run_capture;

TEST(TokenizerLive, MatchesReferenceOnFreshRandomStrings) {
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "node not found";
  long seed =
      static_cast<long>(std::chrono::system_clock::now().time_since_epoch().count() % 2147483647);
  if (const char* s = std::getenv("QWEN3_TOKENIZER_SEED")) seed = std::atol(s);
  const std::string out = run("node " + std::string(QWEN3_TOOLS_DIR) + "/tokenizer_live.mjs " +
                              std::to_string(seed) + " 400");
  ASSERT_FALSE(out.empty()) << "the reference script printed nothing";
  const auto j = nlohmann::json::parse(out);
  const Tokenizer& tok = test::qwen3_tokenizer();
  int failures = 0;
  for (const auto& c : j.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const auto ref = c.at("ids").get<std::vector<int32_t>>();
    const auto ref_plain = c.at("ids_no_special").get<std::vector<int32_t>>();
    const auto ids = tok.encode(text);
    const auto ids_plain = tok.encode(text, false);
    if ((ids != ref || ids_plain != ref_plain) && ++failures <= 10) {
      ADD_FAILURE() << "seed " << seed << " text \"" << test::escape(text) << "\"\n  ours "
                    << test::ids_str(ids) << " / " << test::ids_str(ids_plain) << "\n  ref  "
                    << test::ids_str(ref) << " / " << test::ids_str(ref_plain);
    }
  }
  EXPECT_EQ(j.at("cases").size(), 400u);
  EXPECT_EQ(failures, 0) << "seed " << seed;
  std::printf("checked %zu fresh strings, seed %ld\n", j.at("cases").size(), seed);
}

}  // namespace
}  // namespace qwen3
