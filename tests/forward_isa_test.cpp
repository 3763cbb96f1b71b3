// The whole forward pass on every ISA level this machine has (kernels/cpu_features.h):
// small random models of the types with per-level kernels, loaded under each level (so
// the repacking decision is the level's), prefill logits against the plain float
// reference, the same logits from 1 and 3 threads, the same logits for tokens fed 1 or
// 2-8 at a time (batched decode steps), and bit-identical logits across the SIMD levels
// (their kernels do the same integer sums and float steps per row). Levels the CPU lacks
// are skipped with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "kernels/cpu_features.h"
#include "kernels_test_util.h"
#include "model/gguf_tensor_source.h"
#include "model/qwen3_model.h"
#include "model_test_util.h"
#include "reference_forward.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

// Rows of 256 and 512 (every block format fits), 2 layers, vocabulary cut to 1024 rows.
std::string make_model(const std::string& type) {
  GenModelOptions o;
  o.config = Qwen3Config::tiny();
  o.config.name = "forward-isa-test";
  test::set_small_shape(o.config);
  o.type = parse_gen_model_type(type);
  o.seed = 11;
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/forward_isa_test_" + type + ".gguf";
  generate_random_model(o, *test::real_tokenizer(), path);
  return path;
}

// The same tokens fed `chunk` at a time (the 2-8 token products of batched decode
// steps), all logits kept.
std::vector<float> decode_chunks(const std::shared_ptr<Qwen3Model>& m,
                                 const std::vector<int32_t>& ids, int chunk, int threads) {
  InferenceContext ctx(m, 512, KvType::F32, threads);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  std::vector<float> logits(ids.size() * V);
  for (size_t t = 0; t < ids.size(); t += static_cast<size_t>(chunk)) {
    const int n = static_cast<int>(std::min(ids.size() - t, static_cast<size_t>(chunk)));
    ctx.eval(&ids[t], n, logits.data() + t * V, true);
  }
  return logits;
}

class ForwardByIsa : public ::testing::TestWithParam<const char*> {};

TEST_P(ForwardByIsa, EveryLevelMatchesReferenceAndTheOtherLevels) {
  const std::string type = GetParam();
  const std::string path = make_model(type);
  const testing::RefModel ref = testing::load_reference(path);
  std::mt19937_64 rng(5);
  std::vector<int32_t> ids(37);  // 4 sweeps of 8 tokens + a tail of 5
  for (auto& id : ids) id = static_cast<int32_t>(rng() % 1024);
  const auto want = testing::reference_logits(ref, ids);
  std::vector<float> simd_prefill, simd_decode, scalar_prefill;
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    auto model = test::load_model(path);
    const auto got = test::prefill_logits(model, ids, KvType::F32, 2);
    const double err = test::rel_error(got, want);
    std::printf("  %-7s %-8s vs reference: max rel %.2e\n", type.c_str(), isa_name(l), err);
    EXPECT_LT(err, 4e-2) << type << " " << isa_name(l);
    EXPECT_EQ(test::prefill_logits(model, ids, KvType::F32, 1), got)
        << type << " " << isa_name(l) << " 1 vs 2 threads";
    EXPECT_EQ(test::prefill_logits(model, ids, KvType::F32, 3), got)
        << type << " " << isa_name(l) << " 3 vs 2 threads";
    const std::vector<int32_t> head(ids.begin(), ids.begin() + 6);
    const auto dec = test::token_by_token_logits(model, head, KvType::F32, 2);
    // Tokens 2-8 at a time give each token the logits it gets alone (1 and 3 threads).
    const std::vector<int32_t> head9(ids.begin(), ids.begin() + 9);
    const auto dec9 = test::token_by_token_logits(model, head9, KvType::F32, 1);
    for (int chunk : {2, 3, 4, 8})
      for (int threads : {1, 3})
        EXPECT_EQ(decode_chunks(model, head9, chunk, threads), dec9)
            << type << " " << isa_name(l) << " " << chunk << " tokens at a time, " << threads
            << " threads";
    if (l == IsaLevel::Scalar) {
      scalar_prefill = got;
      continue;
    }
    // The NEON integer tiles and quantizers are bit-identical to the reference and the
    // other ops are the scalar ones on AArch64: only float weights may differ.
    if (l == IsaLevel::Neon && type != "f16" && type != "bf16") {
      EXPECT_EQ(got, scalar_prefill) << type << " neon prefill differs from scalar";
    }
    if (simd_prefill.empty()) {
      simd_prefill = got;
      simd_decode = dec;
    } else {
      const char* first = isa_name(testing::simd_levels()[0]);
      EXPECT_EQ(got, simd_prefill)
          << type << " " << isa_name(l) << " prefill differs from " << first;
      EXPECT_EQ(dec, simd_decode) << type << " " << isa_name(l) << " decode differs from " << first;
    }
  }
  const std::string skipped = testing::skipped_levels();
  if (!skipped.empty()) std::printf("  levels this CPU lacks, not tested: %s\n", skipped.c_str());
}

INSTANTIATE_TEST_SUITE_P(Types, ForwardByIsa,
                         ::testing::Values("q4_0", "q8_0", "q4_k_m", "q5_k", "q6_k", "q5_1", "f16",
                                           "bf16"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param);
                         });

}  // namespace
}  // namespace qwen3
