// Qwen3Config presets and GGUF checks, model loading errors, and the gen-model / logits
// commands end to end (llama.cpp's metadata, the embedded tokenizer, deterministic output).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli_run.h"
#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "model/qwen3_config.h"
#include "model/qwen3_model.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

std::string tmp(const std::string& name) {
  return std::string(QWEN3_BUILD_DIR) + "/model_test_" + name;
}

int run(const std::string& cmd) {
  int rc = std::system((cmd + " 2>" + tmp("stderr.txt")).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string read_text(const std::string& path) {
  return test::read_file(path);
}

const std::string& tiny_q8() {  // made once by the real command
  static const std::string path = [] {
    const std::string p = tmp("tiny_q8_0.gguf");
    const std::string cmd = std::string(QWEN3_BIN) +
                            " gen-model --preset tiny --type q8_0 --seed 3 --tokenizer " +
                            QWEN3_TOKENIZER_DIR + "/tokenizer.json -o " + p;
    EXPECT_EQ(run(cmd), 0) << read_text(tmp("stderr.txt"));
    return p;
  }();
  return path;
}

TEST(Qwen3Config, PresetsMatchTheReleasedShapes) {
  const auto c = Qwen3Config::preset("0.6b");
  EXPECT_EQ(c.n_layers, 28);
  EXPECT_EQ(c.n_embd, 1024);
  EXPECT_EQ(c.n_head, 16);
  EXPECT_EQ(c.n_head_kv, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.n_ff, 3072);
  EXPECT_EQ(c.n_vocab, 151936);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(Qwen3Config::preset("1.7b").n_embd, 2048);
  EXPECT_EQ(Qwen3Config::preset("4b").n_layers, 36);
  EXPECT_EQ(Qwen3Config::preset("4b").n_ff, 9728);
  EXPECT_FALSE(Qwen3Config::preset("8b").tied_embeddings);
  EXPECT_EQ(Qwen3Config::preset("8b").n_ff, 12288);
  for (const auto& n : Qwen3Config::preset_names())
    EXPECT_NO_THROW(Qwen3Config::preset(n).validate());
  EXPECT_THROW(Qwen3Config::preset("70b"), std::invalid_argument);
  auto bad = c;
  bad.n_head_kv = 3;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
}

// A metadata-only GGUF with the given architecture and keys.
std::string write_meta(const std::string& name, const std::string& arch, bool with_eps = true) {
  gguf::GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".block_count", 2);
  w.set_u32(arch + ".context_length", 256);
  w.set_u32(arch + ".embedding_length", 64);
  w.set_u32(arch + ".feed_forward_length", 128);
  w.set_u32(arch + ".attention.head_count", 4);
  w.set_u32(arch + ".attention.head_count_kv", 2);
  w.set_u32(arch + ".attention.key_length", 16);
  w.set_f32(arch + ".rope.freq_base", 1e6f);
  if (with_eps) w.set_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b"});
  const std::string p = tmp(name);
  w.write(p);
  return p;
}

TEST(Qwen3Config, FromGgufChecksArchitectureAndKeys) {
  auto ok = Qwen3Config::from_gguf(gguf::GgufFile::open(write_meta("meta_ok.gguf", "qwen3")));
  EXPECT_EQ(ok.n_layers, 2);
  EXPECT_EQ(ok.head_dim, 16);
  EXPECT_EQ(ok.n_vocab, 2);
  EXPECT_FLOAT_EQ(ok.rope_theta, 1e6f);
  try {
    Qwen3Config::from_gguf(gguf::GgufFile::open(write_meta("meta_llama.gguf", "llama")));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported architecture 'llama'"), std::string::npos);
  }
  try {
    Qwen3Config::from_gguf(gguf::GgufFile::open(write_meta("meta_noeps.gguf", "qwen3", false)));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("layer_norm_rms_epsilon"), std::string::npos);
  }
}

// Rewrites a model GGUF with one tensor changed (type or shape) to check load errors.
std::string rewrite_with(const std::string& src, const std::string& out, const std::string& victim,
                         GgmlType type, std::vector<int64_t> dims) {
  gguf::GgufFile f = gguf::GgufFile::open(src);
  gguf::GgufWriter w;
  for (const auto& k : f.keys()) w.copy_key(f, k);
  for (const auto& t : f.tensors()) {
    if (t.name == victim) {
      w.add_tensor(t.name, type, dims,
                   std::vector<uint8_t>(gguf::GgufWriter::tensor_nbytes(type, dims)));
    } else {
      w.add_tensor(t.name, t.type, t.dims, t.data, t.nbytes);
    }
  }
  w.write(tmp(out));
  return tmp(out);
}

