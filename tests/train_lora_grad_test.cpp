// The LoRA training pass (src/train): its forward is the inference engine's model (the
// logits of every position equal InferenceContext's with the same adapter loaded as a
// LoraSet), and the gradient of every A and B matrix of all seven projections agrees with
// central finite differences of the loss, on a tiny random F32 model. The same for a tiny
// random mixture-of-experts model (8 experts, 2 chosen; adapters on q, k, v, o), with the
// chosen experts' weights normalised (norm_topk_prob, as every GGUF) and not: the gradient
// then runs through the experts and the router's softmax. The perturbations must not
// change any token's chosen experts (the loss jumps there): the test checks that every
// perturbed forward chose the same experts, and the smallest router margin.
//
// Tolerance of the finite differences: the loss is a sum of ~10 cross-entropies of about
// log(512) = 6.2 computed in float; its rounding noise is a few 1e-6 relative (~1e-5
// absolute). With a step of h = 1e-2 along a unit direction the noise adds ~1e-3 to a
// directional derivative of size ~1, and the O(h^2) truncation term is of the same order for these
// smooth functions, so derivatives must agree to 1e-3 absolute + 0.5% relative (observed: below
// 8e-4). A wrong backward (a missing term, a transposed factor) is off by tens of percent.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "model/gguf_tensor_source.h"
#include "model/lora_adapter.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "shape_util.h"
#include "text/tokenizer.h"
#include "train/lora_params.h"
#include "train/lora_train_step.h"
#include "train/transposed_weights.h"

namespace qwen3::train {
namespace {

Qwen3Config tiny_config() {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "train-test";
  test::set_shape(c, {2, 64, 4, 2, 16, 96, 512, 256});
  return c;
}

// The same shape as a mixture of experts: 8 experts of 32 rows, 2 chosen per token.
Qwen3Config tiny_moe_config() {
  Qwen3Config c = Qwen3Config::preset("tiny-moe");
  c.name = "train-test-moe";
  test::set_shape(c, {2, 64, 4, 2, 16, 96, 512, 256});
  return c;
}

enum class Base { kDense, kMoe, kMoeNoNorm };

std::shared_ptr<Qwen3Model> model_of(const std::string& type, Base base = Base::kDense) {
  GenModelOptions o;
  o.config = base == Base::kDense ? tiny_config() : tiny_moe_config();
  o.type = parse_gen_model_type(type);
  o.seed = 11;
  const std::string p = std::string(QWEN3_BUILD_DIR) + "/train_grad_test_" +
                        (base == Base::kDense ? "" : "moe_") + type + ".gguf";
  // ctest runs the tests of this file as parallel processes: each writes its own file and
  // renames it over the shared name (atomic), so no process reads a half-written model.
  const std::string mine = p + "." + std::to_string(::getpid());
  generate_random_model(o, *test::real_tokenizer(), mine);
  std::rename(mine.c_str(), p.c_str());
  if (base != Base::kMoeNoNorm) return test::load_model(p);
  // A GGUF always normalises (llama.cpp's qwen3moe); a Hugging Face config may say
  // norm_topk_prob false: the same weights with that config.
  auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(p));
  Qwen3Config c = Qwen3Config::from_gguf(*file);
  c.norm_topk_prob = false;
  return Qwen3Model::from_source(c, test::real_tokenizer(),
                                 std::make_shared<GgufTensorSource>(file));
}

const std::vector<LoraTarget>& all_targets() {
  static const std::vector<LoraTarget> t = {LoraTarget::kQ,   LoraTarget::kK,    LoraTarget::kV,
                                            LoraTarget::kO,   LoraTarget::kGate, LoraTarget::kUp,
                                            LoraTarget::kDown};
  return t;
}

// The targets a base takes: all seven, or the attention projections of a MoE base.
const std::vector<LoraTarget>& targets_of(const Qwen3Config& c) {
  static const std::vector<LoraTarget> attn = {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV,
                                               LoraTarget::kO};
  return c.is_moe() ? attn : all_targets();
}

// A fresh adapter with B made non-zero (a fresh B = 0 has A's gradient exactly 0).
LoraParams random_params(const Qwen3Config& c, int rank, uint64_t seed, float b_size) {
  LoraParams p = LoraParams::init(c, rank, 2.0f * rank, targets_of(c), seed);
  std::mt19937_64 rng(seed + 1);
  std::normal_distribution<float> nd(0.0f, b_size);
  for (auto& q : p.params())
    for (float& v : q.m.b) v = nd(rng);
  return p;
}

TrainSequence sequence(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  TrainSequence s;
  for (int i = 0; i < n; ++i) {
    s.ids.push_back(static_cast<int32_t>(rng() % 512));
    s.target.push_back(i >= n / 3 ? 1 : 0);
  }
  return s;
}

void expect_forward_is_the_inference_model(Base base) {
  for (const char* type : {"f32", "q8_0", "q4_0"}) {
    SCOPED_TRACE(type);
    auto m = model_of(type, base);
    ThreadPool pool(2);
    LoraTrainStep step(m, pool, /*build_transposes=*/false);
    LoraParams p = random_params(m->config(), 4, 3, 0.05f);
    const std::vector<int32_t> ids = sequence(20, 7).ids;
    for (bool with_adapter : {false, true}) {
      SCOPED_TRACE(with_adapter ? "adapter" : "base");
      const std::vector<float> got = step.logits(ids, with_adapter ? &p : nullptr);
      InferenceContext ctx(m, 64, KvType::F32, 2);
      if (with_adapter) {
        auto set = std::make_shared<LoraSet>();
        set->entries.push_back({p.to_adapter("trained"), 1.0f});
        ctx.set_lora(set);
      }
      std::vector<float> want(got.size());
      ctx.eval(ids.data(), static_cast<int>(ids.size()), want.data(), true);
      double md = 0, mr = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        md = std::max(md, std::fabs(static_cast<double>(got[i]) - want[i]));
        mr = std::max(mr, std::fabs(static_cast<double>(want[i])));
      }
      // Same kernels for every matmul; only the attention's summation order differs. With
      // quantized weights the activations are rounded to 8 bits before each matmul, so a
      // last-bit difference may move one value by a rounding step (1/127 of its block's
      // largest): a wrong model would be off by O(1), not by that.
      EXPECT_LT(md / mr, std::string(type) == "f32" ? 1e-5 : 2e-3) << md << " of " << mr;
    }
  }
}

