// Sampler vs a plain full-vocabulary reference over many random logit vectors; draw
// frequencies vs the distribution; penalties applied exactly; seeds reproduce.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace qwen3::engine {
namespace {

// The straightforward reference: every step over the whole vocabulary, in double.
std::vector<double> reference_distribution(std::vector<float> logits, const SamplerParams& p,
                                           const std::vector<int32_t>& history) {
  const int n = static_cast<int>(logits.size());
  if (p.penalty_last_n != 0) {
    std::map<int32_t, int> count;
    const size_t start = p.penalty_last_n < 0 || history.size() <= size_t(p.penalty_last_n)
                             ? 0
                             : history.size() - p.penalty_last_n;
    for (size_t i = start; i < history.size(); ++i) ++count[history[i]];
    for (auto [id, c] : count) {
      float& l = logits[id];
      l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
      l -= c * p.frequency_penalty + p.presence_penalty;
    }
  }
  std::vector<double> prob(n, 0.0);
  if (p.temperature <= 0 || p.top_k == 1) {
    prob[std::max_element(logits.begin(), logits.end()) - logits.begin()] = 1.0;
    return prob;
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  const int k = p.top_k > 0 ? std::min(p.top_k, n) : n;
  double z = 0;
  for (int r = 0; r < k; ++r) z += std::exp(double(logits[order[r]]) / p.temperature);
  std::vector<bool> in(n, false);
  double cum = 0;
  for (int r = 0; r < k; ++r) {
    const int id = order[r];
    prob[id] = std::exp(double(logits[id]) / p.temperature) / z;
    in[id] = true;
    cum += prob[id];
    if (p.top_p < 1.0f && cum >= p.top_p) break;
  }
  const double pmax = prob[order[0]];
  double kept = 0;
  for (int i = 0; i < n; ++i) {
    if (!in[i] || prob[i] < p.min_p * pmax) prob[i] = 0;
    kept += prob[i];
  }
  for (auto& x : prob) x /= kept;
  return prob;
}

std::vector<float> random_logits(std::mt19937_64& rng, int n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

SamplerParams random_params(std::mt19937_64& rng) {
  SamplerParams p;
  const float temps[] = {0.0f, 0.3f, 0.6f, 0.7f, 1.0f, 1.5f};
  const int ks[] = {0, 1, 2, 5, 20, 50, 100000};
  const float ps[] = {1.0f, 0.95f, 0.8f, 0.5f, 0.1f};
  const float mins[] = {0.0f, 0.0f, 0.05f, 0.2f};
  p.temperature = temps[rng() % 6];
  p.top_k = ks[rng() % 7];
  p.top_p = ps[rng() % 5];
  p.min_p = mins[rng() % 4];
  const float reps[] = {1.0f, 1.1f, 1.5f, 0.9f};
  p.repetition_penalty = reps[rng() % 4];
  p.presence_penalty = (rng() % 3) * 0.5f;
  p.frequency_penalty = (rng() % 3) * 0.25f;
  const int lasts[] = {0, 1, 8, 64, -1};
  p.penalty_last_n = lasts[rng() % 5];
  p.seed = rng();
  return p;
}

TEST(Sampler, DistributionMatchesReferenceOverManyRandomInputs) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 600; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 3000);
    const auto logits = random_logits(rng, n, 0.5f + (rng() % 8));
    const SamplerParams p = random_params(rng);
    std::vector<int32_t> history(rng() % 200);
    for (auto& t : history) t = static_cast<int32_t>(rng() % n);
    Sampler s(p);
    s.accept(history);
    const auto ref = reference_distribution(logits, p, history);
    const auto got = s.distribution(logits.data(), n);
    std::vector<double> dense(n, 0.0);
    double total = 0;
    for (auto [id, prob] : got) {
      ASSERT_GE(id, 0);
      ASSERT_LT(id, n);
      dense[id] = prob;
      total += prob;
    }
    ASSERT_NEAR(total, 1.0, 1e-5) << "trial " << trial;
    for (int i = 0; i < n; ++i)
      ASSERT_NEAR(dense[i], ref[i], 2e-6)
          << "trial " << trial << " id " << i << " n " << n << " T " << p.temperature << " k "
          << p.top_k << " p " << p.top_p << " min_p " << p.min_p;
    for (size_t i = 1; i < got.size(); ++i) ASSERT_GE(got[i - 1].second, got[i].second);
  }
}

TEST(Sampler, PenaltiesAppliedExactly) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 50 + static_cast<int>(rng() % 500);
    auto logits = random_logits(rng, n, 3.0f);
    SamplerParams p = random_params(rng);
    p.penalty_last_n = static_cast<int>(rng() % 40) - 1;
    std::vector<int32_t> history(rng() % 100);
    for (auto& t : history) t = static_cast<int32_t>(rng() % 30);  // many repeats
    Sampler s(p);
    s.accept(history);
    const auto got = s.penalized(logits.data(), n);
    // Expected, written out per token.
    for (int id = 0; id < n; ++id) {
      int c = 0;
      const int m = static_cast<int>(history.size());
      const int from = p.penalty_last_n < 0 ? 0 : std::max(0, m - p.penalty_last_n);
      for (int i = from; i < m; ++i) c += history[i] == id;
      float want = logits[id];
      if (c > 0) {
        want = want > 0 ? want / p.repetition_penalty : want * p.repetition_penalty;
        want = want - c * p.frequency_penalty - p.presence_penalty;
      }
      ASSERT_EQ(got[id], want) << "trial " << trial << " id " << id << " count " << c;
    }
  }
}

