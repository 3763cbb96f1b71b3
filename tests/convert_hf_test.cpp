// End to end: a random Qwen3 checkpoint written in the Hugging Face layout (sharded,
// BF16 or F32, real tokenizer files) is run directly and converted to GGUF; logits of
// the folder and of the converted files must agree (bit-exact where the weights and the
// kernels are the same, within stated bounds otherwise), quantized tensors must stay
// within stated error bounds of the originals, and the metadata must be llama.cpp's.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "convert/gguf_convert.h"
#include "convert/hf_checkpoint_writer.h"
#include "gguf/gguf_reader.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "model/convert_types.h"
#include "model/hf_model_loader.h"
#include "model/hf_tensor_names.h"
#include "model/qwen3_model.h"
#include "model/safetensors_checkpoint.h"
#include "shape_util.h"
#include "text/tokenizer.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("qwen3_conv_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

HfModelConfig shape(int64_t hidden, int64_t layers, int64_t heads, int64_t kv, int64_t head_dim,
                    int64_t ff, bool tied) {
  // 151936 rows: the real vocabulary padded as the releases do.
  HfModelConfig c = test::hf_shape({layers, hidden, heads, kv, head_dim, ff, 151936, 4096});
  c.architecture = "Qwen3ForCausalLM";
  c.tie_word_embeddings = tied;
  return c;
}

std::vector<float> logits_of(const std::shared_ptr<Qwen3Model>& m,
                             const std::vector<int32_t>& ids) {
  InferenceContext ctx(m, 64, KvType::F32, 1);
  std::vector<float> out(ids.size() * static_cast<size_t>(m->config().n_vocab));
  ctx.eval(ids.data(), static_cast<int>(ids.size()), out.data(), true);
  return out;
}

double rel_rms(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - ref[i]) * double(a[i] - ref[i]);
    den += ref[i] * double(ref[i]);
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

std::vector<float> to_f32(GgmlType t, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t, data, out.data(), n);
  return out;
}

const std::vector<int32_t> kIds = {151644, 872, 198, 9707, 11, 1879, 0, 151645, 198, 100, 42};

// --- bit-exact paths -------------------------------------------------------------

TEST(ConvertHf, SameWeightsGiveBitExactLogits) {
  for (GgmlType dtype : {GgmlType::F32, GgmlType::BF16}) {
    const fs::path dir = temp_dir(std::string("exact_") + std::string(ggml_type_info(dtype).name));
    const HfModelConfig c = shape(64, 2, 4, 2, 16, 128, true);
    RandomCheckpointOptions o;
    o.dtype = dtype;
    o.n_shards = 3;
    o.seed = 11;
    o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
    o.write_lm_head_when_tied = true;  // must be ignored: the model is tied
    write_random_hf_checkpoint((dir / "hf").string(), c, o);

    auto from_folder = load_hf_model((dir / "hf").string());
    EXPECT_TRUE(from_folder->config().tied_embeddings);
    const auto ref = logits_of(from_folder, kIds);

    ConvertOptions copts;
    copts.target = dtype == GgmlType::F32 ? ConvertTarget::F32 : ConvertTarget::BF16;
    const fs::path out = dir / "m.gguf";
    convert_hf_to_gguf((dir / "hf").string(), out.string(), copts);
    auto from_gguf = Qwen3Model::load(out.string());
    const auto got = logits_of(from_gguf, kIds);
    ASSERT_EQ(got.size(), ref.size());
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != ref[i];
    EXPECT_EQ(diff, 0u) << ggml_type_info(dtype).name;
    fs::remove_all(dir);
  }
}

// --- the BF16 checkpoint a user downloads, converted to every target -------------