TEST(TrainLora, ForwardIsTheInferenceModel) {
  expect_forward_is_the_inference_model(Base::kDense);
}

TEST(TrainLora, MoeForwardIsTheInferenceModel) {
  expect_forward_is_the_inference_model(Base::kMoe);
}

// A training step over the f32 tiny model with a pool of `threads`, and random LoRA
// parameters for it (random_params' rank, seed and scale), their gradients zeroed.
struct F32Step {
  F32Step(int threads, int rank, int seed, float scale, Base base = Base::kDense)
      : m(model_of("f32", base)), pool(threads), p(random_params(m->config(), rank, seed, scale)) {
    p.zero_grad();
  }
  std::shared_ptr<Qwen3Model> m;
  ThreadPool pool;
  LoraTrainStep step{m, pool};
  LoraParams p;
};

void expect_gradients_match_finite_differences(Base base) {
  F32Step f(2, 3, 5, 0.2f, base);
  auto& m = f.m;
  LoraTrainStep& step = f.step;
  LoraParams& p = f.p;
  // MoE: a sequence whose smallest router margin is 0.074 (both bases), against moves of
  // the margins by at most 0.014 under the perturbations below.
  const TrainSequence seq = sequence(14, m->config().is_moe() ? 18 : 9);
  const StepLoss base_loss = step.run(seq, &p, 1.0f);
  ASSERT_EQ(base_loss.n_tokens, seq.n_targets());
  ASSERT_GT(base_loss.loss_sum, 0.0);
  const bool moe = m->config().is_moe();
  // MoE: every perturbed forward must choose the experts this one chose.
  const std::vector<int> routes = step.routes();
  if (moe) {
    EXPECT_GT(step.router_margin(), 0.05f);
  }
  std::mt19937_64 rng(17);
  std::normal_distribution<double> nd(0.0, 1.0);
  const double h = 1e-2;
  int checked = 0;
  for (auto& q : p.params())
    for (int which = 0; which < 2; ++which) {
      SCOPED_TRACE("layer " + std::to_string(q.layer) + " " +
                   std::string(lora_target_peft_name(q.target)) + (which ? " B" : " A"));
      std::vector<float>& w = which ? q.m.b : q.m.a;
      const std::vector<float>& g = which ? q.gb : q.ga;
      std::vector<double> dir(w.size());
      double norm = 0;
      for (double& d : dir) {
        d = nd(rng);
        norm += d * d;
      }
      norm = std::sqrt(norm);
      double analytic = 0;
      for (size_t i = 0; i < w.size(); ++i) analytic += g[i] * (dir[i] /= norm);
      const std::vector<float> saved = w;
      for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(saved[i] + h * dir[i]);
      const double lp = step.loss(seq, &p).loss_sum;
      EXPECT_EQ(step.routes(), routes);
      for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(saved[i] - h * dir[i]);
      const double lm = step.loss(seq, &p).loss_sum;
      EXPECT_EQ(step.routes(), routes);
      w = saved;
      const double fd = (lp - lm) / (2 * h);
      EXPECT_NEAR(analytic, fd, 1e-3 + 0.005 * std::fabs(fd)) << "analytic " << analytic;
      ++checked;
    }
  EXPECT_EQ(checked, 2 * (moe ? 4 : 7) * m->config().n_layers);
}

