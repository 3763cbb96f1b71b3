// The LoRA run-time kernels and their batching (model/lora_kernels.h, lora_apply.h):
// packing keeps exactly the adapter's values (F16 / BF16 only when exact, B transposed),
// in its own vectors or in an arena; the scalar, AVX2 and AVX-512 kernels match a
// double-precision loop over many generated shapes and types; LoraBatch::apply (fused groups, items
// over the thread pool) matches the plain per-token, per-adapter formula y += scale * s * B (A x)
// for batches mixing runs with different sets, several adapters, zero scales, partial targets and
// tokens without adapters (left bit for bit untouched); LoraBatch::matmul (the update riding the
// base matmul's pass of the pool) is bit for bit matmul_multi then apply, for 1, 2 and 3 threads,
// on quantized, rows8 and float base matrices; the B kernel gives the same bits whatever column
// ranges split it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
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
  LoraArena arena;
  for (int in_arena = 0; in_arena < 2; ++in_arena)
    for (GgmlType exact : {GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
      const LoraMatrices m = random_matrices(rng, 3, 40, 24, exact);
      const LoraPacked p =
          pack_lora(m.a, m.b, m.rank, m.in, m.out, false, in_arena ? &arena : nullptr);
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

// The scalar reference and the kernels of every SIMD level this CPU runs (AVX2 and
// AVX-512 on x86-64), each level once.
std::vector<const LoraKernels*> all_kernels() {
  std::vector<const LoraKernels*> ks = {&lora_kernels_ref()};
  for (IsaLevel l : available_isas())
    if (std::find(ks.begin(), ks.end(), &lora_kernels_at(l)) == ks.end())
      ks.push_back(&lora_kernels_at(l));
  return ks;
}

TEST(LoraKernels, KernelsMatchDoublePrecision) {
  std::mt19937 rng(2);
  const std::vector<const LoraKernels*> kernels = all_kernels();
  LoraArena arena;  // half the trials packed in huge pages, as adapters are
  for (int trial = 0; trial < 120; ++trial) {
    const GgmlType type = trial % 3 == 0   ? GgmlType::F32
                          : trial % 3 == 1 ? GgmlType::F16
                                           : GgmlType::BF16;
    // Every fourth trial as wide as a model's rows (the prefetching runs past row ends).
    const int rank = 1 + static_cast<int>(rng() % 20),
              in = 1 + static_cast<int>(rng() % (trial % 4 == 3 ? 1100 : 90)),
              out = 1 + static_cast<int>(rng() % (trial % 4 == 3 ? 600 : 150)),
              n = 1 + static_cast<int>(rng() % 4);
    const LoraMatrices m = random_matrices(rng, rank, in, out, type);
    const LoraPacked p = pack_lora(m.a, m.b, rank, in, out, false, trial % 2 ? &arena : nullptr);
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

// A model's projection widths: embedding, q, k/v, feed-forward.
struct Widths {
  int e, q, kv, f;
  int in(LoraTarget t) const { return t == LoraTarget::kO ? q : t == LoraTarget::kDown ? f : e; }
  int out(LoraTarget t) const {
    return t == LoraTarget::kQ                              ? q
           : t == LoraTarget::kK || t == LoraTarget::kV     ? kv
           : t == LoraTarget::kGate || t == LoraTarget::kUp ? f
                                                            : e;
  }
};
// A made-up 3-layer shape: q 48 wide, k/v 16, o back to 32, gate/up 80, down to 32.
constexpr Widths kSmall{32, 48, 16, 80};
// The fused path on real base matrices: E 64, q 128, k/v 32, gate/up 192.
constexpr Widths kReal{64, 128, 32, 192};
int in_of(LoraTarget t) {
  return kSmall.in(t);
}
int out_of(LoraTarget t) {
  return kSmall.out(t);
}

const std::vector<LoraTarget> kAllTargets = {LoraTarget::kQ,   LoraTarget::kK,    LoraTarget::kV,
                                             LoraTarget::kO,   LoraTarget::kGate, LoraTarget::kUp,
                                             LoraTarget::kDown};

// A random adapter on `targets` of layers 0..layers-1 of a model of widths w.
std::shared_ptr<LoraAdapter> adapter(std::mt19937& rng, GgmlType type, int rank,
                                     const std::vector<LoraTarget>& targets,
                                     const Widths& w = kSmall, int layers = 3) {
  auto a = std::make_shared<LoraAdapter>("test", "random");
  for (int l = 0; l < layers; ++l)
    for (LoraTarget t : targets) a->add(l, t, random_matrices(rng, rank, w.in(t), w.out(t), type));
  return a;
}

TEST(LoraKernels, BatchOfMixedSetsMatchesThePerTokenFormula) {
  std::mt19937 rng(3);
  const std::vector<LoraTarget>& all = kAllTargets;
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

TEST(LoraKernels, BKernelGivesTheSameBitsForAnyColumnRanges) {
  std::mt19937 rng(4);
  for (const LoraKernels* k : all_kernels())
    for (int trial = 0; trial < 30; ++trial) {
      const GgmlType type = trial % 3 == 0   ? GgmlType::F32
                            : trial % 3 == 1 ? GgmlType::F16
                                             : GgmlType::BF16;
      const int rank = 1 + static_cast<int>(rng() % 17), out = 1 + static_cast<int>(rng() % 140),
                n = 1 + static_cast<int>(rng() % 3);
      const LoraMatrices m = random_matrices(rng, rank, 8, out, type);
      const LoraPacked p = pack_lora(m.a, m.b, rank, 8, out);
      const LoraView v = lora_view(p, m.a.data(), rank, 8, out, m.scale);
      const std::vector<float> ax = random_values(rng, static_cast<size_t>(n) * rank, type);
      const std::vector<float> y0 = random_values(rng, static_cast<size_t>(n) * out, type);
      std::vector<float> whole = y0, split = y0;
      k->b(v, 0, out, ax.data(), n, rank, whole.data(), out);
      for (int c = 0; c < out;) {  // ranges of 1..40 columns, at any offset
        const int e = std::min(out, c + 1 + static_cast<int>(rng() % 40));
        k->b(v, c, e, ax.data(), n, rank, split.data(), out);
        c = e;
      }
      ASSERT_EQ(whole, split) << "trial " << trial;
    }
}

constexpr int kE2 = kReal.e, kQ2 = kReal.q;
int in2(LoraTarget t) {
  return kReal.in(t);
}
int out2(LoraTarget t) {
  return kReal.out(t);
}

struct Base {
  std::vector<uint8_t> plain, packed;
  WeightMatrix W;
};

// A random rows x cols matrix of type t (rows8 when the CPU prefers it, if `rows8`).
std::unique_ptr<Base> base_matrix(std::mt19937& rng, GgmlType t, int rows, int cols, bool rows8,
                                  ThreadPool& pool) {
  auto b = std::make_unique<Base>();
  const size_t rs = ggml_row_size(t, cols);
  b->plain.resize(rs * static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    const std::vector<float> v = random_values(rng, static_cast<size_t>(cols), GgmlType::F32);
    quantize_row(t, v.data(), b->plain.data() + rs * static_cast<size_t>(r), cols);
  }
  b->W = WeightMatrix{t, rows, cols, b->plain.data()};
  if (rows8 && prefers_rows8(b->W)) {
    b->packed.resize(rows8_bytes(b->W));
    b->W = to_rows8(b->W, b->packed.data(), pool);
  }
  return b;
}

TEST(LoraKernels, FusedMatmulIsTheBaseMatmulThenTheUpdate) {
  std::mt19937 rng(5);
  const std::vector<LoraTarget>& all = kAllTargets;
  auto make = [&](GgmlType type, int rank, const std::vector<LoraTarget>& targets) {
    return adapter(rng, type, rank, targets, kReal, 2);
  };
  auto a1 = make(GgmlType::F16, 16, all);
  auto a2 = make(GgmlType::F32, 3, {LoraTarget::kK, LoraTarget::kUp, LoraTarget::kDown});
  auto a3 = make(GgmlType::BF16, 8, {LoraTarget::kQ, LoraTarget::kO});
  auto a4 = make(GgmlType::F32, 16, all);
  LoraSet s1{{{a1, 1.0f}}};
  LoraSet s2{{{a1, 0.5f}, {a2, -1.5f}, {a3, 2.0f}}};
  LoraSet s4{{{a4, 1.0f}}};
  LoraSet off{{{a4, 0.0f}}};
  const std::vector<std::vector<const LoraSet*>> batches = {
      {&s4}, {&s1}, {&s1, &s1, nullptr, &s2, &s2, &s2, &off, &s4, &s4, &s1}, {&off, nullptr}};
  ThreadPool one(1);
  struct Group {
    LoraGroup g;
    std::vector<LoraTarget> targets;
    GgmlType type;
    bool rows8;
  };
  const std::vector<Group> groups = {
      {LoraGroup::kQkv, {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV}, GgmlType::Q4_0, true},
      {LoraGroup::kO, {LoraTarget::kO}, GgmlType::Q8_0, false},
      {LoraGroup::kGateUp, {LoraTarget::kGate, LoraTarget::kUp}, GgmlType::F32, false},
      {LoraGroup::kDown, {LoraTarget::kDown}, GgmlType::Q8_0, true}};
  for (const Group& g : groups) {
    std::vector<std::unique_ptr<Base>> mats;
    std::vector<const WeightMatrix*> W;
    for (LoraTarget t : g.targets) {
      mats.push_back(base_matrix(rng, g.type, out2(t), in2(t), g.rows8, one));
      W.push_back(&mats.back()->W);
    }
    const int nm = static_cast<int>(W.size()), in = in2(g.targets[0]);
    for (const auto& tok : batches)
      for (int layer = 0; layer < 3; ++layer) {  // layer 2: past the adapters' layers
        const int n = static_cast<int>(tok.size());
        const std::vector<float> x = random_values(rng, static_cast<size_t>(n) * in, GgmlType::F32);
        auto outputs = [&] {
          std::vector<std::vector<float>> y;
          for (LoraTarget t : g.targets) y.emplace_back(static_cast<size_t>(n) * out2(t), 7.0f);
          return y;
        };
        auto ptrs = [](std::vector<std::vector<float>>& y) {
          std::vector<float*> p;
          for (auto& v : y) p.push_back(v.data());
          return p;
        };
        LoraBatch b;
        b.clear();
        for (const LoraSet* s : tok) b.add_token(s);
        // The base alone and the update's reference.
        std::vector<std::vector<float>> base = outputs(), want;
        matmul_multi(W.data(), ptrs(base).data(), nm, x.data(), n, one);
        want = base;
        for (int i = 0; i < nm; ++i)
          for (int tk = 0; tk < n; ++tk) {
            const LoraSet* set = tok[static_cast<size_t>(tk)];
            if (!set) continue;
            for (const auto& e : set->entries) {
              const LoraMatrices* m = e.adapter->find(layer, g.targets[static_cast<size_t>(i)]);
              if (!m || e.scale == 0.0f) continue;
              naive_update(*m, e.scale * m->scale, x.data() + static_cast<size_t>(tk) * in, 1,
                           want[static_cast<size_t>(i)].data() +
                               static_cast<size_t>(tk) * out2(g.targets[static_cast<size_t>(i)]));
            }
          }
        std::vector<std::vector<float>> first;
        for (int threads = 1; threads <= 3; ++threads) {
          ThreadPool pool(threads);
          std::vector<std::vector<float>> fused = outputs(), twopass = outputs();
          b.matmul(layer, g.g, W.data(), ptrs(fused).data(), nm, x.data(), n, pool);
          matmul_multi(W.data(), ptrs(twopass).data(), nm, x.data(), n, pool);
          if (b.active()) {
            std::vector<int> outs;
            for (LoraTarget t : g.targets) outs.push_back(out2(t));
            b.apply(layer, g.g, x.data(), in, ptrs(twopass).data(), outs.data(), pool);
          }
          ASSERT_EQ(fused, twopass) << "threads " << threads << " layer " << layer;
          if (threads == 1)
            first = fused;
          else
            ASSERT_EQ(fused, first) << "threads " << threads;
          for (int i = 0; i < nm; ++i) {
            EXPECT_LT(max_rel(fused[static_cast<size_t>(i)], want[static_cast<size_t>(i)]), 1e-5);
            // Tokens without an active set (and layers past the adapters): the base's bits.
            const int w = out2(g.targets[static_cast<size_t>(i)]);
            for (int tk = 0; tk < n; ++tk) {
              const LoraSet* set = tok[static_cast<size_t>(tk)];
              if (set && set->active() && layer < 2) continue;
              for (int c = 0; c < w; ++c)
                ASSERT_EQ(fused[static_cast<size_t>(i)][static_cast<size_t>(tk) * w + c],
                          base[static_cast<size_t>(i)][static_cast<size_t>(tk) * w + c]);
            }
          }
        }
      }
  }
  // A wrong matrix count for the group is an error.
  LoraBatch b;
  b.clear();
  b.add_token(&s1);
  std::vector<float> x(kE2), y(kQ2);
  auto q = base_matrix(rng, GgmlType::F32, kQ2, kE2, false, one);
  const WeightMatrix* W[] = {&q->W};
  float* Y[] = {y.data()};
  EXPECT_THROW(b.matmul(0, LoraGroup::kQkv, W, Y, 1, x.data(), 1, one), std::invalid_argument);
}

TEST(LoraKernels, LossyF16IsOptInAndRoundsToTheNearestF16) {
  std::mt19937 rng(6);
  const LoraMatrices m = random_matrices(rng, 5, 40, 70, GgmlType::F32);
  EXPECT_EQ(pack_lora(m.a, m.b, 5, 40, 70).type, GgmlType::F32);  // the default: exact
  const LoraPacked p = pack_lora(m.a, m.b, 5, 40, 70, true);
  ASSERT_EQ(p.type, GgmlType::F16);
  for (size_t i = 0; i < m.a.size(); ++i) ASSERT_EQ(p.a16[i], fp32_to_fp16(m.a[i]));
  for (int c = 0; c < 70; ++c)
    for (int k = 0; k < 5; ++k)
      ASSERT_EQ(p.bt16[lora_bt_index(5, k, c)], fp32_to_fp16(m.b[static_cast<size_t>(c) * 5 + k]));
  // The update stays close to the exact one (F16 rounding: ~1e-3 relative).
  const LoraView v = lora_view(p, m.a.data(), 5, 40, 70, m.scale);
  const std::vector<float> x = random_values(rng, 40, GgmlType::F32);
  std::vector<float> want(70, 0.0f), got(70, 0.0f), ax(5);
  naive_update(m, 1.0f, x.data(), 1, want.data());
  lora_kernels().a(v, 0, 5, x.data(), 1, 40, 1.0f, ax.data(), 5);
  lora_kernels().b(v, 0, 70, ax.data(), 1, 5, got.data(), 70);
  EXPECT_LT(max_rel(got, want), 5e-3);
  EXPECT_GT(max_rel(got, want), 0.0);  // it is lossy
  // A value past F16's range keeps the pair exact.
  std::vector<float> big = m.a;
  big[3] = 1e6f;
  EXPECT_EQ(pack_lora(big, m.b, 5, 40, 70, true).type, GgmlType::F32);
  // The process-wide switch applies to adapters made while it is on, and only to them.
  set_lora_lossy_f16(true);
  LoraAdapter lossy("test", "random");
  lossy.add(0, LoraTarget::kQ, m);
  set_lora_lossy_f16(false);
  LoraAdapter exact("test", "random");
  exact.add(0, LoraTarget::kQ, m);
  LoraView lv, ev;
  ASSERT_TRUE(lossy.view(0, LoraTarget::kQ, &lv));
  ASSERT_TRUE(exact.view(0, LoraTarget::kQ, &ev));
  EXPECT_EQ(lv.type, GgmlType::F16);
  EXPECT_EQ(ev.type, GgmlType::F32);
  EXPECT_EQ(lossy.find(0, LoraTarget::kQ)->a, m.a);  // the F32 matrices are kept exact
  EXPECT_FALSE(lora_lossy_f16());
}

}  // namespace
}  // namespace qwen3
