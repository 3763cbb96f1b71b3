// Qwen3 MoE (arch qwen3moe) and YaRN against the plain float reference
// (reference_forward.h): the router against a brute-force top-k, the forward pass of
// random-weight MoE GGUFs of several shapes and types (tied and untied), the cache and
// batching paths (decode == prefill, a mixed batch of sequences == each alone), the
// llama.cpp metadata and Q4_K_M type mix of the files gen-model writes, a Hugging Face
// Qwen3MoeForCausalLM folder == its converted GGUF, and YaRN (the rotary table at
// positions beyond 32,768 against transformers' formula, a YaRN model's logits against
// the reference). llama.cpp itself is compared outside the suite: bench/moe_crosscheck.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/gguf_convert.h"
#include "convert/hf_checkpoint_writer.h"
#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "model/batch_forward.h"
#include "model/feed_forward.h"
#include "model/hf_model_loader.h"
#include "model/qwen3_model.h"
#include "model/rope.h"
#include "model_test_util.h"
#include "reference_forward.h"
#include "shape_util.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

using test::load_model;
using test::random_ids;
using test::real_tokenizer;
using test::rel_error;
using test::rms_rel_error;

// MoE shapes whose rows fit every block format (256), vocabulary cut to 1024 rows.
// "moe8": 8 experts, top 2, tied (llama.cpp's 8-expert type rules apply).
// "moe16": 16 experts, top 4, untied, 3 blocks.
Qwen3Config moe_config(const std::string& shape) {
  Qwen3Config c = Qwen3Config::preset("tiny-moe");
  c.name = "moe-test-" + shape;
  test::set_small_shape(c);
  c.n_expert = 8;
  c.n_expert_used = 2;
  c.n_ff_exp = 256;
  if (shape == "moe16") {
    c.n_layers = 3;
    c.n_expert = 16;
    c.n_expert_used = 4;
    c.tied_embeddings = false;
  }
  return c;
}

const std::string& model_file(const std::string& shape, const std::string& type) {
  static std::map<std::string, std::string> made;
  const std::string key = shape + "_" + type;
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  GenModelOptions o;
  o.config = shape == "tiny-moe" ? Qwen3Config::preset("tiny-moe") : moe_config(shape);
  o.type = parse_gen_model_type(type);
  o.seed = 5;
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/moe_test_" + key + ".gguf";
  generate_random_model(o, *real_tokenizer(), path);
  return made.emplace(key, path).first->second;
}

std::vector<float> prefill(const std::shared_ptr<Qwen3Model>& m, const std::vector<int32_t>& ids,
                           int threads) {
  return test::prefill_logits(m, ids, KvType::F32, threads);
}

std::vector<float> token_by_token(const std::shared_ptr<Qwen3Model>& m,
                                  const std::vector<int32_t>& ids) {
  return test::token_by_token_logits(m, ids, KvType::F32, 2);
}

TEST(MoePresets, ReleasedShapes) {
  const Qwen3Config a3b = Qwen3Config::preset("30b-a3b");  // Qwen3-30B-A3B config.json
  EXPECT_EQ(a3b.arch, "qwen3moe");
  EXPECT_EQ(a3b.n_layers, 48);
  EXPECT_EQ(a3b.n_embd, 2048);
  EXPECT_EQ(a3b.n_head, 32);
  EXPECT_EQ(a3b.n_head_kv, 4);
  EXPECT_EQ(a3b.n_expert, 128);
  EXPECT_EQ(a3b.n_expert_used, 8);
  EXPECT_EQ(a3b.n_ff_exp, 768);
  EXPECT_FALSE(a3b.tied_embeddings);
  const Qwen3Config big = Qwen3Config::preset("235b-a22b");
  EXPECT_EQ(big.n_layers, 94);
  EXPECT_EQ(big.n_head, 64);
  EXPECT_EQ(big.n_ff_exp, 1536);
  const Qwen3Config tiny = Qwen3Config::preset("tiny-moe");
  EXPECT_EQ(tiny.n_expert, 8);
  EXPECT_EQ(tiny.n_expert_used, 2);
  EXPECT_TRUE(tiny.is_moe());
  EXPECT_FALSE(Qwen3Config::preset("8b").is_moe());
  EXPECT_EQ(Qwen3Config::preset("32b").n_layers, 64);
}

// --- the router --------------------------------------------------------------------