class ConvertBf16 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(temp_dir("bf16"));
    // 256-wide rows so the K-quants apply; 8 layers so the Q4_K_M layer pattern shows.
    cfg_ = new HfModelConfig(shape(256, 8, 4, 2, 64, 512, true));
    RandomCheckpointOptions o;
    o.dtype = GgmlType::BF16;
    o.n_shards = 2;
    o.seed = 5;
    o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
    write_random_hf_checkpoint(folder(), *cfg_, o);
    model_ = new std::shared_ptr<Qwen3Model>(load_hf_model(folder()));
    ref_ = new std::vector<float>(logits_of(*model_, kIds));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete cfg_;
    delete model_;
    delete ref_;
  }
  static std::string folder() { return (*dir_ / "hf").string(); }
  static std::string convert(ConvertTarget t) {
    const std::string out = (*dir_ / (convert_target_name(t) + ".gguf")).string();
    if (!fs::exists(out)) {
      ConvertOptions o;
      o.target = t;
      const ConvertResult r = convert_hf_to_gguf(folder(), out, o);
      EXPECT_EQ(r.n_tensors, 2 + 11 * 8u);
    }
    return out;
  }
  static fs::path* dir_;
  static HfModelConfig* cfg_;
  static std::shared_ptr<Qwen3Model>* model_;
  static std::vector<float>* ref_;
};
fs::path* ConvertBf16::dir_;
HfModelConfig* ConvertBf16::cfg_;
std::shared_ptr<Qwen3Model>* ConvertBf16::model_;
std::vector<float>* ConvertBf16::ref_;

TEST_F(ConvertBf16, MetadataAndTokenizerAreLlamaCpps) {
  const gguf::GgufFile f = gguf::GgufFile::open(convert(ConvertTarget::Q8_0));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_string("general.name"), "hf");
  EXPECT_EQ(f.get_uint("general.file_type"), 7u);
  EXPECT_EQ(f.get_uint("general.quantization_version"), 2u);
  EXPECT_EQ(f.get_uint("qwen3.block_count"), 8u);
  EXPECT_EQ(f.get_uint("qwen3.context_length"), 4096u);
  EXPECT_EQ(f.get_uint("qwen3.embedding_length"), 256u);
  EXPECT_EQ(f.get_uint("qwen3.feed_forward_length"), 512u);
  EXPECT_EQ(f.get_uint("qwen3.attention.head_count"), 4u);
  EXPECT_EQ(f.get_uint("qwen3.attention.head_count_kv"), 2u);
  EXPECT_EQ(f.get_uint("qwen3.attention.key_length"), 64u);
  EXPECT_EQ(f.get_uint("qwen3.attention.value_length"), 64u);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("qwen3.rope.freq_base")), 1e6f);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("qwen3.attention.layer_norm_rms_epsilon")),
                  1e-6f);
  EXPECT_FALSE(f.has("qwen3.rope.scaling.type"));
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 151936u);
  EXPECT_EQ(tokens[151645], "<|im_end|>");
  EXPECT_EQ(tokens[151669], "[PAD151669]");
  const auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_EQ(types.size(), 151936u);
  EXPECT_EQ(types[0], 1);
  EXPECT_EQ(types[151645], 3);
  EXPECT_EQ(types[151935], 5);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.merges").size(), 151387u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eos_token_id"), 151645u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.padding_token_id"), 151643u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.bos_token_id"), 151643u);
  EXPECT_EQ(f.get_bool("tokenizer.ggml.add_bos_token"), false);
  EXPECT_EQ(f.get_int("general.sampling.top_k"), 20);
  EXPECT_NEAR(*f.get_float("general.sampling.top_p"), 0.95, 1e-6);
  EXPECT_NEAR(*f.get_float("general.sampling.temp"), 0.6, 1e-6);

  std::ifstream in(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer_config.json");
  const auto tc = nlohmann::json::parse(in);
  EXPECT_EQ(f.get_string("tokenizer.chat_template"), tc["chat_template"].get<std::string>());

  // The tokenizer read back from the GGUF encodes like the folder's tokenizer.json.
  const Tokenizer a = Tokenizer::from_file(folder());
  const Tokenizer b = Tokenizer::from_gguf(f);
  for (const char* s : {"Hello, world!", "<|im_start|>user\n你好 <think>x</think>",
                        "  spaces\n\n and 1234567 numbers ", "émoji 🤖 mixed"})
    EXPECT_EQ(a.encode(s), b.encode(s)) << s;

  // Tensor order: token_embd first, the blocks in order, output_norm last (tied: no output).
  const auto& ts = f.tensors();
  ASSERT_EQ(ts.size(), 2 + 11 * 8u);
  EXPECT_EQ(ts.front().name, "token_embd.weight");
  EXPECT_EQ(ts.back().name, "output_norm.weight");
  EXPECT_EQ(f.tensor("output.weight"), nullptr);
}

