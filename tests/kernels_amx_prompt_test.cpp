// The amx prompt path (kernels_amx.h, packed activations): a matmul_multi call of 16 or more tokens
// packs each activation format once into A-tile order and every matrix of that format
// reads the one copy (Q4_K, Q5_K and Q6_K share the Q8_K copy; Q4_0 and Q8_0 the ActQ8
// one). Its outputs must equal the avx512 kernels' byte for byte for any token count,
// thread count and mix of matrices, also when the rows are written by MatmulExtra::prep
// inside the pass; and the direct rows8 kernel (which packs into its own buffer) and the
// packed entry point must give the same bytes. Skipped without AMX. Also the avx512
// activation quantizer that feeds it, against the reference for any block count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels_test_util.h"

#if defined(__x86_64__)
#include "kernels/kernels_amx.h"
#endif

namespace qwen3 {
namespace {

std::string_view name(GgmlType t) {
  return ggml_type_info(t).name;
}

// Row t of X written by the pass itself, as the forward pass's RMS norm does.
struct PrepRows {
  const float* src;
  float* dst;
  int64_t cols;
};

// Each matrix alone on avx512 against all of them in one matmul_multi call on amx.
void expect_multi_equals_avx512(const std::vector<GgmlType>& types, int64_t cols, int64_t n_tok,
                                int threads, bool prep, uint32_t seed) {
  std::vector<testing::RandomMatmul> ps;
  for (size_t i = 0; i < types.size(); ++i)
    ps.push_back(testing::random_matmul(types[i], 8 * static_cast<int64_t>(3 + 2 * i), cols, n_tok,
                                        seed + static_cast<uint32_t>(i)));
  const std::vector<float>& x = ps[0].x;
  ThreadPool pool(threads);
  std::vector<std::vector<float>> want, got;
  for (const auto& p : ps) {
    want.emplace_back(static_cast<size_t>(n_tok * p.P.rows), NAN);
    got.emplace_back(static_cast<size_t>(n_tok * p.P.rows), NAN);
  }
  {
    testing::IsaScope scope(IsaLevel::Avx512);
    for (size_t i = 0; i < ps.size(); ++i) matmul(ps[i].P, x.data(), n_tok, want[i].data(), pool);
  }
  std::vector<const WeightMatrix*> wp;
  std::vector<float*> yp;
  for (size_t i = 0; i < ps.size(); ++i) {
    wp.push_back(&ps[i].P);
    yp.push_back(got[i].data());
  }
  std::vector<float> xin = prep ? std::vector<float>(x.size(), NAN) : x;
  PrepRows rows{x.data(), xin.data(), cols};
  MatmulExtra extra;
  if (prep) {
    extra.prep_ctx = &rows;
    extra.prep = [](void* ctx, int64_t t) {
      auto& r = *static_cast<PrepRows*>(ctx);
      std::memcpy(r.dst + t * r.cols, r.src + t * r.cols, sizeof(float) * r.cols);
    };
  }
  {
    testing::IsaScope scope(IsaLevel::Amx);
    matmul_multi(wp.data(), yp.data(), static_cast<int>(ps.size()), xin.data(), n_tok, pool, extra);
  }
  for (size_t i = 0; i < ps.size(); ++i)
    ASSERT_EQ(0, std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)))
        << name(types[i]) << " matrix " << i << " of " << ps.size() << ", " << cols << " cols, "
        << n_tok << " tokens, " << threads << " threads" << (prep ? ", prep" : "");
}

