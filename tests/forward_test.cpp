// The engine's forward pass against the plain float reference (reference_forward.h) on
// small random models of every weight type; the KV-cache paths (token-by-token decode,
// truncate + re-eval) against one-shot prefill; 1 vs 2 threads; greedy generation.
//
// Tolerances (kTypes below): max|engine - reference| / max|reference| and the RMS
// equivalent over all logits of a prompt. F32/F16/BF16 weights keep float activations;
// the quantized types quantize the activations to 8-bit blocks as llama.cpp does, hence
// their larger bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "reference_forward.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

using test::load_model;
using test::random_ids;
using test::real_tokenizer;
using test::rel_error;
using test::rms_rel_error;

// Shapes every block format fits (rows of 256 and 512), vocabulary cut to 1024 rows.
Qwen3Config small_config() {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "forward-test";
  test::set_small_shape(c);
  return c;
}

std::string model_path(const std::string& type, const std::string& shape) {
  return std::string(QWEN3_BUILD_DIR) + "/forward_test_" + shape + "_" + type + ".gguf";
}

// Generates (once per process) the model of a type and shape.
const std::string& model_file(const std::string& type, bool tiny_preset = false) {
  static std::map<std::string, std::string> made;
  const std::string key = type + (tiny_preset ? "/tiny" : "/small");
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  GenModelOptions o;
  o.config = tiny_preset ? Qwen3Config::tiny() : small_config();
  o.type = parse_gen_model_type(type);
  o.seed = 7;
  const std::string path = model_path(type, tiny_preset ? "tiny" : "small");
  generate_random_model(o, *real_tokenizer(), path);
  return made.emplace(key, path).first->second;
}

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

constexpr auto& engine_prefill = test::prefill_logits;
constexpr auto& engine_token_by_token = test::token_by_token_logits;

struct TypeCase {
  const char* type;
  double max_tol;  // max|diff| / max|ref| vs the float reference (F32 KV cache)
  double rms_tol;  // rms(diff) / rms(ref)
  // Quantized types quantize activations to 8 bits, a step function: float-rounding
  // differences between the batch and the one-token kernels can flip a rounding and move
  // logits by up to ~1%, so cache-path comparisons get kPathTolQuant instead of 1e-5.
  bool quantized;
};

constexpr double kPathTolFloat = 1e-5;
constexpr double kPathTolQuant = 2e-2;

const TypeCase kTypes[] = {
    {"f32", 1e-5, 1e-5, false}, {"f16", 2e-3, 1e-3, false}, {"bf16", 2e-3, 1e-3, false},
    {"q8_0", 4e-2, 4e-2, true}, {"q4_0", 4e-2, 4e-2, true}, {"q4_1", 4e-2, 4e-2, true},
    {"q5_0", 4e-2, 4e-2, true}, {"q5_1", 4e-2, 4e-2, true}, {"q4_k", 4e-2, 4e-2, true},
    {"q5_k", 4e-2, 4e-2, true}, {"q6_k", 4e-2, 4e-2, true}, {"q4_k_m", 4e-2, 4e-2, true},
};

