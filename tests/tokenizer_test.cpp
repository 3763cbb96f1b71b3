// Unit tests of the tokenizer pieces: UTF-8 repair, the pre-tokenizer rules, BPE,
// special tokens, decoding, loading errors and pathological inputs.
#include <gtest/gtest.h>

#include <random>

#include "text/bpe_byte_level.h"
#include "text/pretokenizer.h"
#include "text/unicode.h"
#include "text/utf8.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (const Piece& p : pretokenize_qwen2(s)) out.push_back(s.substr(p.begin, p.end - p.begin));
  return out;
}

using V = std::vector<std::string>;

TEST(Pretokenizer, Contractions) {
  EXPECT_EQ(split("don't"), (V{"don", "'t"}));
  EXPECT_EQ(split("I'M you'RE they'Ve"), (V{"I", "'M", " you", "'RE", " they", "'Ve"}));
  EXPECT_EQ(split("'ll've"), (V{"'ll", "'ve"}));
  EXPECT_EQ(split("'Sup"), (V{"'S", "up"}));
  EXPECT_EQ(split("'\xC5\xBF"), (V{"'\xC5\xBF"}));  // long s folds to s
  EXPECT_EQ(split("'x"), (V{"'x"}));
  EXPECT_EQ(split("?'s"), (V{"?'", "s"}));
}

TEST(Pretokenizer, LettersNumbersPunctuation) {
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("12345"), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("$abc"), (V{"$abc"}));
  EXPECT_EQ(split("a, b!!"), (V{"a", ",", " b", "!!"}));
  EXPECT_EQ(split(" ++\r\n\r\nx"), (V{" ++\r\n\r\n", "x"}));
  EXPECT_EQ(split("\tfoo"), (V{"\tfoo"}));
}

TEST(Pretokenizer, WhitespaceRules) {
  EXPECT_EQ(split("a   b"), (V{"a", "  ", " b"}));  // \s+(?!\S) leaves one space
  EXPECT_EQ(split("a   "), (V{"a", "   "}));        // at the end the whole run
  EXPECT_EQ(split("a \n  b"), (V{"a", " \n", " ", " b"}));
  EXPECT_EQ(split("\n\n\n"), (V{"\n\n\n"}));
  EXPECT_EQ(split("x\r\n"), (V{"x", "\r\n"}));
  EXPECT_EQ(split(" 1"), (V{" ", "1"}));
}

TEST(Pretokenizer, PiecesCoverTheText) {
  std::mt19937 gen(7);
  const char* alphabet[] = {
      "a", "Z",       " ", "\n",           "\r",       "\t",           "'",
      "s", "1",       "!", "\xE4\xB8\xAD", "\xC3\xA9", "\xE3\x80\x80", "\xF0\x9F\x98\x80",
      "-", "\xC2\xA0"};
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    const int n = static_cast<int>(gen() % 30);
    for (int i = 0; i < n; ++i) s += alphabet[gen() % 16];
    size_t pos = 0;
    for (const Piece& p : pretokenize_qwen2(s)) {
      ASSERT_EQ(p.begin, pos);
      ASSERT_GT(p.end, p.begin);
      pos = p.end;
    }
    ASSERT_EQ(pos, s.size());
  }
}