TEST(AmxPrompt, MixedMatricesShareOnePackedCopy) {
  if (!cpu_has(IsaLevel::Amx))
    GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8 tiles: " << cpu_flags_string();
  int cases = 0;
  const std::vector<std::vector<GgmlType>> k_mixes = {
      {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K},
      {GgmlType::Q6_K, GgmlType::Q4_K},
  };
  const std::vector<std::vector<GgmlType>> legacy_mixes = {
      {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_0},
      {GgmlType::Q8_0, GgmlType::Q4_0},
  };
  for (int64_t n_tok : {16, 17, 32, 45, 70}) {
    for (int threads : {1, 2, 3}) {
      const bool prep = (n_tok + threads) % 2 == 0;
      const uint32_t seed = 300 + static_cast<uint32_t>(n_tok * 7 + threads);
      for (const auto& m : k_mixes) {
        expect_multi_equals_avx512(m, 3 * 256, n_tok, threads, prep, seed);
        ++cases;
      }
      for (const auto& m : legacy_mixes) {
        expect_multi_equals_avx512(m, 37 * 32, n_tok, threads, !prep, seed);
        ++cases;
      }
      // A Q8_K and an ActQ8 format in one call: two packed copies.
      expect_multi_equals_avx512({GgmlType::Q4_K, GgmlType::Q8_0}, 2 * 256, n_tok, threads, prep,
                                 seed);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 5 * 3 * 5);
}

// The activations of a prompt chunk come from the avx512 quantizer (the amx table uses
// it): byte-identical to the reference for any block count (16 blocks are reduced side by
// side, the rest one by one), with zero blocks, ties, outliers and both signs of the
// largest magnitude.
TEST(AmxPrompt, ActivationQuantizerMatchesReferenceForAnyBlockCount) {
  if (!cpu_has(IsaLevel::Avx512))
    GTEST_SKIP() << "this CPU (or OS) has no AVX-512: " << cpu_flags_string();
  const detail::IsaKernels& k = detail::isa_kernels(IsaLevel::Avx512);
  int cases = 0;
  for (int64_t blocks : {1, 15, 16, 17, 32, 35, 48, 96}) {
    const int64_t n = 32 * blocks;
    auto x = testing::random_floats(static_cast<size_t>(n), 41 + static_cast<uint32_t>(blocks));
    for (int64_t b = 0; b < blocks; ++b) {
      float* blk = x.data() + 32 * b;
      if (b % 7 == 3)
        for (int i = 0; i < 32; ++i) blk[i] = 0.f;
      if (b % 7 == 5)
        for (int i = 0; i < 32; ++i) blk[i] = static_cast<float>(i - 16) * 0.5f;
      if (b % 5 == 1) blk[b % 32] *= 60.f;
      if (b % 5 == 2) {
        blk[3] = 4.f;
        blk[20] = -4.f;
      }
    }
    std::vector<detail::ActQ8> want(static_cast<size_t>(blocks)), got(want.size());
    detail::quantize_act_q8_ref(x.data(), want.data(), n);
    std::memset(got.data(), 0xCD, got.size() * sizeof(detail::ActQ8));
    k.quantize_act_q8(x.data(), got.data(), n);
    ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(detail::ActQ8)))
        << blocks << " blocks";
    ++cases;
  }
  EXPECT_EQ(cases, 8);
}

#if defined(__x86_64__)
// The rows8 kernel called directly (packing into its thread's buffer), the packed entry
// point with a copy from pack_act_tile, and the avx512 kernel: the same bytes, also for
// an odd group count and a partial last token tile.
TEST(AmxPrompt, DirectAndPackedKernelsEqualAvx512) {
  if (!cpu_has(IsaLevel::Amx))
    GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8 tiles: " << cpu_flags_string();
  const detail::IsaKernels& amx_k = detail::isa_kernels(IsaLevel::Amx);
  const detail::IsaKernels& avx_k = detail::isa_kernels(IsaLevel::Avx512);
  int cases = 0;
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const bool k_quant = ggml_type_info(t).block_size == 256;
    const int64_t cols = k_quant ? 3 * 256 : 35 * 32;
    const int64_t rows = 40;  // 5 groups: two pairs and an odd one
    const int nt = 53;
    testing::RandomMatmul p = testing::random_matmul(t, rows, cols, nt, 700 + static_cast<int>(t));
    const detail::ActFormat f = detail::act_format(t);
    const size_t xs = detail::act_row_size(f, cols);
    std::vector<uint8_t> xq(xs * nt);
    for (int i = 0; i < nt; ++i)
      detail::quantize_act_ref(f, p.x.data() + i * cols, xq.data() + i * xs, cols);
    const size_t gs = rows8_group_size(t, cols);
    std::vector<uint8_t> packed(amx::packed_tile_bytes(f, cols) * (nt / 16));
    for (int tile = 0; tile < nt / 16; ++tile)
      amx::pack_act_tile(f, cols, xq.data(), xs, tile, packed.data());
    for (int n_tok : {16, 31, 32, 53}) {
      std::vector<float> want(static_cast<size_t>(n_tok * rows), NAN), direct = want,
                                                                       from_packed = want;
      avx_k.rows8(t)(cols, p.P.data, gs, rows / 8, xq.data(), xs, n_tok, want.data(), rows);
      amx_k.rows8(t)(cols, p.P.data, gs, rows / 8, xq.data(), xs, n_tok, direct.data(), rows);
      amx::rows8_packed_kernel(t)(cols, p.P.data, gs, rows / 8, xq.data(), xs, n_tok, packed.data(),
                                  from_packed.data(), rows);
      ASSERT_EQ(0, std::memcmp(want.data(), direct.data(), want.size() * sizeof(float)))
          << name(t) << " direct, " << n_tok << " tokens";
      ASSERT_EQ(0, std::memcmp(want.data(), from_packed.data(), want.size() * sizeof(float)))
          << name(t) << " packed, " << n_tok << " tokens";
      ++cases;
    }
  }
  EXPECT_EQ(cases, 5 * 4);
}
#endif

}  // namespace
}  // namespace qwen3