class ForwardByType : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ForwardByType, MatchesReferenceAndCachePaths) {
  const TypeCase tc = GetParam();
  const std::string& path = model_file(tc.type);
  auto model = load_model(path);
  const testing::RefModel ref = testing::load_reference(path);
  const int V = model->config().n_vocab;
  const double path_tol = tc.quantized ? kPathTolQuant : kPathTolFloat;
  for (int n : {1, 7, 70}) {
    const auto ids = random_ids(n, V, 100 + n);
    const auto want = testing::reference_logits(ref, ids);
    const auto got = engine_prefill(model, ids, KvType::F32, 2);
    ASSERT_TRUE(all_finite(got));
    const double err = rel_error(got, want), rms = rms_rel_error(got, want);
    // The KV-cache path: one token at a time gives the same logits as the batch.
    const auto step = engine_token_by_token(model, ids, KvType::F32, 2);
    const double step_err = rel_error(step, got);
    // F16 KV cache (the default) stays close to the reference too.
    const double f16_err = rel_error(engine_prefill(model, ids, KvType::F16, 2), want);
    std::printf(
        "  %-7s n=%-3d vs reference: max %.2e rms %.2e | decode vs prefill %.1e | "
        "F16 KV vs reference %.2e\n",
        tc.type, n, err, rms, step_err, f16_err);
    EXPECT_LT(err, tc.max_tol) << tc.type << " prompt of " << n;
    EXPECT_LT(rms, tc.rms_tol) << tc.type << " prompt of " << n;
    EXPECT_LT(step_err, path_tol) << tc.type << " decode vs prefill, n=" << n;
    EXPECT_LT(f16_err, tc.max_tol + 3e-3) << tc.type << " F16 KV, n=" << n;
    if (n == 70) {  // thread count: each output row is computed by one thread
      const auto one = engine_prefill(model, ids, KvType::F32, 1);
      EXPECT_LT(rel_error(one, got), path_tol) << tc.type << " 1 vs 2 threads";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ForwardByType, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<TypeCase>& i) {
                           return std::string(i.param.type);
                         });

TEST(Forward, TruncateThenEvalEqualsCold) {
  auto model = load_model(model_file("q4_0"));
  const int V = model->config().n_vocab;
  const auto a = random_ids(40, V, 1);
  auto b = a;
  for (size_t i = 20; i < b.size(); ++i) b[i] = (b[i] + 17) % V;
  InferenceContext warm(model, 128, KvType::F16, 2);
  std::vector<float> scratch(a.size() * static_cast<size_t>(V));
  warm.eval(a.data(), 40, scratch.data(), true);
  warm.truncate(20);
  EXPECT_EQ(warm.n_past(), 20);
  std::vector<float> reused(20 * static_cast<size_t>(V));
  warm.eval(b.data() + 20, 20, reused.data(), true);
  EXPECT_EQ(warm.n_past(), 40);

  InferenceContext cold(model, 128, KvType::F16, 2);
  std::vector<float> full(b.size() * static_cast<size_t>(V));
  cold.eval(b.data(), 40, full.data(), true);
  std::vector<float> tail(full.begin() + 20 * V, full.end());
  EXPECT_LT(rel_error(reused, tail), 1e-5);
  EXPECT_THROW(warm.truncate(41), std::out_of_range);
  EXPECT_THROW(warm.truncate(-1), std::out_of_range);
}

TEST(Forward, PromptLongerThanOneBatchMatchesReference) {
  const std::string& path = model_file("f32");
  auto model = load_model(path);
  const auto ids = random_ids(300, model->config().n_vocab, 3);
  const auto want = testing::reference_logits(testing::load_reference(path), ids, true);
  InferenceContext ctx(model, 512, KvType::F32, 2);
  std::vector<float> last(static_cast<size_t>(model->config().n_vocab));
  ctx.eval(ids.data(), 300, last.data());
  EXPECT_LT(rel_error(last, want), 1e-5);
}

TEST(Forward, ContextOverflowIsAClearError) {
  auto model = load_model(model_file("f32"));
  InferenceContext ctx(model, 16, KvType::F16, 1);
  const auto ids = random_ids(17, model->config().n_vocab, 5);
  std::vector<float> logits(static_cast<size_t>(model->config().n_vocab));
  try {
    ctx.eval(ids.data(), 17, logits.data());
    FAIL() << "no error";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ctx.n_past(), 0);
  ctx.eval(ids.data(), 10, logits.data());
  EXPECT_THROW(ctx.eval(ids.data(), 7, logits.data()), std::length_error);
  EXPECT_EQ(ctx.n_past(), 10);
  ctx.eval(ids.data(), 6, logits.data());
  EXPECT_EQ(ctx.n_past(), 16);
  EXPECT_THROW(InferenceContext(model, 513), std::invalid_argument);  // over the model max
}

TEST(Forward, BadTokenIdIsAnError) {
  auto model = load_model(model_file("f32"));
  InferenceContext ctx(model, 16, KvType::F16, 1);
  std::vector<float> logits(static_cast<size_t>(model->config().n_vocab));
  const int32_t bad[] = {5, 1024};
  EXPECT_THROW(ctx.eval(bad, 2, logits.data()), std::invalid_argument);
  const int32_t neg[] = {-1};
  EXPECT_THROW(ctx.eval(neg, 1, logits.data()), std::invalid_argument);
  EXPECT_EQ(ctx.n_past(), 0);
}

int argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

TEST(Forward, GreedyGenerationMatchesReferenceOnTinyF32) {
  const std::string& path = model_file("f32", /*tiny_preset=*/true);
  auto model = load_model(path);
  const testing::RefModel ref = testing::load_reference(path);
  const int V = model->config().n_vocab;
  std::vector<int32_t> ids = model->tokenizer().encode("<|im_start|>user\nHello there<|im_end|>\n");
  ASSERT_FALSE(ids.empty());
  std::vector<int32_t> ref_ids = ids;
  InferenceContext ctx(model, 128, KvType::F32, 2);
  std::vector<float> logits(static_cast<size_t>(V));
  ctx.eval(ids.data(), static_cast<int>(ids.size()), logits.data());
  for (int step = 0; step < 32; ++step) {
    const int32_t next = argmax(logits.data(), V);
    const auto want = testing::reference_logits(ref, ref_ids, true);
    const int32_t ref_next = argmax(want.data(), V);
    ASSERT_EQ(next, ref_next) << "step " << step;
    ids.push_back(next);
    ref_ids.push_back(ref_next);
    ctx.eval(&next, 1, logits.data());
  }
}

}  // namespace
}  // namespace qwen3
