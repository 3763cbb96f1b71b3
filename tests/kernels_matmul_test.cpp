// matmul: the dispatched (AVX2, multi-threaded) product against the single-threaded
// scalar reference for every weight type over many random shapes, the reference
// against float math on dequantized weights (bounding the activation quantization),
// thread-count independence (also with a thread held up: the others take over its items),
// and errors for bad input.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

struct Problem {
  GgmlType type;
  int64_t rows, cols, n_tok;
  std::vector<uint8_t> w;
  std::vector<float> w_deq, x;
  WeightMatrix W() const { return {type, rows, cols, w.data()}; }
};

Problem make_problem(GgmlType t, int64_t rows, int64_t cols, int64_t n_tok, uint32_t seed) {
  Problem p{t, rows, cols, n_tok, {}, {}, {}};
  auto wf = testing::random_floats(static_cast<size_t>(rows * cols), seed, 0.05f);
  p.x = testing::random_floats(static_cast<size_t>(n_tok * cols), seed + 1000, 1.0f);
  // Outliers in X exercise the activation scales.
  std::mt19937 rng(seed);
  for (int k = 0; k < 3 && !p.x.empty(); ++k) p.x[rng() % p.x.size()] *= 20.f;
  const size_t rs = ggml_row_size(t, cols);
  p.w.resize(rs * rows);
  p.w_deq.resize(wf.size());
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(t, wf.data() + r * cols, p.w.data() + r * rs, cols);
    dequantize_row(t, p.w.data() + r * rs, p.w_deq.data() + r * cols, cols);
  }
  return p;
}

// |w|.|x| for each output: the scale of rounding errors in the dot product.
std::vector<double> abs_dots(const Problem& p) {
  std::vector<double> s(static_cast<size_t>(p.n_tok * p.rows));
  for (int64_t t = 0; t < p.n_tok; ++t)
    for (int64_t r = 0; r < p.rows; ++r) {
      double a = 0;
      for (int64_t c = 0; c < p.cols; ++c)
        a += std::fabs(static_cast<double>(p.w_deq[r * p.cols + c]) * p.x[t * p.cols + c]);
      s[t * p.rows + r] = a;
    }
  return s;
}

std::vector<float> run(const Problem& p, int threads) {
  ThreadPool pool(threads);
  std::vector<float> y(static_cast<size_t>(p.n_tok * p.rows), NAN);
  matmul(p.W(), p.x.data(), p.n_tok, y.data(), pool);
  return y;
}

std::vector<float> run_ref(const Problem& p) {
  std::vector<float> y(static_cast<size_t>(p.n_tok * p.rows), NAN);
  matmul_ref(p.W(), p.x.data(), p.n_tok, y.data());
  return y;
}

TEST(Matmul, FastMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(42);
  int cases = 0;
  for (GgmlType t : kTypes) {
    const int64_t bs = std::max<int64_t>(ggml_type_info(t).block_size, 1);
    for (int k = 0; k < 12; ++k) {
      const int64_t rows = 1 + rng() % 37;
      int64_t cols = bs == 1 ? 1 + rng() % 300 : bs * (1 + rng() % (bs == 256 ? 4 : 12));
      const int64_t n_tok = k < 4 ? 1 : 1 + rng() % 11;
      Problem p = make_problem(t, rows, cols, n_tok, 100 * k + static_cast<uint32_t>(t));
      const auto y = run(p, 2), y_ref = run_ref(p);
      const auto scale = abs_dots(p);
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], y_ref[i], 2e-6 * scale[i] + 1e-6)
            << ggml_type_info(t).name << " " << rows << "x" << cols << " tok " << n_tok << " i "
            << i;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 12 * 11);
}