// The message Qwen3Model::load throws for `path` (a failure, and "", if it loads).
std::string load_error(const std::string& path) {
  try {
    Qwen3Model::load(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << path << " loaded";
  return "";
}

TEST(Qwen3Model, UnsupportedTensorTypeAndShapeAreClearErrors) {
  const std::string& src = tiny_q8();
  const std::string q81 =
      rewrite_with(src, "q81.gguf", "blk.1.ffn_up.weight", GgmlType::Q8_1, {64, 128});
  std::string m = load_error(q81);
  EXPECT_NE(m.find("blk.1.ffn_up.weight"), std::string::npos) << m;
  EXPECT_NE(m.find("Q8_1"), std::string::npos) << m;
  const std::string shape =
      rewrite_with(src, "shape.gguf", "blk.0.attn_k.weight", GgmlType::F32, {64, 16});
  m = load_error(shape);
  EXPECT_NE(m.find("blk.0.attn_k.weight has shape [64, 16], expected [64, 32]"), std::string::npos)
      << m;
  std::remove(q81.c_str());
  std::remove(shape.c_str());
  EXPECT_THROW(Qwen3Model::load(tmp("missing.gguf")), std::runtime_error);
}

TEST(GenModel, WritesLlamaCppMetadataAndTheRealTokenizer) {
  gguf::GgufFile f = gguf::GgufFile::open(tiny_q8());
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_uint("general.file_type"), 7u);
  EXPECT_EQ(f.get_uint("general.alignment"), 32u);
  EXPECT_EQ(f.get_uint("general.quantization_version"), 2u);
  for (const char* k :
       {"qwen3.block_count", "qwen3.context_length", "qwen3.embedding_length",
        "qwen3.feed_forward_length", "qwen3.attention.head_count", "qwen3.attention.head_count_kv",
        "qwen3.attention.key_length", "qwen3.attention.value_length", "qwen3.rope.freq_base",
        "qwen3.attention.layer_norm_rms_epsilon"})
    EXPECT_TRUE(f.has(k)) << k;
  EXPECT_EQ(f.type_of("qwen3.block_count"), gguf::ValueType::UINT32);
  EXPECT_EQ(f.type_of("qwen3.rope.freq_base"), gguf::ValueType::FLOAT32);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 151669u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eos_token_id"), 151645u);
  EXPECT_EQ(f.get_bool("tokenizer.ggml.add_bos_token"), false);
  EXPECT_EQ(f.tensor("token_embd.weight")->type, GgmlType::Q8_0);
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight")->type, GgmlType::F32);
  EXPECT_EQ(f.tensor("output.weight"), nullptr);  // tied

  const Tokenizer ref = Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  const Tokenizer got = Tokenizer::from_gguf(f);
  EXPECT_EQ(got.chat_template(), ref.chat_template());
  EXPECT_FALSE(got.chat_template().empty());
  for (const char* s : {"Hello, world!", "<|im_start|>user\n你好<|im_end|>", "  x = 42;\n\n"})
    EXPECT_EQ(got.encode(s), ref.encode(s)) << s;
}

TEST(GenModel, KQuantsFallBackOnNarrowRowsLikeLlamaCpp) {
  GenModelOptions o;
  o.config = Qwen3Config::tiny();  // rows of 64 and 128: no room for 256-wide K blocks
  o.type = parse_gen_model_type("q4_k");
  EXPECT_EQ(gen_model_tensor_type(o, "blk.0.attn_q.weight", {64, 64}), GgmlType::Q5_0);
  o.type = parse_gen_model_type("q6_k");
  EXPECT_EQ(gen_model_tensor_type(o, "blk.0.attn_q.weight", {64, 64}), GgmlType::Q8_0);
  EXPECT_EQ(gen_model_tensor_type(o, "blk.0.attn_q.weight", {1024, 64}), GgmlType::Q6_K);
  EXPECT_EQ(gen_model_tensor_type(o, "blk.0.attn_norm.weight", {1024}), GgmlType::F32);
  o.type = parse_gen_model_type("q4_k_m");
  o.config = Qwen3Config::qwen3_0_6b();
  EXPECT_EQ(gen_model_tensor_type(o, "token_embd.weight", {1024, 151936}), GgmlType::Q6_K);
  EXPECT_EQ(gen_model_tensor_type(o, "blk.0.ffn_down.weight", {3072, 1024}), GgmlType::Q6_K);
  EXPECT_EQ(gen_model_tensor_type(o, "blk.4.ffn_down.weight", {3072, 1024}), GgmlType::Q4_K);
  EXPECT_THROW(parse_gen_model_type("q3_k"), std::invalid_argument);
}

TEST(GenModel, SameSeedSameFileAnyThreadCount) {
  const std::string a = tmp("det_a.gguf"), b = tmp("det_b.gguf"), c = tmp("det_c.gguf");
  const std::string base =
      std::string(QWEN3_BIN) + " gen-model --preset tiny --layers 1 --type q4_0 ";
  ASSERT_EQ(run(base + "--seed 5 -t 1 -o " + a), 0);
  ASSERT_EQ(run(base + "--seed 5 -t 2 -o " + b), 0);
  ASSERT_EQ(run(base + "--seed 6 -t 2 -o " + c), 0);
  const std::string fa = read_text(a), fb = read_text(b), fc = read_text(c);
  EXPECT_GT(fa.size(), 10000000u);
  EXPECT_TRUE(fa == fb);
  EXPECT_FALSE(fa == fc);
  EXPECT_EQ(gguf::GgufFile::open(a).get_uint("qwen3.block_count"), 1u);
  for (const auto& p : {a, b, c}) std::remove(p.c_str());
}

TEST(GenModel, BadArgumentsFailCleanly) {
  const std::string bin = QWEN3_BIN;
  EXPECT_EQ(run(bin + " gen-model --preset huge -o " + tmp("x.gguf")), 2);
  EXPECT_NE(read_text(tmp("stderr.txt")).find("unknown model preset"), std::string::npos);
  EXPECT_EQ(run(bin + " gen-model --type q3_k -o " + tmp("x.gguf")), 2);
  EXPECT_NE(read_text(tmp("stderr.txt")).find("unknown weight type"), std::string::npos);
  EXPECT_EQ(run(bin + " gen-model --tokenizer /nonexistent.json -o " + tmp("x.gguf")), 2);
}

TEST(LogitsCommand, WritesEveryRowAndMatchesTheLibrary) {
  const std::string out = tmp("logits.f32");
  ASSERT_EQ(run(std::string(QWEN3_BIN) + " logits -m " + tiny_q8() +
                " --ids 9707,11,1879,0 -t 2 -o " + out),
            0)
      << read_text(tmp("stderr.txt"));
  const std::string bytes = read_text(out);
  auto model = Qwen3Model::load(tiny_q8());
  const size_t V = static_cast<size_t>(model->config().n_vocab);
  ASSERT_EQ(bytes.size(), 4 * V * sizeof(float));
  std::vector<float> file(4 * V);
  std::memcpy(file.data(), bytes.data(), bytes.size());
  InferenceContext ctx(model, 4, KvType::F16, 2);
  std::vector<int32_t> ids = {9707, 11, 1879, 0};
  std::vector<float> lib(4 * V);
  ctx.eval(ids.data(), 4, lib.data(), true);
  EXPECT_EQ(file, lib);
  // Logits are finite and spread out (not a degenerate random model).
  double sum = 0, sq = 0;
  for (size_t i = 0; i < V; ++i) {
    ASSERT_TRUE(std::isfinite(file[i]));
    sum += file[i];
    sq += static_cast<double>(file[i]) * file[i];
  }
  const double sd = std::sqrt(sq / V - (sum / V) * (sum / V));
  EXPECT_GT(sd, 0.5);
  EXPECT_LT(sd, 10.0);
  std::remove(out.c_str());

  const std::string bin = QWEN3_BIN;
  EXPECT_EQ(run(bin + " logits -m " + tiny_q8() + " --ids 1,x -o " + out), 2);
  EXPECT_NE(read_text(tmp("stderr.txt")).find("not a token id"), std::string::npos);
  EXPECT_EQ(run(bin + " logits -m " + tiny_q8() + " --ids 1,999999 -o " + out), 2);
  EXPECT_NE(read_text(tmp("stderr.txt")).find("outside the vocabulary"), std::string::npos);
  EXPECT_EQ(run(bin + " logits -m " + tmp("nope.gguf") + " --ids 1 -o " + out), 2);
}

}  // namespace
}  // namespace qwen3