TEST(MoeRoute, TopKOfTheSoftmaxRenormalised) {
  std::mt19937_64 rng(9);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (int trial = 0; trial < 500; ++trial) {
    const int n_expert = trial % 2 ? 128 : 8, k = trial % 2 ? 8 : 2;
    const bool norm = trial % 3 != 0;
    std::vector<float> logits(static_cast<size_t>(n_expert));
    for (auto& l : logits) l = nd(rng);
    std::vector<int> idx(static_cast<size_t>(k));
    std::vector<float> w(static_cast<size_t>(k));
    moe_route(logits.data(), n_expert, k, norm, idx.data(), w.data());
    // Brute force in double: sort the probabilities, take k.
    double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
    std::vector<double> p(logits.size());
    for (size_t e = 0; e < p.size(); ++e) sum += p[e] = std::exp(logits[e] - mx);
    std::vector<int> order(p.size());
    for (size_t e = 0; e < p.size(); ++e) order[e] = static_cast<int>(e);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
    double top = 0;
    for (int j = 0; j < k; ++j) top += p[static_cast<size_t>(order[j])] / sum;
    for (int j = 0; j < k; ++j) {
      ASSERT_EQ(idx[j], order[j]) << "trial " << trial << " slot " << j;
      const double want = p[static_cast<size_t>(order[j])] / sum / (norm ? top : 1.0);
      EXPECT_NEAR(w[j], want, 1e-6) << "trial " << trial;
    }
  }
}

// --- forward pass vs the reference -------------------------------------------------

// Tolerances as forward_test's for the type. Quantized types quantize the activations to
// 8 bits (as llama.cpp does) and the reference does not. The router's top-k is a step
// function of its input: where two experts' probabilities nearly tie, that small
// difference picks the other expert at one position, and through attention every later
// position moves too, by far more than the quantization error. So for quantized types the
// reference comparison is made on single-token prompts (24 of them; at least 20 within
// the bound, the rest near-ties, and the RMS over all bounded), and the longer prompts
// check the cache and threading paths only; the whole-sequence comparison of quantized
// files is the llama.cpp cross-check (bench/moe_crosscheck.sh), whose activations are
// quantized the same way.
struct Case {
  const char* shape;
  const char* type;
  double max_tol, rms_tol, path_tol;
};

const Case kCases[] = {
    {"moe8", "f32", 1e-5, 1e-5, 1e-5},     {"moe8", "q8_0", 4e-2, 4e-2, 2e-2},
    {"moe8", "q4_k_m", 4e-2, 4e-2, 2e-2},  {"moe16", "f32", 1e-5, 1e-5, 1e-5},
    {"moe16", "q4_0", 4e-2, 4e-2, 2e-2},   {"moe16", "q4_k_m", 4e-2, 4e-2, 2e-2},
    {"tiny-moe", "f32", 1e-5, 1e-5, 1e-5}, {"tiny-moe", "q8_0", 4e-2, 4e-2, 2e-2},
};

class MoeForward : public ::testing::TestWithParam<Case> {};

TEST_P(MoeForward, MatchesReferenceAndCachePaths) {
  const Case tc = GetParam();
  const bool quant = std::string(tc.type) != "f32";
  const std::string& path = model_file(tc.shape, tc.type);
  auto model = load_model(path);
  ASSERT_TRUE(model->config().is_moe());
  const testing::RefModel ref = testing::load_reference(path);
  const int V = model->config().n_vocab;
  for (int n : {1, 9, 70}) {
    const auto ids = random_ids(n, V, 300 + n);
    const auto got = prefill(model, ids, 2);
    const double step_err = rel_error(token_by_token(model, ids), got);
    std::printf("  %-8s %-6s n=%-3d decode vs prefill %.1e", tc.shape, tc.type, n, step_err);
    EXPECT_LT(step_err, tc.path_tol) << "decode vs prefill, n=" << n;
    if (n == 70) {
      EXPECT_LT(rel_error(prefill(model, ids, 1), got), tc.path_tol) << "1 vs 2 threads";
    }
    if (quant) {
      std::printf("\n");
      continue;
    }
    const auto want = testing::reference_logits(ref, ids);
    const double err = rel_error(got, want), rms = rms_rel_error(got, want);
    std::printf(" | vs reference: max %.2e rms %.2e\n", err, rms);
    EXPECT_LT(err, tc.max_tol) << tc.shape << " " << tc.type << " n=" << n;
    EXPECT_LT(rms, tc.rms_tol) << tc.shape << " " << tc.type << " n=" << n;
  }
  if (!quant) return;
  const auto ids = random_ids(24, V, 77);
  std::vector<float> got, want;
  int ok = 0;
  for (int32_t id : ids) {
    const auto g = prefill(model, {id}, 2);
    const auto w = testing::reference_logits(ref, {id});
    ok += rel_error(g, w) < tc.max_tol;
    got.insert(got.end(), g.begin(), g.end());
    want.insert(want.end(), w.begin(), w.end());
  }
  const double rms = rms_rel_error(got, want);
  std::printf("  %-8s %-6s 24 single tokens vs reference: %d within %.0e, rms %.2e\n", tc.shape,
              tc.type, ok, tc.max_tol, rms);
  EXPECT_GE(ok, 20) << tc.shape << " " << tc.type;
  EXPECT_LT(rms, 0.1) << tc.shape << " " << tc.type;
}

