// BatchForward with tokens of several sequences at different positions in one batch
// (prompt chunks riding along with decode steps): every sequence's logits equal those of
// the same sequence run alone through InferenceContext (bitwise on the kernels we ship:
// each activation row is computed independently of the others) and match the plain float
// reference forward pass within the weight type's tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "model/batch_forward.h"
#include "model/gguf_tensor_source.h"
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

// A small model (rows of 256 and 512, 1024-token vocabulary) of weight type `type`.
std::string make_model(const std::string& type) {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "batch-forward-test";
  test::set_small_shape(c);
  GenModelOptions o;
  o.config = c;
  o.type = parse_gen_model_type(type);
  o.seed = 11;
  const std::string path = std::string(QWEN3_BUILD_DIR) + "/batch_forward_test_" + type + ".gguf";
  generate_random_model(o, *real_tokenizer(), path);
  return path;
}

// Logits of every position of `ids`, the first `prompt` tokens in one eval and the rest
// one token at a time (the single-sequence path).
std::vector<float> solo_logits(const std::shared_ptr<Qwen3Model>& m,
                               const std::vector<int32_t>& ids, int prompt, KvType kv) {
  InferenceContext ctx(m, 128, kv, 2);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  std::vector<float> out(ids.size() * V);
  ctx.eval(ids.data(), prompt, out.data(), true);
  for (size_t t = static_cast<size_t>(prompt); t < ids.size(); ++t)
    ctx.eval(&ids[t], 1, out.data() + t * V);
  return out;
}

struct TypeCase {
  const char* type;
  double ref_tol;  // max|diff| / max|ref| against the float reference
  KvType kv;       // F32 with F32 weights: nothing but float rounding left
};

class BatchForwardByType : public ::testing::TestWithParam<TypeCase> {};

