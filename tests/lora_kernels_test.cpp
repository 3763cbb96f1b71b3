// The LoRA run-time kernels and their batching (model/lora_kernels.h, lora_apply.h):
// packing keeps exactly the adapter's values (F16 / BF16 only when exact, B transposed);
// the AVX2 and scalar kernels match a double-precision loop over many generated shapes
// and types; LoraBatch::apply (fused groups, items over the thread pool) matches the
// plain per-token, per-adapter formula y += scale * s * B (A x) for batches mixing runs
// with different sets, several adapters, zero scales, partial targets and tokens
// without adapters (left bit for bit untouched).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/thread_pool.h"
#include "model/lora_adapter.h"
#include "model/lora_apply.h"
#include "model/lora_kernels.h"

namespace qwen3 {
namespace {

std::vector<float> random_values(std::mt19937& rng, size_t n, GgmlType exact) {
  std::normal_distribution<float> d(0.0f, 0.5f);
  std::vector<float> v(n);
  for (float& f : v) {
    f = d(rng);
    if (exact == GgmlType::F16) f = fp16_to_fp32(fp32_to_fp16(f));
    if (exact == GgmlType::BF16) f = bf16_to_fp32(fp32_to_bf16(f));
  }
  return v;
}

LoraMatrices random_matrices(std::mt19937& rng, int rank, int in, int out, GgmlType exact) {
  LoraMatrices m;
  m.rank = rank;
  m.in = in;
  m.out = out;
  m.scale = 0.75f;
  m.a = random_values(rng, static_cast<size_t>(rank) * in, exact);
  m.b = random_values(rng, static_cast<size_t>(out) * rank, exact);
  // BF16 values of this size are F16 values too (8 of F16's 10 mantissa bits): one
  // below F16's range keeps the pair BF16.
  if (exact == GgmlType::BF16) m.a[0] = bf16_to_fp32(fp32_to_bf16(1e-9f));
  return m;
}

// The update of one adapter on one projection in double precision.
void naive_update(const LoraMatrices& m, float s, const float* x, int n, float* y) {
  for (int t = 0; t < n; ++t) {
    std::vector<double> ax(static_cast<size_t>(m.rank));
    for (int k = 0; k < m.rank; ++k) {
      double sum = 0;
      for (int i = 0; i < m.in; ++i)
        sum += static_cast<double>(m.a[static_cast<size_t>(k) * m.in + i]) * x[t * m.in + i];
      ax[static_cast<size_t>(k)] = s * sum;
    }
    for (int c = 0; c < m.out; ++c) {
      double sum = 0;
      for (int k = 0; k < m.rank; ++k)
        sum += ax[static_cast<size_t>(k)] * m.b[static_cast<size_t>(c) * m.rank + k];
      y[t * m.out + c] = static_cast<float>(y[t * m.out + c] + sum);
    }
  }
}

double max_rel(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 1e-6;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::fabs(static_cast<double>(got[i]) - want[i]));
    den = std::max(den, std::fabs(static_cast<double>(want[i])));
  }
  return num / den;
}