TEST(Utf8, SanitizeReplacesMaximalInvalidSubsequences) {
  EXPECT_EQ(utf8::sanitize("a\xFF"
                           "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8::sanitize("\xE2\x82"), "\xEF\xBF\xBD");  // truncated: one U+FFFD
  EXPECT_EQ(utf8::sanitize("\xE2\x82x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(utf8::sanitize("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8::sanitize("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(utf8::sanitize("\xF4\x90\x80\x80").size(), 12u);  // above U+10FFFF
  EXPECT_TRUE(utf8::is_valid("\xF0\x9F\x98\x80"));
  EXPECT_EQ(utf8::complete_prefix_length("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(utf8::complete_prefix_length("ab\xF0\x9F\x98\x80"), 6u);
  EXPECT_EQ(utf8::complete_prefix_length("ab\xFF"), 3u);
}

TEST(ByteLevel, MappingRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(byte_level::decode(byte_level::encode(all)), all);
  EXPECT_EQ(byte_level::encode(" "), "\xC4\xA0");   // 'Ġ'
  EXPECT_EQ(byte_level::encode("\n"), "\xC4\x8A");  // 'Ċ'
  EXPECT_FALSE(byte_level::decode("\xE4\xB8\xAD").has_value());
}

TEST(Tokenizer, KnownIds) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  EXPECT_EQ(tok.n_vocab(), 151669);
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
  EXPECT_EQ(tok.eos_id(), 151643);
  EXPECT_EQ(tok.im_start_id(), 151644);
  EXPECT_EQ(tok.im_end_id(), 151645);
  EXPECT_EQ(tok.token_id("<think>"), 151667);
  EXPECT_EQ(tok.token_id("Hello"), 9707);
  EXPECT_EQ(tok.token_id(" world"), 1879);  // regular tokens by their raw bytes
  EXPECT_FALSE(tok.token_id("no such token!!").has_value());
  EXPECT_FALSE(tok.chat_template().empty());
  EXPECT_EQ(tok.vocab_strings().size(), 151669u);
  EXPECT_EQ(tok.vocab_strings()[1879], "\xC4\xA0world");
  EXPECT_EQ(tok.merges().size(), 151387u);
  EXPECT_EQ(tok.merges()[0], "\xC4\xA0 \xC4\xA0");
}

TEST(Tokenizer, AllAddedTokensAreMatchedFirst) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  for (int32_t id = 151643; id <= 151668; ++id) {
    EXPECT_TRUE(tok.is_special(id));
    const std::string text = tok.token_bytes(id);
    EXPECT_EQ(tok.encode("x" + text + "y"), (std::vector<int32_t>{87, id, 88})) << text;
    EXPECT_EQ(tok.token_id(text), id);
  }
  EXPECT_FALSE(tok.is_special(9707));
  // Types as llama.cpp's converter assigns them: <|...|> control, the rest user-defined.
  EXPECT_EQ(tok.token_types()[151645], 3);
  EXPECT_EQ(tok.token_types()[151659], 3);
  EXPECT_EQ(tok.token_types()[151667], 4);
  EXPECT_EQ(tok.token_types()[151657], 4);
  EXPECT_EQ(tok.token_types()[100], 1);
}

TEST(Tokenizer, NoSpecialTreatsSpecialTextAsPlainText) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto ids = tok.encode("<|im_start|>system", /*parse_special=*/false);
  for (int32_t id : ids) EXPECT_FALSE(tok.is_special(id));
  EXPECT_GT(ids.size(), 3u);
  EXPECT_EQ(tok.decode(ids), "<|im_start|>system");
  EXPECT_EQ(tok.encode("<|im_start|>system")[0], 151644);
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacter) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  EXPECT_EQ(tok.encode("a\xFF"
                       "b"),
            tok.encode("a\xEF\xBF\xBD"
                       "b"));
  EXPECT_EQ(tok.encode("\xE2\x82"), tok.encode("\xEF\xBF\xBD"));
  EXPECT_EQ(tok.decode(tok.encode("x\xC0y")), "x\xEF\xBF\xBDy");
}

TEST(Tokenizer, DecodeRepairsPartialSequencesAndSkipsControlTokens) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto f0 = tok.token_id("\xF0");  // a lone lead byte: a byte token of its own
  ASSERT_TRUE(f0.has_value());
  EXPECT_EQ(tok.decode({*f0}), "\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode({*f0, *tok.token_id("a")}),
            "\xEF\xBF\xBD"
            "a");
  const auto chat = tok.encode("<|im_start|>user\nhi<|im_end|><think>");
  EXPECT_EQ(tok.decode(chat, /*skip_special=*/true), "user\nhi<think>");
  EXPECT_THROW(tok.decode({-1}), std::out_of_range);
  EXPECT_THROW(tok.decode({tok.n_vocab()}), std::out_of_range);
  EXPECT_EQ(tok.decode({}), "");
}

TEST(Tokenizer, PathologicalInputsTokenize) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::string letters(50000, 'a');
  const auto a = tok.encode(letters);
  EXPECT_EQ(tok.decode(a), letters);
  EXPECT_LT(a.size(), 50000u / 4);
  const std::string spaces(100000, ' ');
  EXPECT_EQ(tok.decode(tok.encode(spaces)), spaces);
  EXPECT_EQ(tok.decode(tok.encode(spaces + "x")), spaces + "x");
  std::string digits;
  for (int i = 0; i < 100000; ++i) digits.push_back(static_cast<char>('0' + i % 10));
  EXPECT_EQ(tok.encode(digits).size(), digits.size());  // one token per digit
  std::string mixed;
  for (int i = 0; i < 20000; ++i) mixed += "\n \t";
  EXPECT_EQ(tok.decode(tok.encode(mixed)), mixed);
  std::string cjk;
  for (int i = 0; i < 20000; ++i) cjk += "\xE4\xB8\xAD\xE6\x96\x87";
  EXPECT_EQ(tok.decode(tok.encode(cjk)), cjk);
  std::string lt(50000, '<');
  EXPECT_EQ(tok.decode(tok.encode(lt)), lt);
}

TEST(Tokenizer, CopiesShareTheLoadedData) {
  Tokenizer copy = test::qwen3_tokenizer();
  EXPECT_EQ(copy.encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
  Tokenizer empty;
  EXPECT_THROW(empty.encode("x"), std::logic_error);
}

TEST(TokenizerLoad, ClearErrors) {
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), std::runtime_error);
  EXPECT_THROW(Tokenizer::from_file("/"), std::runtime_error);  // folder without tokenizer.json
  EXPECT_THROW(Tokenizer::from_hf_json("{not json"), std::runtime_error);
  EXPECT_THROW(Tokenizer::from_hf_json("[]"), std::runtime_error);
  EXPECT_THROW(Tokenizer::from_hf_json(R"({"model": {"type": "Unigram"}})"), std::runtime_error);
  try {
    Tokenizer::from_hf_json(R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
                                "pre_tokenizer": {"type": "Whitespace"}})");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("pre_tokenizer"), std::string::npos) << e.what();
  }
}