TEST(Matmul, ReferenceMatchesDequantizedFloatMath) {
  for (GgmlType t : kTypes) {
    const int64_t bs = std::max<int64_t>(ggml_type_info(t).block_size, 32);
    Problem p = make_problem(t, 9, bs * 3, 5, 7 + static_cast<uint32_t>(t));
    const auto y_ref = run_ref(p);
    for (int64_t tk = 0; tk < p.n_tok; ++tk)
      for (int64_t r = 0; r < p.rows; ++r) {
        // Exact dot in double, and the bound of the 8-bit activation rounding:
        // each x moves by at most half a step (amax of its 32 or 256 block / 127 / 2).
        double exact = 0, bound = 0;
        const int64_t ab = ggml_type_info(t).block_size == 256 ? 256 : 32;
        for (int64_t c0 = 0; c0 < p.cols; c0 += ab) {
          double amax = 0, wsum = 0;
          for (int64_t c = c0; c < c0 + ab; ++c) {
            amax = std::max(amax, static_cast<double>(std::fabs(p.x[tk * p.cols + c])));
            wsum += std::fabs(p.w_deq[r * p.cols + c]);
            exact += static_cast<double>(p.w_deq[r * p.cols + c]) * p.x[tk * p.cols + c];
          }
          bound += wsum * amax / 127 / 2;
        }
        const bool float_act = ggml_type_info(t).block_size == 1;
        const double tol = float_act ? 1e-5 * (1 + std::fabs(exact)) : bound * 1.01 + 1e-5;
        ASSERT_NEAR(y_ref[tk * p.rows + r], exact, tol) << ggml_type_info(t).name;
      }
  }
}

TEST(Matmul, ThreadCountDoesNotChangeResults) {
  for (GgmlType t : kTypes) {
    const int64_t bs = std::max<int64_t>(ggml_type_info(t).block_size, 32);
    for (int64_t n_tok : {1, 6}) {
      Problem p = make_problem(t, 70, bs * 2, n_tok, 3);
      const auto y1 = run(p, 1), y2 = run(p, 2), y3 = run(p, 3);
      EXPECT_EQ(y1, y2) << ggml_type_info(t).name;
      EXPECT_EQ(y1, y3) << ggml_type_info(t).name;
    }
  }
}

TEST(Matmul, ForcedScalarIsTheReference) {
  testing::ScalarScope scalar;
  for (GgmlType t : kTypes) {
    Problem p = make_problem(t, 21, std::max<int64_t>(ggml_type_info(t).block_size, 32) * 2, 3, 5);
    EXPECT_EQ(run(p, 2), run_ref(p)) << ggml_type_info(t).name;
  }
}

TEST(Matmul, PrefillShapeMatchesReference) {
  // A prompt-sized product: many tokens, all micro-kernel tails (rows % 2, tokens % 4).
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::F16}) {
    Problem p = make_problem(t, 67, 512, 37, 11);
    const auto y = run(p, 2), y_ref = run_ref(p);
    const auto scale = abs_dots(p);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], y_ref[i], 2e-6 * scale[i] + 1e-6);
  }
}

TEST(Matmul, BadInputIsAClearError) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(4096);
  std::vector<float> x(512), y(512);
  EXPECT_THROW(matmul({GgmlType::Q4_0, 4, 33, w.data()}, x.data(), 1, y.data(), pool),
               std::invalid_argument);
  EXPECT_THROW(matmul({GgmlType::Q3_K, 1, 256, w.data()}, x.data(), 1, y.data(), pool),
               std::invalid_argument);
  EXPECT_THROW(matmul({GgmlType::F32, 0, 8, w.data()}, x.data(), 1, y.data(), pool),
               std::invalid_argument);
  EXPECT_THROW(matmul({GgmlType::F32, 2, 8, nullptr}, x.data(), 1, y.data(), pool),
               std::invalid_argument);
  EXPECT_NO_THROW(matmul({GgmlType::F32, 2, 8, w.data()}, x.data(), 0, y.data(), pool));
}