TEST(LoraKernels, PackingKeepsTheValuesExactly) {
  std::mt19937 rng(1);
  for (GgmlType exact : {GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
    const LoraMatrices m = random_matrices(rng, 3, 40, 24, exact);
    const LoraPacked p = pack_lora(m.a, m.b, m.rank, m.in, m.out);
    EXPECT_EQ(p.type, exact);
    const LoraView v = lora_view(p, m.a.data(), m.rank, m.in, m.out, m.scale);
    auto value = [&](const void* base, size_t i) {
      if (v.type == GgmlType::F16) return fp16_to_fp32(static_cast<const uint16_t*>(base)[i]);
      if (v.type == GgmlType::BF16) return bf16_to_fp32(static_cast<const uint16_t*>(base)[i]);
      return static_cast<const float*>(base)[i];
    };
    for (size_t i = 0; i < m.a.size(); ++i) ASSERT_EQ(value(v.a, i), m.a[i]);
    for (int c = 0; c < m.out; ++c)
      for (int k = 0; k < m.rank; ++k)
        ASSERT_EQ(value(v.bt, lora_bt_index(m.rank, k, c)),
                  m.b[static_cast<size_t>(c) * m.rank + k]);
  }
  // One value off the F16 grid (but on the BF16 one) makes the pair BF16; -0.0 stays F16.
  std::vector<float> a = {1.0f, -0.0f, 65536.0f * 4}, b = {0.5f, 0.25f, 2.0f};
  EXPECT_EQ(pack_lora(a, b, 1, 3, 3).type, GgmlType::BF16);
  a[2] = 3.0f;
  EXPECT_EQ(pack_lora(a, b, 1, 3, 3).type, GgmlType::F16);
  b[0] = 1.0f + 1e-7f;
  EXPECT_EQ(pack_lora(a, b, 1, 3, 3).type, GgmlType::F32);
}

TEST(LoraKernels, KernelsMatchDoublePrecision) {
  std::mt19937 rng(2);
  const std::vector<const LoraKernels*> kernels = {&lora_kernels_ref(), &lora_kernels()};
  for (int trial = 0; trial < 120; ++trial) {
    const GgmlType type = trial % 3 == 0   ? GgmlType::F32
                          : trial % 3 == 1 ? GgmlType::F16
                                           : GgmlType::BF16;
    const int rank = 1 + static_cast<int>(rng() % 20), in = 1 + static_cast<int>(rng() % 90),
              out = 1 + static_cast<int>(rng() % 150), n = 1 + static_cast<int>(rng() % 4);
    const LoraMatrices m = random_matrices(rng, rank, in, out, type);
    const LoraPacked p = pack_lora(m.a, m.b, rank, in, out);
    ASSERT_EQ(p.type, type);
    const LoraView v = lora_view(p, m.a.data(), rank, in, out, m.scale);
    const std::vector<float> x = random_values(rng, static_cast<size_t>(n) * in, GgmlType::F32);
    const std::vector<float> y0 = random_values(rng, static_cast<size_t>(n) * out, GgmlType::F32);
    const float s = -1.25f;
    std::vector<float> want = y0;
    naive_update(m, s, x.data(), n, want.data());
    for (const LoraKernels* k : kernels) {
      std::vector<float> ax(static_cast<size_t>(n) * rank, 0.0f), y = y0;
      // In two row ranges and three column ranges (at column blocks), as work items
      // split them.
      const int kh = rank / 2;
      const int ch = std::min(out, (out / 3 + kLoraCols - 1) / kLoraCols * kLoraCols);
      k->a(v, 0, kh, x.data(), n, in, s, ax.data(), rank);
      k->a(v, kh, rank, x.data(), n, in, s, ax.data(), rank);
      k->b(v, 0, ch, ax.data(), n, rank, y.data(), out);
      k->b(v, ch, std::min(out, 2 * ch), ax.data(), n, rank, y.data(), out);
      k->b(v, std::min(out, 2 * ch), out, ax.data(), n, rank, y.data(), out);
      ASSERT_LT(max_rel(y, want), 1e-5)
          << "trial " << trial << " rank " << rank << " in " << in << " out " << out << " n " << n;
    }
  }
}

// A made-up 3-layer shape: q 48 wide, k/v 16, o back to 32, gate/up 80, down to 32.
constexpr int kE = 32, kQ = 48, kKV = 16, kF = 80;
int in_of(LoraTarget t) {
  return t == LoraTarget::kO ? kQ : t == LoraTarget::kDown ? kF : kE;
}
int out_of(LoraTarget t) {
  switch (t) {
    case LoraTarget::kQ:
      return kQ;
    case LoraTarget::kK:
    case LoraTarget::kV:
      return kKV;
    case LoraTarget::kGate:
    case LoraTarget::kUp:
      return kF;
    default:
      return kE;
  }
}

std::shared_ptr<LoraAdapter> adapter(std::mt19937& rng, GgmlType type, int rank,
                                     const std::vector<LoraTarget>& targets) {
  auto a = std::make_shared<LoraAdapter>("test", "random");
  for (int l = 0; l < 3; ++l)
    for (LoraTarget t : targets)
      a->add(l, t, random_matrices(rng, rank, in_of(t), out_of(t), type));
  return a;
}

TEST(LoraKernels, BatchOfMixedSetsMatchesThePerTokenFormula) {
  std::mt19937 rng(3);
  const std::vector<LoraTarget> all = {LoraTarget::kQ,   LoraTarget::kK,    LoraTarget::kV,
                                       LoraTarget::kO,   LoraTarget::kGate, LoraTarget::kUp,
                                       LoraTarget::kDown};
  auto a1 = adapter(rng, GgmlType::F16, 16, all);
  auto a2 = adapter(rng, GgmlType::F32, 3, {LoraTarget::kK, LoraTarget::kUp, LoraTarget::kDown});
  auto a3 = adapter(rng, GgmlType::BF16, 8, {LoraTarget::kQ, LoraTarget::kO});
  LoraSet s1{{{a1, 1.0f}}};
  LoraSet s2{{{a1, 0.5f}, {a2, -1.5f}, {a3, 2.0f}}};
  LoraSet s3{{{a2, 0.0f}, {a3, 1.0f}}};  // a2 off
  LoraSet off{{{a1, 0.0f}}};
  // Tokens: 2 with s1, 1 base, 3 with s2, 1 off, 2 with s3, 1 with s1 again.
  const std::vector<const LoraSet*> tok = {&s1, &s1, nullptr, &s2, &s2, &s2, &off, &s3, &s3, &s1};
  const int n = static_cast<int>(tok.size());
  ThreadPool pool(2);
  struct Group {
    LoraGroup g;
    std::vector<LoraTarget> targets;
  };
  const std::vector<Group> groups = {
      {LoraGroup::kQkv, {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV}},
      {LoraGroup::kO, {LoraTarget::kO}},
      {LoraGroup::kGateUp, {LoraTarget::kGate, LoraTarget::kUp}},
      {LoraGroup::kDown, {LoraTarget::kDown}}};
  for (int layer = 0; layer < 4; ++layer)  // layer 3: past the adapters' layers
    for (const Group& g : groups) {
      const int in = in_of(g.targets[0]);
      const std::vector<float> x = random_values(rng, static_cast<size_t>(n) * in, GgmlType::F32);
      std::vector<std::vector<float>> y0, want;
      for (LoraTarget t : g.targets)
        y0.push_back(random_values(rng, static_cast<size_t>(n) * out_of(t), GgmlType::F32));
      want = y0;
      for (size_t i = 0; i < g.targets.size(); ++i) {
        const LoraTarget t = g.targets[i];
        for (int tk = 0; tk < n; ++tk) {
          if (!tok[static_cast<size_t>(tk)]) continue;
          for (const auto& e : tok[static_cast<size_t>(tk)]->entries) {
            const LoraMatrices* m = e.adapter->find(layer, t);
            if (!m || e.scale == 0.0f) continue;
            naive_update(*m, e.scale * m->scale, x.data() + static_cast<size_t>(tk) * in, 1,
                         want[i].data() + static_cast<size_t>(tk) * out_of(t));
          }
        }
      }
      for (int mode = 0; mode < 2; ++mode) {
        LoraBatch b;
        b.clear();
        for (const LoraSet* s : tok) b.add_token(s);
        ASSERT_TRUE(b.active());
        std::vector<std::vector<float>> y = y0;
        std::vector<float*> yp;
        std::vector<int> outs;
        for (size_t i = 0; i < g.targets.size(); ++i) {
          yp.push_back(y[i].data());
          outs.push_back(out_of(g.targets[i]));
        }
        if (mode == 0)
          b.apply(layer, g.g, x.data(), in, yp.data(), outs.data(), pool);
        else
          b.apply_ref(layer, g.g, x.data(), in, yp.data(), outs.data());
        for (size_t i = 0; i < g.targets.size(); ++i) {
          EXPECT_LT(max_rel(y[i], want[i]), 1e-5) << "layer " << layer << " mode " << mode;
          // Tokens without an active set are untouched, bit for bit.
          const int w = outs[i];
          for (int tk : {2, 6})
            for (int c = 0; c < w; ++c)
              ASSERT_EQ(y[i][static_cast<size_t>(tk) * w + c],
                        y0[i][static_cast<size_t>(tk) * w + c]);
        }
      }
    }
  // A batch with no active set does nothing.
  LoraBatch none;
  none.clear();
  none.add_token(&off);
  none.add_token(nullptr);
  EXPECT_FALSE(none.active());
}

}  // namespace
}  // namespace qwen3