TEST_F(ConvertBf16, FloatConversionsMatchTheFolder) {
  // BF16 -> BF16 copies the bytes: bit-exact logits.
  EXPECT_EQ(logits_of(Qwen3Model::load(convert(ConvertTarget::BF16)), kIds), *ref_);
  // F32 and F16 hold the same values (these bf16 values are exact in fp16); only the
  // matmul kernels differ, so agreement to float rounding.
  for (ConvertTarget t : {ConvertTarget::F32, ConvertTarget::F16}) {
    const auto got = logits_of(Qwen3Model::load(convert(t)), kIds);
    EXPECT_LT(rel_rms(got, *ref_), 1e-5) << convert_target_name(t);
  }
}

// Dequantized weights of each quantized conversion against the BF16 originals.
TEST_F(ConvertBf16, QuantizedTensorsStayWithinErrorBounds) {
  // Relative RMS error bounds per block format (uniform random weights; the expected
  // values are about 0.004, 0.065, 0.035, 0.008).
  const std::map<GgmlType, double> bound = {{GgmlType::Q8_0, 0.006},
                                            {GgmlType::Q4_0, 0.09},
                                            {GgmlType::Q4_K, 0.06},
                                            {GgmlType::Q6_K, 0.02}};
  const auto ck = SafetensorsCheckpoint::open(folder());
  for (ConvertTarget t : {ConvertTarget::Q8_0, ConvertTarget::Q4_0, ConvertTarget::Q4_K_M}) {
    const gguf::GgufFile f = gguf::GgufFile::open(convert(t));
    std::map<GgmlType, int> seen;
    for (const auto& ti : f.tensors()) {
      EXPECT_EQ(ti.type, tensor_type_for(t, ti.name, ti.dims, 8, false)) << ti.name;
      const SafetensorsTensor& src = ck.at(*hf_name_for(ti.name));
      const auto want = to_f32(src.type, src.data, src.n_elements());
      const auto got = to_f32(ti.type, ti.data, ti.n_elements());
      if (ti.type == GgmlType::F32) {
        EXPECT_EQ(got, want) << ti.name;
        continue;
      }
      ASSERT_TRUE(bound.count(ti.type)) << ti.name;
      seen[ti.type]++;
      EXPECT_LT(rel_rms(got, want), bound.at(ti.type))
          << convert_target_name(t) << " " << ti.name << " " << ggml_type_info(ti.type).name;
    }
    if (t == ConvertTarget::Q4_K_M) {
      // layers 0, 3, 6, 7 of 8 get Q6_K for attn_v and ffn_down; the tied embedding too.
      EXPECT_EQ(seen[GgmlType::Q6_K], 2 * 4 + 1);
      EXPECT_EQ(seen[GgmlType::Q4_K], 7 * 8 - 8);
    }
  }
}

TEST_F(ConvertBf16, QuantizedLogitsStayClose) {
  // Logit error of the whole model vs the BF16 folder (relative RMS over 11 positions).
  // Measured: q8_0 0.021, q4_k_m 0.145, q4_0 0.187 (the quantized matmuls also round the
  // activations to 8 bits, and 8 random layers amplify errors); bounds leave ~1.6x room.
  const std::map<ConvertTarget, double> bound = {
      {ConvertTarget::Q8_0, 0.035}, {ConvertTarget::Q4_0, 0.3}, {ConvertTarget::Q4_K_M, 0.23}};
  std::map<ConvertTarget, double> err;
  for (const auto& [t, b] : bound) {
    const auto got = logits_of(Qwen3Model::load(convert(t)), kIds);
    const double e = err[t] = rel_rms(got, *ref_);
    EXPECT_LT(e, b) << convert_target_name(t);
    std::printf("%-7s logits rel. RMS error vs BF16: %.4f (bound %.3f)\n",
                convert_target_name(t).c_str(), e, b);
  }
  // More bits, less error: Q8_0 < Q4_K_M (Q4_K + Q6_K) < Q4_0.
  EXPECT_LT(err[ConvertTarget::Q8_0], err[ConvertTarget::Q4_K_M]);
  EXPECT_LT(err[ConvertTarget::Q4_K_M], err[ConvertTarget::Q4_0]);
}

