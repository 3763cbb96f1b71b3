// ISA levels (kernels/cpu_features.h): names, refusal of levels the CPU lacks, the
// QWEN3_ISA switch end to end, and every kernel on every level this machine has against
// the scalar reference over random shapes and all weight types. The rows8 kernels of the
// SIMD levels do the same integer sums and the same float steps per row, so their results
// must also be bit-identical to each other. Levels the CPU lacks are skipped with a message.
// On AArch64 (scripts/test_arm64.sh, under qemu) the levels are scalar and neon, whose
// integer tiles are bit-identical to the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels_test_util.h"

namespace qwen3 {
namespace {

const GgmlType kRows8Types[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K,
                                GgmlType::Q6_K};
const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

using testing::mm;
using testing::mm_ref;

// Same integer sums per block as the reference; only the float accumulation differs.
void expect_close(const std::vector<float>& y, const std::vector<float>& y_ref, int64_t cols,
                  const std::string& what) {
  ASSERT_EQ(y.size(), y_ref.size());
  for (size_t i = 0; i < y.size(); ++i) {
    const double tol = 1e-5 * (1 + std::fabs(y_ref[i])) + 2e-6 * static_cast<double>(cols) / 32;
    ASSERT_NEAR(y[i], y_ref[i], tol) << what << " i " << i;
  }
}

bool act_is_integer(GgmlType t) {
  return detail::act_format(t) != detail::ActFormat::F32;
}

std::string name(GgmlType t) {
  return std::string(ggml_type_info(t).name);
}

TEST(IsaLevels, NamesParseAndOrder) {
  for (IsaLevel l : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::AvxVnni, IsaLevel::Avx512,
                     IsaLevel::Amx, IsaLevel::Neon}) {
    IsaLevel back;
    ASSERT_TRUE(parse_isa(isa_name(l), &back));
    EXPECT_EQ(back, l);
  }
  IsaLevel l;
  EXPECT_FALSE(parse_isa("avx1024", &l));
  EXPECT_FALSE(parse_isa("", &l));
  EXPECT_FALSE(parse_isa("AVX2", &l));
  const auto avail = available_isas();
  ASSERT_FALSE(avail.empty());
  EXPECT_EQ(avail.front(), IsaLevel::Scalar);
  EXPECT_EQ(avail.back(), best_isa());
  EXPECT_TRUE(cpu_has(IsaLevel::Scalar));
  // AVX-VNNI and AVX-512 both build on the AVX2 level.
  if (cpu_has(IsaLevel::AvxVnni) || cpu_has(IsaLevel::Avx512)) {
    EXPECT_TRUE(cpu_has(IsaLevel::Avx2));
  }
  // AMX builds on the AVX-512 level.
  if (cpu_has(IsaLevel::Amx)) {
    EXPECT_TRUE(cpu_has(IsaLevel::Avx512));
    EXPECT_EQ(best_isa(), IsaLevel::Amx);
  }
  // Each build has the levels of its own architecture only.
  if (QWEN3_ARCH_X86) {
    EXPECT_FALSE(cpu_has(IsaLevel::Neon));
  }
  if (QWEN3_ARCH_ARM64) {
    EXPECT_FALSE(cpu_has(IsaLevel::Avx2));
    EXPECT_EQ(cpu_has(IsaLevel::Neon), cpu_features().asimd_dotprod);
  }
  std::printf("  this CPU: %s -> best level %s, in use %s\n", cpu_flags_string().c_str(),
              isa_name(best_isa()), isa_name(isa_level()));
}

TEST(IsaLevels, SetIsaSwitchesAndRefusesMissingLevels) {
  const IsaLevel before = isa_level();
  for (IsaLevel l : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::AvxVnni, IsaLevel::Avx512,
                     IsaLevel::Amx, IsaLevel::Neon}) {
    if (cpu_has(l)) {
      testing::IsaScope scope(l);
      EXPECT_EQ(isa_level(), l);
      EXPECT_EQ(use_avx2(), l == IsaLevel::Avx2 || l == IsaLevel::AvxVnni || avx512_family(l));
      EXPECT_EQ(force_scalar(), l == IsaLevel::Scalar);
    } else {
      EXPECT_THROW(set_isa(l), std::runtime_error) << isa_name(l);
      EXPECT_EQ(isa_level(), before);
    }
  }
  EXPECT_EQ(isa_level(), before);
  set_force_scalar(true);
  EXPECT_EQ(isa_level(), IsaLevel::Scalar);
  set_force_scalar(false);
  EXPECT_EQ(isa_level(), before);
}