TEST(Sampler, DrawFrequenciesFollowTheDistribution) {
  std::mt19937_64 rng(99);
  const auto logits = random_logits(rng, 40, 1.5f);
  SamplerParams p;
  p.temperature = 0.8f;
  p.top_k = 12;
  p.top_p = 0.9f;
  p.min_p = 0.02f;
  p.seed = 42;
  Sampler s(p);
  const auto dist = s.distribution(logits.data(), 40);
  ASSERT_GT(dist.size(), 2u);
  const int draws = 200000;
  std::map<int32_t, int> hits;
  for (int i = 0; i < draws; ++i) ++hits[s.sample(logits.data(), 40)];
  double chi2 = 0;
  for (auto [id, prob] : dist) {
    const double expected = prob * draws;
    chi2 += (hits[id] - expected) * (hits[id] - expected) / expected;
    hits.erase(id);
  }
  EXPECT_TRUE(hits.empty()) << "drew a token outside the distribution";
  // 99.9% quantile of chi-square with <= 11 degrees of freedom is 31.3.
  EXPECT_LT(chi2, 31.3) << "support " << dist.size();
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::mt19937_64 rng(5);
  const auto logits = random_logits(rng, 1000, 2.0f);
  auto run = [&](uint64_t seed) {
    SamplerParams p;
    p.temperature = 1.0f;
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits.data(), 1000));
    return out;
  };
  EXPECT_EQ(run(17), run(17));
  EXPECT_NE(run(17), run(18));
}

// Vocabulary-sized inputs with many exact ties (logits on a coarse grid) and the winners
// placed at block boundaries, inside blocks and at the end: greedy is the first index of
// the maximum and top-k keeps the k best with ties to the lower id, as the reference.
TEST(Sampler, VocabularyScansKeepTheFirstOfTiedLogits) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    const int n = 151936 - static_cast<int>(rng() % 200);
    std::vector<float> logits(n);
    const float step = trial % 2 ? 0.25f : 1.0f;
    for (auto& x : logits) x = step * static_cast<float>(static_cast<int>(rng() % 40) - 30);
    const int peaks = 1 + static_cast<int>(rng() % 30);
    for (int j = 0; j < peaks; ++j) {
      const int at = j == 0 ? n - 1
                            : (rng() % 2 ? static_cast<int>(rng() % (n / 64)) * 64
                                         : static_cast<int>(rng() % n));
      logits[at] = step * static_cast<float>(10 + rng() % 3);
    }
    SamplerParams g;
    g.temperature = 0.0f;
    Sampler greedy(g);
    EXPECT_EQ(greedy.sample(logits.data(), n),
              std::max_element(logits.begin(), logits.end()) - logits.begin())
        << "trial " << trial;
    SamplerParams p;
    p.temperature = trial % 3 ? 0.7f : 1.0f;
    p.top_k = 1 + static_cast<int>(rng() % 40);
    p.top_p = 1.0f;
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return logits[a] > logits[b]; });
    Sampler s(p);
    const auto got = s.distribution(logits.data(), n);
    ASSERT_EQ(got.size(), static_cast<size_t>(p.top_k)) << "trial " << trial;
    for (int r = 0; r < p.top_k; ++r) ASSERT_EQ(got[r].first, order[r]) << "trial " << trial;
  }
}

TEST(Sampler, GreedyIsArgmaxAfterPenalties) {
  std::vector<float> logits = {1.0f, 5.0f, 4.9f, -2.0f};
  SamplerParams p;
  p.temperature = 0.0f;
  Sampler s(p);
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
  p.repetition_penalty = 1.1f;
  Sampler pen(p);
  pen.accept(1);  // 5.0 / 1.1 = 4.545 < 4.9
  EXPECT_EQ(pen.sample(logits.data(), 4), 2);
  SamplerParams k1;
  k1.temperature = 1.0f;
  k1.top_k = 1;
  Sampler s1(k1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s1.sample(logits.data(), 4), 1);
}