TEST(TrainLora, GradientsMatchFiniteDifferences) {
  expect_gradients_match_finite_differences(Base::kDense);
}

TEST(TrainLora, MoeGradientsMatchFiniteDifferences) {
  expect_gradients_match_finite_differences(Base::kMoe);
}

TEST(TrainLora, MoeWithoutNormGradientsMatchFiniteDifferences) {
  expect_gradients_match_finite_differences(Base::kMoeNoNorm);
}

// Adapters on the experts are refused, as inference refuses them (LoraAdapter::check_base).
TEST(TrainLora, MoeExpertTargetsAreAClearError) {
  const Qwen3Config c = tiny_moe_config();
  for (LoraTarget t : {LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown}) {
    try {
      LoraParams::init(c, 2, 4.0f, {LoraTarget::kQ, t}, 1);
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string(lora_target_peft_name(t))), std::string::npos) << what;
      EXPECT_NE(what.find("experts of a mixture-of-experts model"), std::string::npos) << what;
    }
  }
}

TEST(TrainLora, GradientScaleAndAccumulation) {
  F32Step f(2, 2, 8, 0.1f);
  LoraTrainStep& step = f.step;
  LoraParams& p = f.p;
  const TrainSequence seq = sequence(10, 4);
  step.run(seq, &p, 1.0f);
  const std::vector<float> once = p.params()[3].ga;
  step.run(seq, &p, 0.5f);  // accumulates: 1.5x
  const std::vector<float>& twice = p.params()[3].ga;
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_NEAR(twice[i], 1.5f * once[i], 1e-5f + 1e-4f * std::fabs(once[i]));
}