// The switch as users see it: `qwen3 devices --json` reports the level QWEN3_ISA asked
// for, and refuses unknown names and levels the CPU lacks with a clear error.
std::string run(const std::string& cmd, int* status) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
  *status = pclose(p.release());
  return out;
}

TEST(IsaLevels, EnvironmentSwitchEndToEnd) {
  const std::string bin = QWEN3_BIN;
  if (bin.empty()) GTEST_SKIP() << "no qwen3 command in this build (QWEN3_KERNELS_ONLY)";
  for (IsaLevel l : available_isas()) {
    int st = 0;
    const std::string out =
        run(std::string("QWEN3_ISA=") + isa_name(l) + " " + bin + " devices --json 2>&1", &st);
    EXPECT_EQ(st, 0) << out;
    EXPECT_NE(out.find(std::string("\"isa\": \"") + isa_name(l) + "\""), std::string::npos) << out;
  }
  int st = 0;
  std::string out = run("QWEN3_FORCE_SCALAR=1 " + bin + " devices --json 2>&1", &st);
  EXPECT_NE(out.find("\"isa\": \"scalar\""), std::string::npos) << out;
  out = run("QWEN3_ISA=avx1024 " + bin + " devices 2>&1", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("QWEN3_ISA=avx1024: unknown level"), std::string::npos) << out;
  // The decode prefetch switch of the avx512 kernels: l1 / l2, anything else refused.
  out = run("QWEN3_ROWS8_PREFETCH=l2 " + bin + " devices --json 2>&1", &st);
  EXPECT_EQ(st, 0) << out;
  out = run("QWEN3_ROWS8_PREFETCH=l3 " + bin + " devices 2>&1", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("QWEN3_ROWS8_PREFETCH=l3: use l1 or l2"), std::string::npos) << out;
  for (IsaLevel l : testing::simd_levels())
    if (!cpu_has(l)) {
      out = run(std::string("QWEN3_ISA=") + isa_name(l) + " " + bin + " devices 2>&1", &st);
      EXPECT_NE(st, 0) << out;
      EXPECT_NE(out.find("this CPU cannot run it"), std::string::npos) << out;
    }
  // An x86 CPU has no NEON: the ARM level is refused with the same clear error.
  if (!cpu_has(IsaLevel::Neon)) {
    out = run("QWEN3_ISA=neon " + bin + " devices 2>&1", &st);
    EXPECT_NE(st, 0) << out;
    EXPECT_NE(out.find("QWEN3_ISA=neon: this CPU cannot run it"), std::string::npos) << out;
  }
}

// The activation quantizers of every level's table: byte-identical to the reference on
// random rows with outliers, an all-zero block, exact ties (x.5 steps) and a row whose
// largest magnitude appears with both signs.
TEST(IsaQuant, EveryLevelQuantizesActivationsLikeTheReference) {
  const int64_t n = 1024;
  auto x = testing::random_floats(n, 31, 1.0f);
  for (int i = 0; i < 32; ++i) x[256 + i] = 0.f;                                // zero block
  for (int i = 0; i < 32; ++i) x[512 + i] = static_cast<float>(i - 16) * 0.5f;  // ties
  x[700] = 3.f;
  x[701] = -3.f;  // same magnitude, both signs: the first fixes the Q8_K sign
  x[900] *= 50.f;
  std::vector<detail::ActQ8> ref8(n / 32), got8(n / 32);
  std::vector<BlockQ8_K> refK(n / 256), gotK(n / 256);
  detail::quantize_act_q8_ref(x.data(), ref8.data(), n);
  quantize_row_ref(GgmlType::Q8_K, x.data(), refK.data(), n);
  for (IsaLevel l : available_isas()) {
    const detail::IsaKernels& k = detail::isa_kernels(l);
    EXPECT_EQ(k.level, l);
    k.quantize_act_q8(x.data(), got8.data(), n);
    k.quantize_q8_K(x.data(), gotK.data(), n);
    EXPECT_EQ(0, std::memcmp(ref8.data(), got8.data(), ref8.size() * sizeof(detail::ActQ8)))
        << isa_name(l);
    EXPECT_EQ(0, std::memcmp(refK.data(), gotK.data(), refK.size() * sizeof(BlockQ8_K)))
        << isa_name(l);
  }
}