TEST_P(BatchForwardByType, MixedBatchEqualsEachSequenceAlone) {
  const TypeCase tc = GetParam();
  const std::string path = make_model(tc.type);
  auto model = load_model(path);
  const testing::RefModel ref = testing::load_reference(path);
  const int V = model->config().n_vocab;
  // Three sequences: prompts of 5, 12 and 30 tokens, then 6 decoded tokens each.
  const int prompt_len[3] = {5, 12, 30};
  const int n_decode = 6;
  std::vector<std::vector<int32_t>> seqs;
  for (int s = 0; s < 3; ++s) seqs.push_back(random_ids(prompt_len[s] + n_decode, V, 40 + s));

  const int L = model->config().n_layers;
  const int H = model->config().n_head_kv, hd = model->config().head_dim;
  std::vector<std::unique_ptr<KvCache>> caches;
  for (int s = 0; s < 3; ++s) caches.push_back(std::make_unique<KvCache>(L, H, hd, 128, tc.kv));
  KvSequence* cache_ptrs[3] = {&caches[0]->seq(), &caches[1]->seq(), &caches[2]->seq()};
  BatchForward fwd(model, 64, 128, 2);

  // Per sequence, the next position to feed; a schedule of (sequence, count) steps in which
  // prompt chunks share batches with decode tokens of the other sequences.
  int next[3] = {0, 0, 0};
  std::vector<std::vector<float>> got(3);
  for (int s = 0; s < 3; ++s) got[s].resize(seqs[s].size() * static_cast<size_t>(V));
  const std::vector<std::vector<std::pair<int, int>>> schedule = {
      {{0, 5}, {1, 8}},           // A's whole prompt, B's first chunk
      {{1, 4}, {0, 1}, {2, 20}},  // B's rest, A decodes, C's first chunk
      {{2, 10}, {0, 1}, {1, 1}},  // C's rest with two decode steps
      {{0, 1}, {1, 1}, {2, 1}},  {{2, 1}, {1, 1}, {0, 1}}, {{0, 1}, {1, 1}, {2, 1}},
      {{1, 1}, {2, 1}},          {{2, 1}, {1, 1}, {0, 1}}, {{2, 1}}};
  std::vector<BatchToken> batch;
  std::vector<float> logits(64 * static_cast<size_t>(V));
  for (const auto& step : schedule) {
    batch.clear();
    std::vector<std::pair<int, int>> rows;  // (sequence, position) of each logits row
    for (auto [s, count] : step) {
      for (int i = 0; i < count; ++i) {
        const int pos = next[s]++;
        ASSERT_LT(pos, static_cast<int>(seqs[s].size())) << "schedule overruns sequence " << s;
        batch.push_back({seqs[s][static_cast<size_t>(pos)], s, pos, true});
        rows.emplace_back(s, pos);
      }
    }
    fwd.forward(batch.data(), static_cast<int>(batch.size()), cache_ptrs, 3, logits.data());
    for (size_t r = 0; r < rows.size(); ++r)
      std::copy_n(logits.data() + r * V, V,
                  got[rows[r].first].data() + static_cast<size_t>(rows[r].second) * V);
  }
  for (int s = 0; s < 3; ++s) ASSERT_EQ(next[s], static_cast<int>(seqs[s].size())) << s;

  for (int s = 0; s < 3; ++s) {
    const auto solo = solo_logits(model, seqs[s], prompt_len[s], tc.kv);
    const auto want = testing::reference_logits(ref, seqs[s]);
    const double solo_err = rel_error(got[s].data(), solo.data(), solo.size());
    const double ref_err = rel_error(got[s].data(), want.data(), want.size());
    std::printf("  %-6s sequence %d: batch vs alone %.1e, vs reference %.2e\n", tc.type, s,
                solo_err, ref_err);
    EXPECT_EQ(solo_err, 0.0) << tc.type << " sequence " << s << ": batch differs from alone";
    EXPECT_LT(ref_err, tc.ref_tol) << tc.type << " sequence " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, BatchForwardByType,
    ::testing::Values(TypeCase{"f32", 1e-5, KvType::F32}, TypeCase{"q4_0", 4e-2, KvType::F16},
                      TypeCase{"q8_0", 4e-2, KvType::F16}, TypeCase{"q4_k_m", 4e-2, KvType::F16}),
    [](const ::testing::TestParamInfo<TypeCase>& i) { return std::string(i.param.type); });

TEST(BatchForward, LogitsOnlyForFlaggedRowsAndBadInputsRejected) {
  auto model = load_model(make_model("q4_0"));
  const int V = model->config().n_vocab;
  const auto& c = model->config();
  KvCache a(c.n_layers, c.n_head_kv, c.head_dim, 16, KvType::F16);
  KvCache b(c.n_layers, c.n_head_kv, c.head_dim, 16, KvType::F16);
  KvSequence* caches[] = {&a.seq(), &b.seq()};
  BatchForward fwd(model, 8, 16, 1);
  std::vector<float> logits(2 * static_cast<size_t>(V), -1.0f);
  const BatchToken toks[] = {{1, 0, 0, false}, {2, 1, 0, true}, {3, 0, 1, true}};
  fwd.forward(toks, 3, caches, 2, logits.data());
  // Row 0 is sequence 1's token, row 1 sequence 0's second token.
  InferenceContext solo(model, 16, KvType::F16, 1);
  std::vector<float> want(static_cast<size_t>(V));
  const int32_t ab[] = {1, 3};
  solo.eval(ab, 2, want.data());
  EXPECT_EQ(rel_error(logits.data() + V, want.data(), static_cast<size_t>(V)), 0.0);

  const BatchToken bad_id[] = {{V, 0, 0, true}};
  EXPECT_THROW(fwd.forward(bad_id, 1, caches, 2, logits.data()), std::invalid_argument);
  const BatchToken bad_seq[] = {{1, 2, 0, true}};
  EXPECT_THROW(fwd.forward(bad_seq, 1, caches, 2, logits.data()), std::invalid_argument);
  const BatchToken bad_pos[] = {{1, 0, 16, true}};
  EXPECT_THROW(fwd.forward(bad_pos, 1, caches, 2, logits.data()), std::invalid_argument);
  std::vector<BatchToken> too_many(9, BatchToken{1, 0, 0, false});
  EXPECT_THROW(fwd.forward(too_many.data(), 9, caches, 2, logits.data()), std::invalid_argument);
}

// The per-token work between the matmuls runs on the pool from two tokens on (split by
// token, a different split for each thread count), on the calling thread for one: the
// logits of the same batches are bit for bit the same with 1, 2 and 3 threads, including
// batches where some rows want no logits (their output-norm rows are packed).
TEST(BatchForward, SameLogitsWithOneTwoAndThreeThreads) {
  auto model = load_model(make_model("q4_0"));
  const auto& c = model->config();
  const int V = c.n_vocab;
  const std::vector<int32_t> ids = random_ids(40, V, 77);
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2, 3}) {
    std::vector<std::unique_ptr<KvCache>> caches;
    for (int s = 0; s < 3; ++s)
      caches.push_back(
          std::make_unique<KvCache>(c.n_layers, c.n_head_kv, c.head_dim, 64, KvType::F16));
    KvSequence* seqs[3] = {&caches[0]->seq(), &caches[1]->seq(), &caches[2]->seq()};
    BatchForward fwd(model, 16, 64, threads);
    std::vector<float> all, logits(16 * static_cast<size_t>(V));
    int pos[3] = {0, 0, 0}, k = 0;
    // Batches of 1..7 tokens over the three sequences; every third token wants no logits.
    for (int n : {1, 2, 3, 4, 5, 7, 1, 3, 6, 2}) {
      std::vector<BatchToken> batch;
      int n_out = 0;
      for (int i = 0; i < n; ++i, ++k) {
        const int s = (k + i) % 3;
        const bool want = k % 3 != 2;
        batch.push_back({ids[static_cast<size_t>(k % 40)], s, pos[s]++, want});
        n_out += want ? 1 : 0;
      }
      fwd.forward(batch.data(), n, seqs, 3, logits.data());
      all.insert(all.end(), logits.begin(), logits.begin() + static_cast<long>(n_out) * V);
    }
    runs.push_back(std::move(all));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  ASSERT_EQ(runs[0].size(), runs[2].size());
  EXPECT_EQ(rel_error(runs[1].data(), runs[0].data(), runs[0].size()), 0.0) << "2 threads";
  EXPECT_EQ(rel_error(runs[2].data(), runs[0].data(), runs[0].size()), 0.0) << "3 threads";
}