// A tiny tokenizer.json built here: checks merge ranks (lowest first, leftmost on ties)
// independently of the real vocabulary.
std::string tiny_json(const std::string& merges) {
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    const std::string s = byte_level::encode(std::string(1, static_cast<char>(b)));
    nlohmann::json key = s;
    vocab += key.dump() + ": " + std::to_string(b) + ", ";
  }
  vocab += R"("aa": 256, "ab": 257, "aaa": 258, "aab": 259, "bb": 260)";
  return R"({"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": )" +
         nlohmann::json(std::string(kQwen2SplitRegex)).dump() +
         R"(}, "behavior": "Isolated", "invert": false},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
    "added_tokens": [{"id": 261, "content": "<|end|>", "special": true}],
    "model": {"type": "BPE", "vocab": {)" +
         vocab + R"(}, "merges": )" + merges + "}}";
}

TEST(BpeModel, MergeOrderByRankThenLeftmost) {
  const Tokenizer t = Tokenizer::from_hf_json(tiny_json(R"([["a","a"],["a","b"],["aa","a"]])"));
  EXPECT_EQ(t.encode("aaa"), (std::vector<int32_t>{258}));       // aa, then aa+a
  EXPECT_EQ(t.encode("aab"), (std::vector<int32_t>{256, 'b'}));  // aa ranks before ab
  EXPECT_EQ(t.encode("aaaa"), (std::vector<int32_t>{256, 256}));
  const Tokenizer u = Tokenizer::from_hf_json(tiny_json(R"(["a b", "a a", "aa b"])"));
  EXPECT_EQ(u.encode("aab"), (std::vector<int32_t>{'a', 257}));  // ab ranks first now
  EXPECT_EQ(u.encode("aaa"), (std::vector<int32_t>{256, 'a'}));  // leftmost aa on a tie
  EXPECT_EQ(u.encode("x<|end|>"), (std::vector<int32_t>{'x', 261}));
  EXPECT_EQ(u.n_vocab(), 262);
  EXPECT_EQ(u.eos_id(), -1);
  EXPECT_THROW(Tokenizer::from_hf_json(tiny_json(R"([["a","zz"]])")), std::runtime_error);
}

}  // namespace
}  // namespace qwen3