// The rows8 kernels of every level: random shapes (odd and even group counts, every
// token tail of the 4- and 8-token sweeps, partial chunks of unpacked blocks) against the
// reference, and bit-identical across the SIMD levels.
TEST(IsaRows8, EveryLevelMatchesReferenceAndTheOtherLevels) {
  if (available_isas().size() < 2) GTEST_SKIP() << "only the scalar level exists here";
  std::mt19937 rng(23);
  int cases = 0;
  for (GgmlType t : kRows8Types) {
    const int64_t bs = ggml_type_info(t).block_size;
    for (int k = 0; k < 14; ++k) {
      const int64_t rows = 8 * (1 + rng() % 11);
      const int64_t cols = bs * (1 + rng() % (bs == 256 ? 4 : 16));
      // Decode; prompts (>= 16 tokens: weights unpacked in chunks); short prompts.
      const int64_t n_tok = k < 4 ? 1 : k < 9 ? 16 + rng() % 24 : 1 + rng() % 19;
      testing::RandomMatmul p =
          testing::random_matmul(t, rows, cols, n_tok, 500 + 13 * k + static_cast<uint32_t>(t));
      const auto y_ref = mm_ref(p.W, p.x, n_tok);
      std::vector<float> first;
      for (IsaLevel l : testing::simd_levels()) {
        if (!cpu_has(l)) continue;
        testing::IsaScope scope(l);
        const auto y = mm(p.P, p.x, n_tok, 2);
        const std::string what = name(t) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                                 " tok " + std::to_string(n_tok) + " " + isa_name(l);
        expect_close(y, y_ref, cols, what);
        if (first.empty())
          first = y;
        else
          ASSERT_EQ(y, first) << what << " differs from " << isa_name(testing::simd_levels()[0]);
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 70);
  const std::string skipped = testing::skipped_levels();
  if (!skipped.empty()) std::printf("  levels this CPU lacks, not tested: %s\n", skipped.c_str());
}

TEST(IsaRows8, ThreadCountDoesNotChangeResultsOnAnyLevel) {
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    for (GgmlType t : kRows8Types)
      for (int64_t n_tok : {1, 11}) {
        testing::RandomMatmul p = testing::random_matmul(t, 136, 512, n_tok, 9);
        const auto y1 = mm(p.P, p.x, n_tok, 1);
        EXPECT_EQ(y1, mm(p.P, p.x, n_tok, 2)) << name(t) << " " << isa_name(l);
        EXPECT_EQ(y1, mm(p.P, p.x, n_tok, 3)) << name(t) << " " << isa_name(l);
      }
  }
}

// Small batches (the decode steps of 2-8 sequences that continuous batching runs as one
// product): on every level, each token's outputs equal those of the same token alone
// (so a request's logits do not depend on what it is batched with), for 1, 2 and 3
// threads, close to the reference and bit-identical across the SIMD levels. Odd and
// even group counts (the 512-bit pairs and their 256-bit tail).
TEST(IsaRows8, SmallBatchesEqualEachTokenAloneOnEveryLevel) {
  ThreadPool pools[3] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};  // made once: fast
  auto run = [&](const WeightMatrix& W, const float* x, int64_t n_tok, int threads) {
    std::vector<float> y(static_cast<size_t>(n_tok * W.rows), NAN);
    matmul(W, x, n_tok, y.data(), pools[threads - 1]);
    return y;
  };
  std::mt19937 rng(41);
  int cases = 0;
  for (GgmlType t : kRows8Types) {
    const int64_t bs = ggml_type_info(t).block_size;
    for (int64_t rows : {8, 16, 40}) {
      const int64_t cols = bs * (1 + rng() % (bs == 256 ? 3 : 12));
      for (int64_t n_tok = 2; n_tok <= 9; ++n_tok) {
        testing::RandomMatmul p =
            testing::random_matmul(t, rows, cols, n_tok, 3000 + static_cast<uint32_t>(37 * n_tok));
        const auto y_ref = mm_ref(p.W, p.x, n_tok);
        std::vector<float> first;
        for (IsaLevel l : available_isas()) {
          testing::IsaScope scope(l);
          const std::string what = name(t) + " " + std::to_string(rows) + "x" +
                                   std::to_string(cols) + " tok " + std::to_string(n_tok) + " " +
                                   isa_name(l);
          const auto y = run(p.P, p.x.data(), n_tok, 2);
          expect_close(y, y_ref, cols, what);
          EXPECT_EQ(run(p.P, p.x.data(), n_tok, 1), y) << what << " 1 vs 2 threads";
          EXPECT_EQ(run(p.P, p.x.data(), n_tok, 3), y) << what << " 3 vs 2 threads";
          for (int64_t k = 0; k < n_tok; ++k) {
            const auto yk = run(p.P, p.x.data() + k * cols, 1, 1);
            ASSERT_TRUE(std::equal(yk.begin(), yk.end(), y.begin() + k * rows))
                << what << ": token " << k << " differs from the same token alone";
          }
          if (l == IsaLevel::Scalar) continue;
          if (first.empty())
            first = y;
          else
            ASSERT_EQ(y, first) << what << " differs from the first SIMD level";
        }
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 120);
  const std::string skipped = testing::skipped_levels();
  if (!skipped.empty()) std::printf("  levels this CPU lacks, not tested: %s\n", skipped.c_str());
}

// A product of n_tok tokens on 24 rows of t on every level: close to the reference, every
// token exactly its result alone, and (same_bits) the same bits on every SIMD level.
void expect_batch_equals_each_token_alone(GgmlType t, int64_t cols, int64_t n_tok, uint32_t seed,
                                          bool same_bits, ThreadPool& pool) {
  testing::RandomMatmul p = testing::random_matmul(t, 24, cols, n_tok, seed);
  const auto y_ref = mm_ref(p.W, p.x, n_tok);
  std::vector<float> first;
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    const std::string what = name(t) + " 24x" + std::to_string(cols) + " tok " +
                             std::to_string(n_tok) + " " + isa_name(l);
    std::vector<float> y(static_cast<size_t>(n_tok * 24), NAN);
    matmul(p.P, p.x.data(), n_tok, y.data(), pool);
    expect_close(y, y_ref, cols, what);
    for (int64_t k = 0; k < n_tok; ++k) {
      std::vector<float> yk(24, NAN);
      matmul(p.P, p.x.data() + k * cols, 1, yk.data(), pool);
      ASSERT_TRUE(std::equal(yk.begin(), yk.end(), y.begin() + k * 24))
          << what << ": token " << k << " differs from the same token alone";
    }
    if (!same_bits || l == IsaLevel::Scalar) continue;
    if (first.empty())
      first = y;
    else
      ASSERT_EQ(y, first) << what << " differs from the first SIMD level";
  }
}

// Q6_K products of 2-8 tokens run two tokens per 512-bit vector at the avx512 level, the
// activations copied in chunks of 4 super-blocks: rows longer than one chunk (5 and 9
// super-blocks) give every token exactly its result alone, on every level.
TEST(IsaRows8, Q6KSmallBatchesOverSeveralChunksEqualEachTokenAlone) {
  ThreadPool pool(2);
  for (int64_t cols : {5 * 256, 9 * 256})
    for (int64_t n_tok = 2; n_tok <= 9; ++n_tok)
      expect_batch_equals_each_token_alone(GgmlType::Q6_K, cols, n_tok,
                                           5000 + static_cast<uint32_t>(n_tok + cols), false, pool);
}

// One token of the K-quants runs a 512-bit one-stream kernel at the avx512 and amx levels
// (two 4-byte pieces of every row per vector, the token laid out once per call on the
// stack for rows of up to 112 super-blocks, longer rows on the 256-bit kernel): rows of
// 1, 112 and 113 super-blocks give every token of a 2-3 token batch (the 256-bit and
// 512-bit multi-token kernels) exactly its result alone, the same bits on every SIMD level.
TEST(IsaRows8, KQuantOneTokenEqualsTheMultiTokenKernels) {
  ThreadPool pool(2);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
    for (int64_t blocks : {1, 112, 113})
      for (int64_t n_tok : {2, 3})
        expect_batch_equals_each_token_alone(
            t, blocks * 256, n_tok,
            9000 + static_cast<uint32_t>(blocks + n_tok) + static_cast<uint32_t>(t), true, pool);
}

// Q4_0 / Q8_0 products of 1-9 tokens over rows of 33 and 70 blocks and 3 groups (an odd
// count; the one- and two-stream drivers of every level): every token gets exactly its
// result alone, the same bits on every SIMD level, close to the reference.
TEST(IsaRows8, LegacySmallBatchesOverSeveralChunksEqualEachTokenAlone) {
  ThreadPool pool(2);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q8_0})
    for (int64_t cols : {33 * 32, 70 * 32})
      for (int64_t n_tok = 1; n_tok <= 9; ++n_tok)
        expect_batch_equals_each_token_alone(
            t, cols, n_tok, 7000 + static_cast<uint32_t>(n_tok + cols) + static_cast<uint32_t>(t),
            true, pool);
}

