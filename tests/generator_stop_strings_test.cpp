// StopStringMatcher vs the obvious whole-string reference, over random texts, stop sets
// and delta splits.
#include "engine/stop_strings.h"

#include <gtest/gtest.h>

#include <random>

namespace qwen3::engine {
namespace {

// Reference: feed the text one byte at a time; the first stop string to appear wins, and
// the text before it is the result.
std::string reference(const std::string& text, const std::vector<std::string>& stops,
                      bool* stopped) {
  for (std::size_t end = 1; end <= text.size(); ++end) {
    std::size_t best = std::string::npos;
    for (const auto& s : stops)
      if (s.size() <= end && text.compare(end - s.size(), s.size(), s) == 0)
        best = std::min(best, end - s.size());
    if (best != std::string::npos) {
      *stopped = true;
      return text.substr(0, best);
    }
  }
  *stopped = false;
  return text;
}

TEST(StopStrings, MatchesReferenceOverRandomSplits) {
  std::mt19937_64 rng(11);
  const std::string alphabet = "ab c\n";
  auto rand_str = [&](std::size_t lo, std::size_t hi) {
    std::string s(lo + rng() % (hi - lo + 1), ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int trial = 0; trial < 5000; ++trial) {
    const std::string text = rand_str(0, 40);
    std::vector<std::string> stops;
    for (int i = 0, n = rng() % 4; i < n; ++i) stops.push_back(rand_str(1, 4));
    StopStringMatcher m(stops);
    std::string got;
    std::size_t pos = 0;
    while (pos < text.size() && !m.stopped()) {
      const std::size_t len = std::min<std::size_t>(text.size() - pos, rng() % 5);
      const std::string piece = m.push(std::string_view(text).substr(pos, len));
      // Nothing released may contain or end inside a stop string that later completes.
      got += piece;
      pos += len;
    }
    got += m.flush();
    bool stopped = false;
    const std::string want = reference(text, stops, &stopped);
    ASSERT_EQ(got, want) << "trial " << trial << " text '" << text << "'";
    ASSERT_EQ(m.stopped(), stopped) << "trial " << trial;
  }
}

TEST(StopStrings, HoldsBackAPossibleStartThenReleasesIt) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("hello ST"), "hello ");
  EXPECT_EQ(m.push("O"), "");
  EXPECT_EQ(m.push("RM"), "STORM");
  EXPECT_EQ(m.push(" and ST"), " and ");
  EXPECT_EQ(m.push("OP here"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "STOP");
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, NoStopsPassesThrough) {
  StopStringMatcher m({});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.flush(), "");
  EXPECT_FALSE(m.stopped());
}

TEST(StopStrings, Utf8StaysWhole) {
  StopStringMatcher m({"é!"});
  EXPECT_EQ(m.push("caf\xC3\xA9"), "caf");  // could be the start of "é!"
  EXPECT_EQ(m.push("."), "\xC3\xA9.");
}

}  // namespace
}  // namespace qwen3::engine
