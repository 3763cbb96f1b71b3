// A GGUF written the way convert_hf_to_gguf.py writes Qwen3 (tokenizer.ggml.* from
// vocab_strings()/merges()/token_types(), the id space padded to the model's 151,936
// with [PADn] unused tokens) loads into a tokenizer that gives the same ids as
// tokenizer.json on the whole golden corpus.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

std::string write_qwen3_tokenizer_gguf(const Tokenizer& tok, const std::string& path) {
  std::vector<std::string> tokens = tok.vocab_strings();
  std::vector<int32_t> types = tok.token_types();
  for (int32_t id = tok.n_vocab(); id < 151936; ++id) {
    tokens.push_back("[PAD" + std::to_string(id) + "]");
    types.push_back(5);
  }
  gguf::GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_int32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", tok.merges());
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tok.im_end_id()));
  w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(tok.eos_id()));
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok.eos_id()));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  w.set_string("tokenizer.chat_template", tok.chat_template());
  w.write(path);
  return path;
}

std::vector<std::string> corpus_texts() {
  std::ifstream in(std::string(QWEN3_SOURCE_DIR) + "/tests/golden/tokenizer_corpus.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> texts;
  const auto j = nlohmann::json::parse(ss.str());
  for (const auto& c : j.at("cases")) {
    texts.push_back(c.at("text").get<std::string>());
  }
  return texts;
}

TEST(TokenizerGguf, SameIdsAsTokenizerJson) {
  const Tokenizer& hf = test::qwen3_tokenizer();
  const std::string path =
      write_qwen3_tokenizer_gguf(hf, std::string(QWEN3_BUILD_DIR) + "/tokenizer_gguf_test.gguf");
  const Tokenizer g = Tokenizer::from_file(path);  // detected by its magic
  EXPECT_EQ(g.n_vocab(), 151936);
  EXPECT_EQ(g.chat_template(), hf.chat_template());
  EXPECT_EQ(g.eos_id(), hf.eos_id());
  EXPECT_EQ(g.im_end_id(), hf.im_end_id());
  EXPECT_EQ(g.im_start_id(), hf.im_start_id());
  const auto texts = corpus_texts();
  ASSERT_GE(texts.size(), 2000u);
  for (const auto& t : texts) {
    ASSERT_EQ(g.encode(t), hf.encode(t)) << test::escape(t);
    ASSERT_EQ(g.encode(t, false), hf.encode(t, false)) << test::escape(t);
  }
  for (int32_t id = 0; id < hf.n_vocab(); ++id) {
    ASSERT_EQ(g.token_bytes(id), hf.token_bytes(id)) << id;
    ASSERT_EQ(g.is_special(id), hf.is_special(id)) << id;
  }
  EXPECT_EQ(g.decode({151700}), "");  // padding ids decode to nothing
  EXPECT_FALSE(g.is_special(151700));
}

TEST(TokenizerGguf, RejectsOtherTokenizers) {
  gguf::GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/tokenizer_gguf_test_llama.gguf";
  w.write(path);
  try {
    Tokenizer::from_file(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("llama"), std::string::npos) << e.what();
  }
  gguf::GgufWriter empty;
  const std::string path2 = std::string(QWEN3_BUILD_DIR) + "/tokenizer_gguf_test_empty.gguf";
  empty.write(path2);
  EXPECT_THROW(Tokenizer::from_file(path2), std::runtime_error);
}

}  // namespace
}  // namespace qwen3
