// The streaming detokenizer: every piece is whole UTF-8, and the pieces joined equal
// decode() of all ids, for real tokenizations and for random id sequences.
#include <gtest/gtest.h>

#include <random>

#include "text/utf8.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip = false) {
  IncrementalDecoder dec(tok, skip);
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = dec.push(id);
    EXPECT_TRUE(utf8::is_valid(piece));
    all += piece;
  }
  const std::string rest = dec.flush();
  EXPECT_TRUE(utf8::is_valid(rest));
  return all + rest;
}

TEST(IncrementalDecoder, HoldsPartialSequences) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::string text = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xE4\xB8\xAD";
  const auto ids = tok.encode(text);
  IncrementalDecoder dec(tok);
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = dec.push(id);
    ASSERT_TRUE(utf8::is_valid(piece));
    all += piece;
  }
  EXPECT_EQ(dec.flush(), "");
  EXPECT_EQ(all, text);
}

TEST(IncrementalDecoder, FlushTurnsLeftoversIntoReplacement) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto f0 = tok.token_id("\xF0"), x9f = tok.token_id("\x9F");
  ASSERT_TRUE(f0 && x9f);
  IncrementalDecoder dec(tok);
  EXPECT_EQ(dec.push(*f0), "");
  EXPECT_EQ(dec.push(*x9f), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.flush(), "");
  EXPECT_EQ(dec.push(*f0), "");
  EXPECT_EQ(dec.push(*tok.token_id("a")),
            "\xEF\xBF\xBD"
            "a");  // broken sequence, then text
}

TEST(IncrementalDecoder, EqualsDecodeOnRealText) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const char* texts[] = {"Hello, 世界! 👩🏽‍💻 ok",
                         "<|im_start|>assistant\n<think>\nhm</think>", "Привет мир 🇺🇸🇯🇵 नमस्ते",
                         "e\xCC\x81\xCC\x82 x"};
  for (const char* t : texts) {
    const auto ids = tok.encode(t);
    EXPECT_EQ(stream(tok, ids), tok.decode(ids)) << t;
    EXPECT_EQ(stream(tok, ids, true), tok.decode(ids, true)) << t;
  }
}

TEST(IncrementalDecoder, EqualsDecodeOnRandomIds) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  // Byte tokens (mostly partial UTF-8) mixed with ordinary and special tokens.
  std::vector<int32_t> pool;
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    if (auto id = tok.token_id(s)) pool.push_back(*id);
  }
  ASSERT_EQ(pool.size(), 256u);
  std::mt19937 gen(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<int32_t> ids;
    const int n = static_cast<int>(gen() % 12);
    for (int i = 0; i < n; ++i) {
      const unsigned k = gen() % 10;
      ids.push_back(k < 6   ? pool[gen() % pool.size()]
                    : k < 9 ? static_cast<int32_t>(gen() % 151643)
                            : static_cast<int32_t>(151643 + gen() % 26));
    }
    ASSERT_EQ(stream(tok, ids), tok.decode(ids)) << test::ids_str(ids);
  }
}

}  // namespace
}  // namespace qwen3
