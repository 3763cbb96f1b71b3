// Ids equal to @huggingface/tokenizers on the committed corpus
// (tests/golden/tokenizer_corpus.json, made by tools/gen_tokenizer_goldens.mjs).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "text/unicode.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
  bool has_no_special = false;
  std::vector<int32_t> ids_no_special;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::ifstream in(std::string(QWEN3_SOURCE_DIR) + "/tests/golden/tokenizer_corpus.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto j = nlohmann::json::parse(ss.str());
    std::vector<Case> v;
    for (const auto& c : j.at("cases")) {
      Case k;
      k.text = c.at("text").get<std::string>();
      k.ids = c.at("ids").get<std::vector<int32_t>>();
      if (c.contains("ids_no_special")) {
        k.has_no_special = true;
        k.ids_no_special = c["ids_no_special"].get<std::vector<int32_t>>();
      }
      v.push_back(std::move(k));
    }
    return v;
  }();
  return all;
}

TEST(TokenizerGolden, CorpusIsLargeEnough) {
  EXPECT_GE(cases().size(), 2000u);
}

TEST(TokenizerGolden, IdsMatchReference) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  int failures = 0;
  for (const Case& c : cases()) {
    const auto ids = tok.encode(c.text);
    if (ids != c.ids && ++failures <= 20) {
      ADD_FAILURE() << "text \"" << test::escape(c.text) << "\"\n  ours " << test::ids_str(ids)
                    << "\n  ref  " << test::ids_str(c.ids);
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases().size();
}

TEST(TokenizerGolden, IdsMatchReferenceWithSpecialTextAsPlainText) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  int checked = 0, failures = 0;
  for (const Case& c : cases()) {
    if (!c.has_no_special) continue;
    ++checked;
    const auto ids = tok.encode(c.text, /*parse_special=*/false);
    if (ids != c.ids_no_special && ++failures <= 20) {
      ADD_FAILURE() << "text \"" << test::escape(c.text) << "\"\n  ours " << test::ids_str(ids)
                    << "\n  ref  " << test::ids_str(c.ids_no_special);
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_EQ(failures, 0);
}

// Added tokens are cut out before normalization (as in the reference), so NFC cannot join
// a token's last character with a combining mark after it ("<think>" + U+0338 stays
// apart instead of becoming "<think" + U+226F). With special text as plain text the
// round trip is exactly NFC; with it parsed, it is NFC wherever no added token borders
// a combining mark.
TEST(TokenizerGolden, DecodeOfEncodeIsNfc) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  int with_specials_checked = 0;
  for (const Case& c : cases()) {
    const std::string nfc = unicode::nfc(c.text);
    EXPECT_EQ(tok.decode(tok.encode(c.text, false)), nfc) << test::escape(c.text);
    const std::string round = tok.decode(tok.encode(c.text));
    EXPECT_EQ(tok.decode(c.ids), round) << test::escape(c.text);
    if (c.text.find(">\xcc\xb8") == std::string::npos) {
      EXPECT_EQ(round, nfc) << test::escape(c.text);
      ++with_specials_checked;
    }
  }
  EXPECT_GT(with_specials_checked, 2000);
}

}  // namespace
}  // namespace qwen3