// dx = W^T dy through the transposed copy, against the dequantized W in double: exact for
// F32, within Q8_0's rounding (1/254 of a block's largest per element) for quantized W,
// in the plain and the rows8 layout.
TEST(TrainLora, TransposedProductIsWTransposeTimesDy) {
  ThreadPool pool(2);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
  const int R = 96, C = 64, n = 5;
  std::vector<float> wf(static_cast<size_t>(R * C)), dy(static_cast<size_t>(n * R));
  for (float& v : wf) v = ud(rng);
  for (float& v : dy) v = ud(rng);
  for (GgmlType type : {GgmlType::F32, GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K}) {
    for (bool with_pool : {false, true}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(type)) + (with_pool ? " pool" : ""));
      const int cols = type == GgmlType::Q4_K ? 256 : C;  // Q4_K rows are 256-element blocks
      std::vector<float> src(static_cast<size_t>(R) * cols);
      for (float& v : src) v = ud(rng);
      const size_t rb = ggml_row_size(type, cols);
      std::vector<uint8_t> bytes(rb * R);
      for (int r = 0; r < R; ++r)
        quantize_row(type, src.data() + r * cols, bytes.data() + r * rb, cols);
      const WeightMatrix W{type, R, cols, bytes.data()};
      std::vector<float> deq(static_cast<size_t>(R) * cols);
      for (int r = 0; r < R; ++r) dequantize_matrix_row(W, r, deq.data() + r * cols);
      const TransposedMatrix T = transpose_matrix(W, with_pool ? &pool : nullptr);
      ASSERT_EQ(T.wt.rows, cols);
      ASSERT_EQ(T.wt.cols, R);
      std::vector<float> got(static_cast<size_t>(n) * cols);
      matmul(T.wt, dy.data(), n, got.data(), pool);
      double md = 0, mr = 0;
      for (int t = 0; t < n; ++t)
        for (int c = 0; c < cols; ++c) {
          double want = 0;
          for (int r = 0; r < R; ++r)
            want += static_cast<double>(deq[r * cols + c]) * dy[t * R + r];
          md = std::max(md, std::fabs(got[t * cols + c] - want));
          mr = std::max(mr, std::fabs(want));
        }
      EXPECT_LT(md / mr, type == GgmlType::F32 ? 1e-6 : 2e-2) << md << " of " << mr;
    }
    // The per-step F32 transpose (MoE experts): exactly the dequantized W, transposed, from
    // the plain and the rows8 layout (rows8_bytes is the plain size for Q4_0 / Q8_0).
    const int cols = type == GgmlType::Q4_K ? 256 : C;
    std::vector<float> src(static_cast<size_t>(R) * cols);
    for (float& v : src) v = ud(rng);
    const size_t rb = ggml_row_size(type, cols);
    std::vector<uint8_t> bytes(rb * R), packed(rb * R * 2);
    for (int r = 0; r < R; ++r)
      quantize_row(type, src.data() + r * cols, bytes.data() + r * rb, cols);
    const WeightMatrix W{type, R, cols, bytes.data()};
    std::vector<float> want(static_cast<size_t>(R) * cols), row(static_cast<size_t>(cols));
    for (int r = 0; r < R; ++r) {
      dequantize_matrix_row(W, r, row.data());
      for (int c = 0; c < cols; ++c) want[static_cast<size_t>(c) * R + r] = row[c];
    }
    std::vector<WeightMatrix> layouts = {W};
    if (rows8_type(type)) layouts.push_back(to_rows8(W, packed.data(), pool));
    for (const WeightMatrix& w : layouts) {
      std::vector<float> got(want.size(), -1.0f);
      transpose_f32(w, got.data(), pool);
      EXPECT_EQ(got, want) << (w.layout == WeightLayout::Rows8 ? "rows8" : "plain");
    }
  }
}

TEST(TrainLora, BadInputIsAClearError) {
  F32Step f(1, 2, 8, 0.1f);
  LoraTrainStep& step = f.step;
  LoraParams& p = f.p;
  TrainSequence s = sequence(5, 1);
  s.ids[2] = 100000;
  EXPECT_THROW(step.run(s, &p, 1.0f), std::invalid_argument);
  s = sequence(5, 1);
  s.target.pop_back();
  EXPECT_THROW(step.run(s, &p, 1.0f), std::invalid_argument);
  EXPECT_THROW(step.run(TrainSequence{}, &p, 1.0f), std::invalid_argument);
  EXPECT_THROW(LoraParams::init(f.m->config(), 0, 1.0f, all_targets(), 1), std::invalid_argument);
}

}  // namespace
}  // namespace qwen3::train