// logit_bias is added before penalties and sampling: -100 bans, a positive bias shifts the
// distribution exactly by exp(bias / T); the config carries it to the sampler.
TEST(Sampler, LogitBiasIsAddedBeforePenaltiesAndSampling) {
  std::vector<float> logits = {1.0f, 5.0f, 4.0f, -2.0f};
  SamplerParams p;
  p.temperature = 0.0f;
  p.logit_bias = {{1, -100.0f}};
  Sampler greedy(p);
  EXPECT_EQ(greedy.sample(logits.data(), 4), 2);
  p.logit_bias = {{3, 7.5f}, {99, 100.0f}};  // ids beyond the logits are ignored here
  Sampler up(p);
  EXPECT_EQ(up.sample(logits.data(), 4), 3);

  p.temperature = 2.0f;
  p.logit_bias = {{0, 2.0f}};
  Sampler s(p);
  const auto dist = s.distribution(logits.data(), 4);
  std::vector<double> want = {std::exp(3.0 / 2), std::exp(5.0 / 2), std::exp(4.0 / 2),
                              std::exp(-2.0 / 2)};
  double sum = want[0] + want[1] + want[2] + want[3];
  ASSERT_EQ(dist.size(), 4u);
  for (const auto& [id, prob] : dist) EXPECT_NEAR(prob, want[static_cast<size_t>(id)] / sum, 1e-6);

  // Penalties see the biased logit: (5 - 1) / 2 = 2 < 4.
  SamplerParams pen;
  pen.temperature = 0.0f;
  pen.repetition_penalty = 2.0f;
  pen.logit_bias = {{1, -1.0f}};
  Sampler sp(pen);
  sp.accept(1);
  EXPECT_EQ(sp.sample(logits.data(), 4), 2);

  GenerationConfig c;
  c.temperature = 0.0f;
  c.logit_bias = {{2, 50.0f}};
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(Sampler(SamplerParams::from(c)).sample(logits.data(), 4), 2);
  c.logit_bias = {{2, 100.5f}};
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.logit_bias = {{-1, 1.0f}};
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  std::vector<float> logits = {3.0f, 2.0f};
  SamplerParams p;
  p.presence_penalty = 2.0f;
  p.penalty_last_n = 2;
  Sampler s(p);
  s.accept(0);
  EXPECT_EQ(s.penalized(logits.data(), 2)[0], 1.0f);
  s.accept(1);
  s.accept(1);  // token 0 leaves the window of 2
  EXPECT_EQ(s.penalized(logits.data(), 2)[0], 3.0f);
  EXPECT_EQ(s.penalized(logits.data(), 2)[1], 0.0f);
}

TEST(Sampler, NonFiniteLogitsAreAnErrorNotACrash) {
  std::vector<float> logits(10, std::nanf(""));
  SamplerParams p;
  p.temperature = 1.0f;
  Sampler s(p);
  EXPECT_THROW(s.sample(logits.data(), 10), std::runtime_error);
  EXPECT_THROW(s.sample(logits.data(), 0), std::invalid_argument);
}

TEST(GenerationConfig, ModelCardDefaults) {
  const auto t = GenerationConfig::qwen3_defaults(true);
  EXPECT_FLOAT_EQ(*t.temperature, 0.6f);
  EXPECT_FLOAT_EQ(*t.top_p, 0.95f);
  EXPECT_EQ(*t.top_k, 20);
  EXPECT_FLOAT_EQ(*t.min_p, 0.0f);
  EXPECT_FALSE(t.is_greedy());
  const auto n = GenerationConfig::qwen3_defaults(false);
  EXPECT_FLOAT_EQ(*n.temperature, 0.7f);
  EXPECT_FLOAT_EQ(*n.top_p, 0.8f);
  EXPECT_EQ(*n.top_k, 20);

  GenerationConfig user;
  user.top_p = 0.5f;
  const auto r = user.resolved(true);
  EXPECT_FLOAT_EQ(*r.temperature, 0.6f);  // default for thinking
  EXPECT_FLOAT_EQ(*r.top_p, 0.5f);        // the user's value stays
  EXPECT_FLOAT_EQ(*user.resolved(false).temperature, 0.7f);
  const auto sp = SamplerParams::from(r);
  EXPECT_FALSE(sp.greedy());
}

TEST(GenerationConfig, ValidateRejectsBadValues) {
  auto bad = [](auto mutate) {
    GenerationConfig c;
    mutate(c);
    EXPECT_THROW(c.validate(), std::invalid_argument);
  };
  GenerationConfig ok;
  EXPECT_NO_THROW(ok.validate());
  bad([](GenerationConfig& c) { c.max_new_tokens = 0; });
  bad([](GenerationConfig& c) { c.temperature = -1.0f; });
  bad([](GenerationConfig& c) { c.temperature = std::nanf(""); });
  bad([](GenerationConfig& c) { c.top_k = -3; });
  bad([](GenerationConfig& c) { c.top_p = 0.0f; });
  bad([](GenerationConfig& c) { c.top_p = 1.5f; });
  bad([](GenerationConfig& c) { c.min_p = 2.0f; });
  bad([](GenerationConfig& c) { c.repetition_penalty = 0.0f; });
  bad([](GenerationConfig& c) { c.presence_penalty = 3.0f; });
  bad([](GenerationConfig& c) { c.frequency_penalty = -2.5f; });
  bad([](GenerationConfig& c) { c.penalty_last_n = -2; });
  bad([](GenerationConfig& c) { c.stop = {""}; });
}

}  // namespace
}  // namespace qwen3::engine