INSTANTIATE_TEST_SUITE_P(Shapes, MoeForward, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string s = std::string(i.param.shape) + "_" + i.param.type;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// Experts copied into the rows8 layout (the default where memory allows) and experts
// read in place from the mapped file (QWEN3_EXPERT_REPACK_MB=0, what a machine short of
// memory gets) give the same logits.
TEST(MoeFile, ExpertsReadInPlaceGiveTheRepackedLogits) {
  for (const char* type : {"q4_k_m", "q4_0", "q8_0"}) {
    const std::string& path = model_file("moe16", type);
    auto repacked = load_model(path);
    ::setenv("QWEN3_EXPERT_REPACK_MB", "0", 1);
    auto in_place = load_model(path);
    ::unsetenv("QWEN3_EXPERT_REPACK_MB");
    EXPECT_TRUE(repacked->experts_repacked()) << type;
    EXPECT_FALSE(in_place->experts_repacked()) << type;
    const auto ids = random_ids(21, repacked->config().n_vocab, 5);
    const auto a = prefill(repacked, ids, 2), b = prefill(in_place, ids, 2);
    const double err = rel_error(a, b);
    std::printf("  moe16 %-6s repacked vs in place: %.2e\n", type, err);
    EXPECT_LT(err, 1e-5) << type;
    // The one-token path (each expert's rows split over the threads): single-token
    // prompts. A whole sequence fed token by token is not compared: where two experts'
    // router probabilities nearly tie, a last-bit difference picks the other expert at
    // one position and every later position moves (see the tolerances above).
    int same = 0;
    for (int32_t id : random_ids(24, repacked->config().n_vocab, 9))
      same += rel_error(prefill(repacked, {id}, 2), prefill(in_place, {id}, 2)) < 1e-5;
    EXPECT_GE(same, 22) << type;
  }
}

// Tokens of three sequences in one batch: the experts are grouped across sequences, and
// each sequence's logits still equal those of the sequence alone.
TEST(MoeBatch, MixedBatchEqualsEachSequenceAlone) {
  for (const char* type : {"q8_0", "f32"}) {
    auto model = load_model(model_file("moe8", type));
    const Qwen3Config& c = model->config();
    const int V = c.n_vocab;
    const int prompt[3] = {7, 3, 20};
    std::vector<std::vector<int32_t>> seqs;
    for (int s = 0; s < 3; ++s) seqs.push_back(random_ids(prompt[s] + 4, V, 70 + s));
    std::vector<std::unique_ptr<KvCache>> caches;
    for (int s = 0; s < 3; ++s)
      caches.push_back(
          std::make_unique<KvCache>(c.n_layers, c.n_head_kv, c.head_dim, 64, KvType::F32));
    KvSequence* ptrs[3] = {&caches[0]->seq(), &caches[1]->seq(), &caches[2]->seq()};
    BatchForward fwd(model, 64, 64, 2);
    std::vector<std::vector<float>> got(3);
    for (int s = 0; s < 3; ++s) got[s].resize(seqs[s].size() * static_cast<size_t>(V));
    int next[3] = {0, 0, 0};
    std::vector<float> logits(64 * static_cast<size_t>(V));
    // Step 1: all three prompts together; then 4 decode steps of all three.
    for (int step = 0; step < 5; ++step) {
      std::vector<BatchToken> batch;
      std::vector<std::pair<int, int>> rows;
      for (int s = 0; s < 3; ++s) {
        const int count = step == 0 ? prompt[s] : 1;
        for (int i = 0; i < count; ++i) {
          const int pos = next[s]++;
          batch.push_back({seqs[s][static_cast<size_t>(pos)], s, pos, true});
          rows.emplace_back(s, pos);
        }
      }
      fwd.forward(batch.data(), static_cast<int>(batch.size()), ptrs, 3, logits.data());
      for (size_t r = 0; r < rows.size(); ++r)
        std::copy_n(logits.data() + r * V, V,
                    got[rows[r].first].data() + static_cast<size_t>(rows[r].second) * V);
    }
    const bool quant = std::string(type) != "f32";
    for (int s = 0; s < 3; ++s) {
      InferenceContext ctx(model, 64, KvType::F32, 2);
      std::vector<float> solo(seqs[s].size() * static_cast<size_t>(V));
      ctx.eval(seqs[s].data(), prompt[s], solo.data(), true);
      for (size_t t = static_cast<size_t>(prompt[s]); t < seqs[s].size(); ++t)
        ctx.eval(&seqs[s][t], 1, solo.data() + t * V);
      const double err = rel_error(got[s], solo);
      std::printf("  %-5s sequence %d: batch vs alone %.1e\n", type, s, err);
      // Q8_0 experts take the rows8 layout, whose results do not depend on the batch.
      if (quant)
        EXPECT_EQ(err, 0.0) << type << " sequence " << s;
      else
        EXPECT_LT(err, 1e-5) << type << " sequence " << s;
    }
  }
}

// --- files: llama.cpp's keys, names and type mix -------------------------------------

TEST(MoeFile, LlamaCppKeysTensorsAndQ4KMMix) {
  const gguf::GgufFile f = gguf::GgufFile::open(model_file("moe8", "q4_k_m"));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3moe");
  EXPECT_EQ(f.get_uint("qwen3moe.expert_count"), 8u);
  EXPECT_EQ(f.get_uint("qwen3moe.expert_used_count"), 2u);
  EXPECT_EQ(f.get_uint("qwen3moe.expert_feed_forward_length"), 256u);
  EXPECT_EQ(f.get_uint("qwen3moe.block_count"), 2u);
  EXPECT_EQ(f.tensor("blk.0.ffn_gate.weight"), nullptr);
  const gguf::TensorInfo* up = f.tensor("blk.1.ffn_up_exps.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->dims, (std::vector<int64_t>{256, 256, 8}));
  auto type = [&](const std::string& n) { return f.tensor(n)->type; };
  // llama-quantize's Q4_K_M: router kept F32; 8 experts -> attn_k/attn_v Q8_0 and
  // attn_output Q5_K; ffn_down_exps Q6_K in the use_more_bits layers (1 of 2), else Q4_K.
  EXPECT_EQ(type("blk.0.ffn_gate_inp.weight"), GgmlType::F32);
  EXPECT_EQ(type("blk.0.attn_k.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type("blk.0.attn_v.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type("blk.0.attn_output.weight"), GgmlType::Q5_K);
  EXPECT_EQ(type("blk.0.attn_q.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type("blk.0.ffn_down_exps.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type("blk.1.ffn_down_exps.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type("blk.1.ffn_gate_exps.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type("token_embd.weight"), GgmlType::Q6_K);  // tied: the output
  // 16 experts: no 8-expert bump.
  const gguf::GgufFile g = gguf::GgufFile::open(model_file("moe16", "q4_k_m"));
  EXPECT_EQ(g.tensor("blk.0.attn_k.weight")->type, GgmlType::Q4_K);
  EXPECT_EQ(g.tensor("blk.0.attn_v.weight")->type, GgmlType::Q4_K);
  EXPECT_EQ(g.tensor("blk.2.attn_v.weight")->type, GgmlType::Q6_K);  // use_more_bits(2, 3)
  EXPECT_EQ(g.tensor("blk.0.attn_output.weight")->type, GgmlType::Q4_K);
  EXPECT_EQ(g.tensor("output.weight")->type, GgmlType::Q6_K);
}

TEST(MoeFile, BadMoeMetadataIsAClearError) {
  const std::string& path = model_file("tiny-moe", "f32");
  gguf::GgufFile f = gguf::GgufFile::open(path);
  const Qwen3Config c = Qwen3Config::from_gguf(f);
  EXPECT_EQ(c.n_expert, 8);
  EXPECT_EQ(c.n_expert_used, 2);
  EXPECT_EQ(c.n_ff_exp, 32);
  Qwen3Config bad = c;
  bad.n_expert_used = 9;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad = c;
  bad.arch = "qwen3";
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  // A qwen3moe config over a dense file: the expert tensors are missing, by name.
  Qwen3Config dense = Qwen3Config::preset("tiny");
  GenModelOptions o;
  o.config = dense;
  o.type = parse_gen_model_type("f32");
  const std::string dpath = std::string(QWEN3_BUILD_DIR) + "/moe_test_dense_tiny.gguf";
  generate_random_model(o, *real_tokenizer(), dpath);
  auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(dpath));
  Qwen3Config as_moe = Qwen3Config::from_gguf(*file);
  as_moe.arch = "qwen3moe";
  as_moe.n_expert = 8;
  as_moe.n_expert_used = 2;
  as_moe.n_ff_exp = 32;
  try {
    Qwen3Model::from_source(as_moe, real_tokenizer(), std::make_shared<GgufTensorSource>(file));
    ADD_FAILURE() << "loaded a dense file as MoE";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ffn_gate_inp"), std::string::npos) << e.what();
  }
}

// --- Hugging Face Qwen3MoeForCausalLM ------------------------------------------------

TEST(MoeHf, FolderGivesTheLogitsOfItsConvertedGguf) {
  const fs::path dir = fs::temp_directory_path() / ("qwen3_moe_hf_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  hf::HfModelConfig h = test::hf_shape({2, 256, 4, 2, 64, 512, 151936, 4096});
  h.architecture = "Qwen3MoeForCausalLM";
  h.tie_word_embeddings = false;
  h.num_experts = 8;
  h.num_experts_per_tok = 2;
  h.moe_intermediate_size = 256;
  h.norm_topk_prob = true;
  hf::RandomCheckpointOptions o;
  o.dtype = GgmlType::F32;
  o.n_shards = 3;
  o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  hf::write_random_hf_checkpoint((dir / "hf").string(), h, o);
  // The folder parses back as the same MoE shape.
  const hf::HfModelConfig back = hf::read_hf_config((dir / "hf").string());
  EXPECT_EQ(back.num_experts, 8);
  EXPECT_TRUE(back.norm_topk_prob);
  auto folder = Qwen3Model::load((dir / "hf").string());
  ASSERT_TRUE(folder->config().is_moe());
  const std::vector<int32_t> ids = {9707, 11, 1879, 0, 151644, 872, 198, 3838, 374, 220};
  const auto want = prefill(folder, ids, 2);
  for (const char* t : {"f32", "q8_0", "q4_k_m"}) {
    const std::string out = (dir / (std::string(t) + ".gguf")).string();
    hf::ConvertOptions co;
    co.target = *hf::parse_convert_target(t);
    hf::convert_hf_to_gguf((dir / "hf").string(), out, co);
    const gguf::GgufFile f = gguf::GgufFile::open(out);
    EXPECT_EQ(f.get_string("general.architecture"), "qwen3moe");
    ASSERT_NE(f.tensor("blk.1.ffn_down_exps.weight"), nullptr);
    EXPECT_EQ(f.tensor("blk.1.ffn_down_exps.weight")->dims, (std::vector<int64_t>{256, 256, 8}));
    EXPECT_EQ(f.tensor("blk.0.ffn_gate_inp.weight")->type, GgmlType::F32);
    auto conv = Qwen3Model::load(out);
    const auto got = prefill(conv, ids, 2);
    const double err = rel_error(got, want);
    std::printf("  folder vs converted %s: max rel %.2e\n", t, err);
    if (std::string(t) == "f32")
      EXPECT_EQ(err, 0.0) << "same F32 weights, same kernels";
    else
      EXPECT_LT(err, 0.5) << t << " (quantized; near-tie routing, see MoeForward)";
    if (std::string(t) == "q8_0") {  // quantize at load == the converted file
      ModelLoadOptions lo;
      lo.quantize = GgmlType::Q8_0;
      auto q = Qwen3Model::load((dir / "hf").string(), lo);
      EXPECT_EQ(rel_error(prefill(q, ids, 2), got), 0.0);
    }
  }
  fs::remove_all(dir);
}

// --- YaRN ------------------------------------------------------------------------------

TEST(Yarn, CorrectionDimsOfQwen3) {
  // Qwen3 (head_dim 128, theta 1e6, 32,768 native): ramp between dims 23 and 40.
  double d[2];
  Rope::yarn_corr_dims(128, 32768, 1e6, 32, 1, d);
  EXPECT_EQ(d[0], 23);
  EXPECT_EQ(d[1], 40);
}

TEST(Yarn, TableBeyond32768MatchesTransformersFormula) {
  Qwen3Config c = Qwen3Config::preset("8b");
  c.yarn_factor = 4.0f;
  c.yarn_orig_ctx = 32768;
  const Rope rope(c);
  double mscale = 0;
  const std::vector<double> freqs = testing::ref_rope_freqs(c, &mscale);
  EXPECT_NEAR(rope.mscale(), 1.0 + 0.1 * std::log(4.0), 1e-12);
  EXPECT_NEAR(mscale, rope.mscale(), 1e-12);
  std::vector<float> cs(64), sn(64);
  for (int64_t pos : {0, 1, 32767, 32768, 40000, 65536, 100003, 131071}) {
    rope.at(pos, cs.data(), sn.data());
    for (int i = 0; i < 64; ++i) {
      const double a = static_cast<double>(pos) * freqs[static_cast<size_t>(i)];
      ASSERT_NEAR(cs[static_cast<size_t>(i)], std::cos(a) * mscale, 2e-6) << pos << " " << i;
      ASSERT_NEAR(sn[static_cast<size_t>(i)], std::sin(a) * mscale, 2e-6) << pos << " " << i;
    }
  }
  // Without scaling: the plain table.
  const Rope plain(Qwen3Config::preset("8b"));
  EXPECT_EQ(plain.mscale(), 1.0);
  EXPECT_DOUBLE_EQ(plain.inv_freq(5), std::pow(1e6, -10.0 / 128));
  // The high-frequency dims keep their frequency, the low ones are divided by the factor.
  EXPECT_DOUBLE_EQ(rope.inv_freq(0), plain.inv_freq(0));
  EXPECT_DOUBLE_EQ(rope.inv_freq(63), plain.inv_freq(63) / 4);
}

TEST(Yarn, ModelLogitsMatchReferenceAndKeysRoundTrip) {
  // Dense and MoE with a YaRN factor over a small native context, so prompts reach past
  // it and the ramp covers real dimensions.
  for (const char* shape : {"dense", "moe8"}) {
    GenModelOptions o;
    o.config = std::string(shape) == "dense" ? Qwen3Config::tiny() : moe_config("moe8");
    if (std::string(shape) == "dense") {
      o.config.n_embd = 256;
      o.config.head_dim = 64;
      o.config.n_ff = 512;
      o.config.n_vocab = 1024;
    }
    o.config.n_ctx_train = 64;
    o.config.yarn_factor = 4.0f;
    o.config.yarn_orig_ctx = 64;
    o.type = parse_gen_model_type("f32");
    o.seed = 12;
    const std::string path = std::string(QWEN3_BUILD_DIR) + "/moe_test_yarn_" + shape + ".gguf";
    generate_random_model(o, *real_tokenizer(), path);
    auto model = load_model(path);
    EXPECT_TRUE(model->config().has_yarn());
    EXPECT_EQ(model->config().max_context(), 256);
    const testing::RefModel ref = testing::load_reference(path);
    const auto ids = random_ids(100, model->config().n_vocab, 4);
    InferenceContext ctx(model, 256, KvType::F32, 2);  // beyond the 64 native positions
    std::vector<float> got(ids.size() * static_cast<size_t>(model->config().n_vocab));
    ctx.eval(ids.data(), static_cast<int>(ids.size()), got.data(), true);
    const auto want = testing::reference_logits(ref, ids);
    const double err = rel_error(got, want);
    std::printf("  YaRN %s: max rel vs reference %.2e\n", shape, err);
    EXPECT_LT(err, 1e-5) << shape;
    // And the scaling matters: without it the logits differ.
    testing::RefModel plain = ref;
    plain.c.yarn_factor = 0;
    EXPECT_GT(rel_error(got, testing::reference_logits(plain, ids)), 1e-3) << shape;
    EXPECT_THROW(InferenceContext(model, 257), std::invalid_argument);
  }
}

}  // namespace
}  // namespace qwen3