TEST_F(ConvertBf16, QuantizeAtLoadEqualsTheConvertedFile) {
  const std::pair<GgmlType, ConvertTarget> cases[] = {{GgmlType::Q8_0, ConvertTarget::Q8_0},
                                                      {GgmlType::Q4_0, ConvertTarget::Q4_0},
                                                      {GgmlType::Q4_K, ConvertTarget::Q4_K_M}};
  for (const auto& [q, t] : cases) {
    ModelLoadOptions o;
    o.quantize = q;
    const auto loaded = logits_of(load_hf_model(folder(), o), kIds);
    const auto converted = logits_of(Qwen3Model::load(convert(t)), kIds);
    EXPECT_EQ(loaded, converted) << convert_target_name(t);
  }
}

// --- errors -----------------------------------------------------------------------

TEST(ConvertHf, BadCheckpointsFailBeforeWriting) {
  const fs::path dir = temp_dir("bad");
  const HfModelConfig c = shape(64, 2, 4, 2, 16, 128, false);
  RandomCheckpointOptions o;
  o.n_shards = 1;
  o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  const std::string hf = (dir / "hf").string();
  const std::string out = (dir / "out.gguf").string();
  auto expect_fail = [&](const std::string& needle) {
    try {
      convert_hf_to_gguf(hf, out, {});
      ADD_FAILURE() << "converted; expected an error mentioning " << needle;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(out));
  };

  // config.json disagrees with the tensors.
  write_random_hf_checkpoint(hf, c, o);
  HfModelConfig wrong = c;
  wrong.intermediate_size = 256;
  std::ofstream((dir / "hf" / "config.json")) << qwen3_config_json(wrong);
  expect_fail("mlp.down_proj.weight");
  // More layers in config.json than in the checkpoint.
  wrong = c;
  wrong.num_hidden_layers = 3;
  std::ofstream((dir / "hf" / "config.json")) << qwen3_config_json(wrong);
  expect_fail("expected");
  // Untied config without lm_head.
  HfModelConfig tied = c;
  tied.tie_word_embeddings = true;
  write_random_hf_checkpoint(hf, tied, o);
  std::ofstream((dir / "hf" / "config.json")) << qwen3_config_json(c);
  expect_fail("expected");
  EXPECT_THROW(load_hf_model(hf), std::runtime_error);
  // A foreign tensor.
  write_random_hf_checkpoint(hf, c, o);
  write_safetensors((dir / "hf" / "model.safetensors").string(),
                    {{"model.vision.weight", GgmlType::F32, {2}, nullptr}});
  expect_fail("model.vision.weight");
  // Another architecture.
  nlohmann::json j = nlohmann::json::parse(qwen3_config_json(c));
  j["architectures"] = {"Qwen2ForCausalLM"};
  std::ofstream((dir / "hf" / "config.json")) << j.dump();
  expect_fail("Qwen2ForCausalLM");
  EXPECT_THROW(load_hf_model(hf), HfConfigError);
  // YaRN: converted with llama.cpp's keys, and the folder runs with it.
  write_random_hf_checkpoint(hf, c, o);
  HfModelConfig yarn = c;
  yarn.rope_scaling = RopeScaling{"yarn", 4.0, 32768};
  std::ofstream((dir / "hf" / "config.json")) << qwen3_config_json(yarn);
  convert_hf_to_gguf(hf, out, {});
  const gguf::GgufFile f = gguf::GgufFile::open(out);
  EXPECT_EQ(f.get_string("qwen3.rope.scaling.type"), "yarn");
  EXPECT_NEAR(*f.get_float("qwen3.rope.scaling.factor"), 4.0, 1e-6);
  EXPECT_EQ(f.get_uint("qwen3.rope.scaling.original_context_length"), 32768u);
  EXPECT_EQ(load_hf_model(hf)->config().max_context(), 131072);
  fs::remove_all(dir);
}