// The work between the matmuls riding their passes (q/k norms, RoPE and cache stores per
// head after the Q/K/V matmul, SwiGLU after gate/up: the default) against separate
// per-token passes (set_fuse(false)): bit-identical logits over random tokens, positions
// and batch shapes, for 1, 2 and 3 threads, rows8 (q4_0, q4_k_m) and plain (f32) weights.
TEST(BatchForward, FusedPassesEqualSeparatePasses) {
  for (const char* type : {"q4_0", "q4_k_m", "f32"}) {
    auto model = load_model(make_model(type));
    const auto& c = model->config();
    const int V = c.n_vocab;
    for (int threads : {1, 2, 3}) {
      std::mt19937 rng(static_cast<unsigned>(threads) * 31u + 5u);
      std::vector<std::unique_ptr<KvCache>> caches;
      for (int s = 0; s < 6; ++s)
        caches.push_back(
            std::make_unique<KvCache>(c.n_layers, c.n_head_kv, c.head_dim, 64, KvType::F16));
      KvSequence* fused_seqs[3] = {&caches[0]->seq(), &caches[1]->seq(), &caches[2]->seq()};
      KvSequence* pass_seqs[3] = {&caches[3]->seq(), &caches[4]->seq(), &caches[5]->seq()};
      BatchForward fused(model, 8, 64, threads), passes(model, 8, 64, threads);
      passes.set_fuse(false);
      std::vector<float> a(8 * static_cast<size_t>(V)), b(a.size());
      int pos[3] = {0, 0, 0};
      for (int step = 0; step < 10; ++step) {
        const int n = 1 + static_cast<int>(rng() % 8);
        std::vector<BatchToken> batch;
        int n_out = 0;
        for (int i = 0; i < n; ++i) {
          const int s = static_cast<int>(rng() % 3);
          if (pos[s] >= 60) continue;
          const bool want = rng() % 4 != 0;
          batch.push_back(
              {static_cast<int32_t>(rng() % static_cast<unsigned>(V)), s, pos[s]++, want});
          n_out += want ? 1 : 0;
        }
        if (batch.empty()) continue;
        const int nb = static_cast<int>(batch.size());
        fused.forward(batch.data(), nb, fused_seqs, 3, a.data());
        passes.forward(batch.data(), nb, pass_seqs, 3, b.data());
        const size_t m = static_cast<size_t>(n_out) * V;
        ASSERT_EQ(rel_error(a.data(), b.data(), m), 0.0)
            << type << " threads " << threads << " step " << step << " batch " << nb;
      }
    }
  }
}

}  // namespace
}  // namespace qwen3