// p's first n_tok tokens through the avx512 and the amx level: byte-equal outputs?
::testing::AssertionResult amx_equals_avx512(const testing::RandomMatmul& p, int64_t rows,
                                             int64_t n_tok, ThreadPool& pool) {
  std::vector<float> want(static_cast<size_t>(n_tok * rows), NAN), got = want;
  {
    testing::IsaScope scope(IsaLevel::Avx512);
    matmul(p.P, p.x.data(), n_tok, want.data(), pool);
  }
  {
    testing::IsaScope scope(IsaLevel::Amx);
    matmul(p.P, p.x.data(), n_tok, got.data(), pool);
  }
  if (std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "amx and avx512 outputs differ";
}

// The amx level's rows8 kernels (AMX-INT8 tiles for every 16 tokens, the few-token tiles
// or the avx512 kernel for the rest) against the avx512 level: byte-equal outputs for
// 1..70 tokens (every tail of the 16-token tiles, several tiles), odd and even group
// counts, rows of one and of several chunks of unpacked blocks, every rows8 type.
TEST(IsaRows8, AmxEqualsAvx512ByteForByte) {
  if (!cpu_has(IsaLevel::Amx))
    GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8 tiles: " << cpu_flags_string();
  ThreadPool pool(2);
  int cases = 0;
  for (GgmlType t : kRows8Types) {
    const bool k_quant = ggml_type_info(t).block_size == 256;
    const int64_t shapes[][2] = {{40, k_quant ? 256 : 5 * 32},
                                 {48, k_quant ? 5 * 256 : 33 * 32},
                                 {24, k_quant ? 9 * 256 : 70 * 32}};
    for (const auto& [rows, cols] : shapes) {
      testing::RandomMatmul p = testing::random_matmul(
          t, rows, cols, 70, 9100 + static_cast<uint32_t>(rows + cols) + static_cast<uint32_t>(t));
      for (int64_t n_tok = 1; n_tok <= 70; ++n_tok) {
        ASSERT_TRUE(amx_equals_avx512(p, rows, n_tok, pool))
            << name(t) << " " << rows << "x" << cols << " tok " << n_tok;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 5 * 3 * 70);
}

// The amx level's few-token tile kernels (matmul_rows8_amx_few.cpp: tiles with one row per
// token for the calls below 16 tokens, Q8_0 32) against the avx512 level: byte-equal
// outputs for every token count up to that bound (each type's tile range and the avx512
// counts around it), one group (no pair: all on avx512), odd group counts (3, 17: an odd
// last group per work item), rows of one block up to long rows (96 blocks, 12
// super-blocks: many rings of unpacked blocks), 1 and 3 threads.
TEST(IsaRows8, AmxFewTokensEqualAvx512ByteForByte) {
  if (!cpu_has(IsaLevel::Amx))
    GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8 tiles: " << cpu_flags_string();
  ThreadPool pools[2] = {ThreadPool(1), ThreadPool(3)};
  int cases = 0;
  for (GgmlType t : kRows8Types) {
    const bool k_quant = ggml_type_info(t).block_size == 256;
    const int64_t max_tok = t == GgmlType::Q8_0 ? 31 : 15;
    const int64_t shapes[][2] = {{8, k_quant ? 256 : 32},
                                 {24, k_quant ? 3 * 256 : 33 * 32},
                                 {136, k_quant ? 12 * 256 : 96 * 32}};
    for (const auto& [rows, cols] : shapes) {
      testing::RandomMatmul p = testing::random_matmul(
          t, rows, cols, max_tok,
          9300 + static_cast<uint32_t>(rows + cols) + static_cast<uint32_t>(t));
      for (int64_t n_tok = 1; n_tok <= max_tok; ++n_tok)
        for (ThreadPool& pool : pools) {
          ASSERT_TRUE(amx_equals_avx512(p, rows, n_tok, pool))
              << name(t) << " " << rows << "x" << cols << " tok " << n_tok << " threads "
              << pool.size();
          ++cases;
        }
    }
  }
  EXPECT_EQ(cases, 2 * 3 * (4 * 15 + 31));
}

// Plain rows of every type on every level (the tiles of the types without rows8 kernels,
// and plain matrices of the others) against the reference.
TEST(IsaMatmul, EveryTypeOnEveryLevelMatchesReference) {
  std::mt19937 rng(77);
  for (IsaLevel l : available_isas()) {
    testing::IsaScope scope(l);
    for (GgmlType t : kAllTypes) {
      const int64_t bs = std::max<int64_t>(ggml_type_info(t).block_size, 1);
      for (int k = 0; k < 4; ++k) {
        const int64_t rows = 1 + rng() % 37;
        const int64_t cols =
            bs == 1 ? 8 * (1 + rng() % 40) : bs * (1 + rng() % (bs == 256 ? 3 : 9));
        const int64_t n_tok = k == 0 ? 1 : 1 + rng() % 12;
        testing::RandomMatmul p =
            testing::random_matmul(t, rows, cols, n_tok, 900 + 7 * k + static_cast<uint32_t>(t));
        const auto y = mm(p.W, p.x, n_tok, 2), y_ref = mm_ref(p.W, p.x, n_tok);
        // The NEON integer tiles do the reference's integer sums and float steps.
        if (l == IsaLevel::Neon && act_is_integer(t)) {
          ASSERT_EQ(y, y_ref) << name(t) << " " << rows << "x" << cols << " tok " << n_tok;
          continue;
        }
        // Float types sum in a different order than the reference: scale the bound by
        // the sum of |w x| (as kernels_matmul_test does).
        for (size_t i = 0; i < y.size(); ++i) {
          double s = 0;
          const int64_t r = static_cast<int64_t>(i) % rows, tk = static_cast<int64_t>(i) / rows;
          std::vector<float> wr(static_cast<size_t>(cols));
          dequantize_row_ref(t, p.plain.data() + r * ggml_row_size(t, cols), wr.data(), cols);
          for (int64_t c = 0; c < cols; ++c) s += std::fabs(wr[c] * p.x[tk * cols + c]);
          ASSERT_NEAR(y[i], y_ref[i], 2e-6 * s + 1e-6)
              << name(t) << " " << rows << "x" << cols << " tok " << n_tok << " " << isa_name(l);
        }
      }
    }
  }
}

}  // namespace
}  // namespace qwen3