// --- the command ------------------------------------------------------------------

int run(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(ConvertHf, CommandLine) {
  const fs::path dir = temp_dir("cli");
  RandomCheckpointOptions o;
  o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  write_random_hf_checkpoint((dir / "hf").string(), shape(64, 2, 4, 2, 16, 128, false), o);
  const std::string bin = QWEN3_BIN;
  const std::string out = (dir / "o.gguf").string();
  EXPECT_EQ(run(bin + " convert " + (dir / "hf").string() + " -o " + out + " --type q8_0 -q"), 0);
  const gguf::GgufFile f = gguf::GgufFile::open(out);
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight")->type, GgmlType::Q8_0);
  EXPECT_NE(f.tensor("output.weight"), nullptr);
  // `-m HF_FOLDER` on another command: the folder's logits equal the F32 conversion's
  // (F32 checkpoint, same kernels: bit-exact).
  RandomCheckpointOptions f32 = o;
  f32.dtype = GgmlType::F32;
  write_random_hf_checkpoint((dir / "hf32").string(), shape(64, 2, 4, 2, 16, 128, true), f32);
  const std::string g32 = (dir / "f32.gguf").string();
  ASSERT_EQ(run(bin + " convert " + (dir / "hf32").string() + " -o " + g32 + " --type f32 -q"), 0);
  const std::string ids = " --ids 151644,872,198,9707,11 --kv-f32 -t 1 -o ";
  ASSERT_EQ(run(bin + " logits -m " + (dir / "hf32").string() + ids + (dir / "a.f32").string()), 0);
  ASSERT_EQ(run(bin + " logits -m " + g32 + ids + (dir / "b.f32").string()), 0);
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string a = slurp(dir / "a.f32");
  EXPECT_EQ(a.size(), 5u * 151936 * 4);
  EXPECT_TRUE(a == slurp(dir / "b.f32"));
  EXPECT_EQ(run(bin + " convert " + (dir / "hf").string() + " -o " + out + " --type q3_k"), 2);
  EXPECT_EQ(run(bin + " convert " + (dir / "nope").string() + " -o " + out), 2);
  EXPECT_EQ(run(bin + " convert " + (dir / "hf").string()), 2);
  fs::remove_all(dir);
}

// Conversion figures for the 0.6B shape (random BF16 weights, 1.2 GB): run with
// QWEN3_CONVERT_MEASURE=1; prints time and the peak RSS of the convert process.
TEST(ConvertHf, Measure06B) {
  if (!std::getenv("QWEN3_CONVERT_MEASURE")) GTEST_SKIP() << "set QWEN3_CONVERT_MEASURE=1";
  const fs::path dir = temp_dir("06b");
  HfModelConfig c = shape(1024, 28, 16, 8, 128, 3072, true);
  c.max_position_embeddings = 40960;
  RandomCheckpointOptions o;
  o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  o.n_shards = 2;
  write_random_hf_checkpoint((dir / "hf").string(), c, o);
  const char* types = std::getenv("QWEN3_CONVERT_TYPES");
  std::stringstream ss(types ? types : "q4_k_m,q8_0,f16");
  for (std::string t; std::getline(ss, t, ',');) {
    const std::string out = (dir / (t + ".gguf")).string();
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
      execl(QWEN3_BIN, QWEN3_BIN, "convert", (dir / "hf").c_str(), "-o", out.c_str(), "--type",
            t.c_str(), "-q", static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::printf("convert 0.6B-shape BF16 -> %-6s: %.1f s, peak RSS %.0f MiB, output %.0f MiB\n",
                t.c_str(), s, ru.ru_maxrss / 1024.0, fs::file_size(out) / 1048576.0);
    fs::remove(out);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qwen3::hf
