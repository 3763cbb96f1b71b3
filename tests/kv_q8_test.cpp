// The q8_0 KV cache (model/kv_type.h) end to end on small random-weight models:
//   - the engine's guarantees hold with it: sequences run together in a BatchEngine get
//     exactly the logits InferenceContext gives each alone with a q8_0 cache, for 1, 2 and
//     3 threads; a prefix taken from the cache (whole blocks and a copied partial block)
//     gives the same logits as computing it; a preempted sequence recomputes to the same;
//   - it stays close to the f16 cache: logits of a prompt and of decoded tokens within a
//     bound measured on these models (with margin), and greedy decoding picks the same
//     tokens on short prompts.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "batch_test_util.h"
#include "convert/random_model.h"
#include "engine/batch_engine.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "shape_util.h"

namespace qwen3::engine {
namespace {

namespace fs = std::filesystem;

// Weights of `type`; head dim 32 (batch engine checks) or 64 (closeness).
std::shared_ptr<const Qwen3Model> model_of(const std::string& type, int head_dim) {
  const fs::path dir =
      fs::temp_directory_path() / ("qwen3_kv_q8_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string p = (dir / (type + "_" + std::to_string(head_dim) + ".gguf")).string();
  GenModelOptions o;
  o.config = Qwen3Config::tiny();
  o.config.name = "kv-q8-test";
  if (head_dim == 32)
    test::set_shape(o.config, {2, 128, 4, 2, 32, 256, 1024, 2048});
  else
    test::set_small_shape(o.config, 2048);
  o.type = parse_gen_model_type(type);
  o.seed = 21;
  generate_random_model(o, *test::real_tokenizer(), p);
  auto m = std::shared_ptr<const Qwen3Model>(test::load_model(p));
  fs::remove_all(dir);
  return m;
}

std::shared_ptr<const Qwen3Model> engine_model() {
  static const auto m = model_of("q4_0", 32);
  return m;
}

BatchEngineOptions q8_options(int max_seqs, int n_ctx, int max_batch_tokens, int threads) {
  BatchEngineOptions o;
  o.max_seqs = max_seqs;
  o.n_ctx = n_ctx;
  o.max_batch_tokens = max_batch_tokens;
  o.n_threads = threads;
  o.kv = KvType::Q8_0;
  return o;
}

TEST(KvQ8, ConcurrentSequencesGetTheirAloneLogitsForAnyThreadCount) {
  const int prompts[3] = {3, 40, 70};
  std::vector<std::vector<std::int32_t>> ids;
  for (int s = 0; s < 3; ++s) ids.push_back(test::random_ids(prompts[s] + 10, 1024, 70 + s));
  std::vector<std::vector<std::vector<float>>> want;
  for (int s = 0; s < 3; ++s)
    want.push_back(test::logits_alone(engine_model(), ids[static_cast<std::size_t>(s)], prompts[s],
                                      KvType::Q8_0, 2));
  for (int threads : {1, 2, 3}) {
    // Alone with this many threads: the same bits.
    EXPECT_EQ(test::logits_alone(engine_model(), ids[2], prompts[2], KvType::Q8_0, threads),
              want[2])
        << threads << " threads";
    BatchEngine e(engine_model(), q8_options(3, 512, 16, threads));
    std::vector<std::vector<std::vector<float>>> got(3);
    std::vector<std::thread> th;
    for (int s = 0; s < 3; ++s)
      th.emplace_back([&, s] {
        got[static_cast<std::size_t>(s)] =
            test::logits_on_engine(e, s, ids[static_cast<std::size_t>(s)], prompts[s]);
      });
    for (auto& t : th) t.join();
    for (int s = 0; s < 3; ++s)
      EXPECT_EQ(got[static_cast<std::size_t>(s)], want[static_cast<std::size_t>(s)])
          << "sequence " << s << ", " << threads << " threads";
    EXPECT_GT(e.stats().multi_seq_steps, 0u);
  }
}

TEST(KvQ8, PrefixHitsAndPreemptionGiveTheSameLogitsAsComputingAlone) {
  BatchEngine e(engine_model(), q8_options(2, 256, 16, 2));
  // A common 50-token prefix: three whole blocks adopted, 2 rows of the fourth copied
  // (quants and scales), then the same request again (everything but its last token).
  const auto sys = test::random_ids(50, 1024, 11);
  auto a = sys, b = sys;
  for (auto id : test::random_ids(20, 1024, 12)) a.push_back(id);
  for (auto id : test::random_ids(30, 1024, 13)) b.push_back(id);
  const auto want_a = test::logits_alone(engine_model(), a, 60, KvType::Q8_0, 2);
  const auto want_b = test::logits_alone(engine_model(), b, 70, KvType::Q8_0, 2);
  EXPECT_EQ(test::logits_on_engine(e, 0, a, 60), want_a);
  EXPECT_EQ(test::logits_on_engine(e, 1, b, 70), want_b);
  EXPECT_EQ(e.stats().prefix_hit_tokens, 50u);
  EXPECT_EQ(test::logits_on_engine(e, 0, b, 70), want_b);
  EXPECT_EQ(e.stats().prefix_hit_tokens, 50u + 69u);

  // A pool of three blocks: sequence 1 preempts paused sequence 0, which recomputes.
  BatchEngineOptions o = q8_options(2, 64, 8, 2);
  o.kv_size = 48;
  BatchEngine f(engine_model(), o);
  const auto ids = test::random_ids(64, 1024, 4);
  const std::size_t V = static_cast<std::size_t>(f.n_vocab());
  f.eval(0, ids.data(), 40);
  const float* l = f.eval(1, ids.data() + 1, 10);
  const std::vector<std::int32_t> ids1(ids.begin() + 1, ids.begin() + 11);
  EXPECT_EQ(std::vector<float>(l, l + V),
            test::logits_alone(engine_model(), ids1, 10, KvType::Q8_0, 2)[0]);
  l = f.eval(0, ids.data() + 40, 1);
  EXPECT_EQ(std::vector<float>(l, l + V),
            test::logits_alone(engine_model(), ids, 40, KvType::Q8_0, 2)[1]);
  EXPECT_EQ(f.stats().preemptions, 2u);
}

// max|a - b| over max|b| - min|b| of the f16 logits (the logit range).
double diff_over_range(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, lo = b[0], hi = b[0];
  for (std::size_t i = 0; i < b.size(); ++i) {
    d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
    lo = std::min(lo, static_cast<double>(b[i]));
    hi = std::max(hi, static_cast<double>(b[i]));
  }
  return d / (hi - lo);
}

std::vector<std::int32_t> greedy(const std::shared_ptr<const Qwen3Model>& m,
                                 const std::vector<std::int32_t>& prompt, int n, KvType kv) {
  InferenceContext ctx(m, 256, kv, 2);
  std::vector<float> l(static_cast<std::size_t>(m->config().n_vocab));
  ctx.eval(prompt.data(), static_cast<int>(prompt.size()), l.data());
  std::vector<std::int32_t> out;
  for (int i = 0; i < n; ++i) {
    const auto id = static_cast<std::int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    out.push_back(id);
    ctx.eval(&id, 1, l.data());
  }
  return out;
}

// The bound: max |logit diff| / logit range of q8_0 against f16, measured on these models
// (head dim 64, 3 prompts of 100 tokens then 20 decoded; printed below): 0.005 with f32
// weights, 0.016 with q8_0 weights (whose 8-bit activations amplify any change: there f16
// against f32 KV is already 0.007). 0.04 leaves margin for other seeds and kernels.
TEST(KvQ8, LogitsCloseToF16AndGreedyDecodingTheSame) {
  for (const char* type : {"f32", "q8_0"}) {
    const auto m = model_of(type, 64);
    double worst = 0;
    for (int p = 0; p < 3; ++p) {
      const auto ids = test::random_ids(120, 1024, 90 + static_cast<std::uint64_t>(p));
      const auto f16 = test::logits_alone(m, ids, 100, KvType::F16, 2);
      const auto q8 = test::logits_alone(m, ids, 100, KvType::Q8_0, 2);
      for (std::size_t i = 0; i < f16.size(); ++i) {
        const double e = diff_over_range(q8[i], f16[i]);
        worst = std::max(worst, e);
        EXPECT_LT(e, 0.04) << type << " prompt " << p << " step " << i;
      }
      const auto f32 = test::logits_alone(m, ids, 100, KvType::F32, 2);
      if (p == 0)
        std::printf("  %-5s weights: q8_0 vs f16 KV %.4f, f16 vs f32 KV %.4f of the logit range\n",
                    type, diff_over_range(q8[0], f16[0]), diff_over_range(f16[0], f32[0]));
    }
    std::printf("  %-5s weights: worst q8_0 vs f16 over 3 prompts x 21 steps: %.4f\n", type, worst);
    for (int p = 0; p < 4; ++p) {
      const auto prompt = test::random_ids(12, 1024, 200 + static_cast<std::uint64_t>(p));
      EXPECT_EQ(greedy(m, prompt, 8, KvType::Q8_0), greedy(m, prompt, 8, KvType::F16))
          << type << " prompt " << p;
    }
  }
}

}  // namespace
}  // namespace qwen3::engine