// MatmulExtra::row_align (the fused per-head work of the forward pass): the post ranges
// of every matrix start and end on whole heads, cover each matrix once, and the products
// are bit-identical to the unaligned plan's, on each level, for 1-3 threads and both
// layouts.
TEST(Matmul, RowAlignedItemsNeverSplitAHead) {
  std::mt19937 rng(9);
  std::vector<IsaLevel> levels = available_isas();
  int cases = 0;
  for (IsaLevel level : levels) {
    testing::IsaScope scope(level);
    for (int k = 0; k < 12; ++k) {
      const GgmlType t = k % 3 == 0 ? GgmlType::Q4_0 : k % 3 == 1 ? GgmlType::Q4_K : GgmlType::Q8_0;
      const int64_t hd = k % 2 == 0 ? 64 : 128;
      const int64_t cols = 256;
      const int n_mat = 1 + static_cast<int>(rng() % 3);
      const int threads = 1 + static_cast<int>(rng() % 3);
      const int64_t n_tok = 1 + static_cast<int64_t>(rng() % 8);
      const bool rows8 = k % 4 != 3 && rows8_type(t);
      ThreadPool pool(threads);
      std::vector<Problem> ps;
      std::vector<std::vector<uint8_t>> packed(static_cast<size_t>(n_mat));
      std::vector<WeightMatrix> Ws;
      for (int i = 0; i < n_mat; ++i) {
        const int64_t heads = 1 + static_cast<int64_t>(rng() % 20);
        ps.push_back(make_problem(t, heads * hd, cols, n_tok, 50 * k + static_cast<uint32_t>(i)));
        ps.back().x = ps[0].x;
        WeightMatrix W = ps.back().W();
        if (rows8) {
          packed[static_cast<size_t>(i)].resize(rows8_bytes(W));
          W = to_rows8(W, packed[static_cast<size_t>(i)].data(), pool);
        }
        Ws.push_back(W);
        EXPECT_EQ(matmul_item_rows(W, threads, hd) % hd, 0);
      }
      std::vector<std::vector<float>> plain(static_cast<size_t>(n_mat)), aligned = plain;
      std::vector<const WeightMatrix*> wp;
      std::vector<float*> yp, ya;
      for (int i = 0; i < n_mat; ++i) {
        plain[static_cast<size_t>(i)].assign(static_cast<size_t>(n_tok * Ws[i].rows), NAN);
        aligned[static_cast<size_t>(i)].assign(static_cast<size_t>(n_tok * Ws[i].rows), NAN);
        wp.push_back(&Ws[static_cast<size_t>(i)]);
        yp.push_back(plain[static_cast<size_t>(i)].data());
        ya.push_back(aligned[static_cast<size_t>(i)].data());
      }
      matmul_multi(wp.data(), yp.data(), n_mat, ps[0].x.data(), n_tok, pool);
      struct Seen {
        std::mutex m;
        std::vector<std::vector<int>> hits;
        int64_t hd = 0;
        bool split = false;
      } seen;
      for (int i = 0; i < n_mat; ++i) seen.hits.emplace_back(static_cast<size_t>(Ws[i].rows), 0);
      seen.hd = hd;
      MatmulExtra extra;
      extra.row_align = hd;
      extra.ctx = &seen;
      extra.post = [](void* ctx, int mat, int64_t r0, int64_t r1) {
        auto& s = *static_cast<Seen*>(ctx);
        std::lock_guard<std::mutex> lk(s.m);
        auto& h = s.hits[static_cast<size_t>(mat)];
        if (r0 % s.hd != 0 || (r1 % s.hd != 0 && r1 != static_cast<int64_t>(h.size())))
          s.split = true;
        for (int64_t r = r0; r < r1; ++r) ++h[static_cast<size_t>(r)];
      };
      matmul_multi(wp.data(), ya.data(), n_mat, ps[0].x.data(), n_tok, pool, extra);
      EXPECT_FALSE(seen.split) << isa_name(level) << " case " << k;
      for (int i = 0; i < n_mat; ++i) {
        for (int h : seen.hits[static_cast<size_t>(i)]) ASSERT_EQ(h, 1) << "case " << k;
        EXPECT_EQ(aligned[static_cast<size_t>(i)], plain[static_cast<size_t>(i)])
            << isa_name(level) << " case " << k << " matrix " << i;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 12 * static_cast<int>(levels.size()));
  // Rows8 items are whole groups of 8 rows: an alignment that is not is refused.
  Problem p = make_problem(GgmlType::Q4_0, 64, 256, 1, 1);
  ThreadPool pool(2);
  std::vector<uint8_t> packed(rows8_bytes(p.W()));
  const WeightMatrix W = to_rows8(p.W(), packed.data(), pool);
  const WeightMatrix* wp[] = {&W};
  std::vector<float> y(64);
  float* yp[] = {y.data()};
  MatmulExtra bad;
  bad.row_align = 12;
  EXPECT_THROW(matmul_multi(wp, yp, 1, p.x.data(), 1, pool, bad), std::invalid_argument);
}

// matmul_multi hands each piece of its pass a contiguous range of the matrices' items,
// and a thread with an empty range takes the back half of the fullest other one:
// with one thread held up (its first post call sleeps) the others take over its range,
// every row is posted exactly once, and the products equal the one-thread ones; also
// with more pieces than the ranges kept per call (70 threads).
TEST(Matmul, EveryItemRunsOnceWhenAThreadIsSlow) {
  const GgmlType t = GgmlType::Q4_0;
  Problem a = make_problem(t, 640, 256, 3, 21), b = make_problem(t, 384, 256, 3, 22);
  b.x = a.x;
  ThreadPool one(1);
  std::vector<uint8_t> pa(rows8_bytes(a.W())), pb(rows8_bytes(b.W()));
  const WeightMatrix Wa = to_rows8(a.W(), pa.data(), one), Wb = to_rows8(b.W(), pb.data(), one);
  const WeightMatrix* wp[] = {&Wa, &Wb};
  std::vector<float> ya1(3 * 640), yb1(3 * 384);
  float* y1[] = {ya1.data(), yb1.data()};
  matmul_multi(wp, y1, 2, a.x.data(), 3, one);
  for (int threads : {2, 3, 5, 70}) {
    ThreadPool pool(threads);
    struct Seen {
      std::mutex m;
      std::vector<int> hits[2];
      std::atomic<bool> slept{false};
    } seen;
    seen.hits[0].assign(640, 0);
    seen.hits[1].assign(384, 0);
    MatmulExtra extra;
    extra.ctx = &seen;
    extra.post = [](void* ctx, int mat, int64_t r0, int64_t r1) {
      auto& s = *static_cast<Seen*>(ctx);
      if (!s.slept.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::lock_guard<std::mutex> lk(s.m);
      for (int64_t r = r0; r < r1; ++r) ++s.hits[mat][static_cast<size_t>(r)];
    };
    std::vector<float> ya(3 * 640, NAN), yb(3 * 384, NAN);
    float* y[] = {ya.data(), yb.data()};
    matmul_multi(wp, y, 2, a.x.data(), 3, pool, extra);
    for (int m = 0; m < 2; ++m)
      for (int h : seen.hits[m]) ASSERT_EQ(h, 1) << threads << " threads, matrix " << m;
    EXPECT_EQ(ya, ya1) << threads;
    EXPECT_EQ(yb, yb1) << threads;
  }
}

TEST(ThreadPool, CoversTheRangeOnce) {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 3, 1000}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      pool.parallel_for(n, [&](int64_t b, int64_t e, int th) {
        EXPECT_GE(th, 0);
        EXPECT_LT(th, threads);
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int h : hits) ASSERT_EQ(h, 1);
    }
  }
  EXPECT_GE(ThreadPool(0).size(), 1);
  EXPECT_GE(physical_core_count(), 1);
}

}  // namespace
}  // namespace qwen3
