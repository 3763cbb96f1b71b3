// Per-tensor types of each conversion target, against llama.cpp's llama_tensor_get_type.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "convert/hf_checkpoint_writer.h"
#include "model/convert_types.h"
#include "model/hf_tensor_names.h"
#include "shape_util.h"

namespace qwen3::hf {
namespace {

// The GGUF names and dims of a 0.6B-shaped model (untied when asked).
std::vector<std::pair<std::string, std::vector<int64_t>>> gguf_tensors(bool tied, int layers) {
  HfModelConfig c = test::hf_shape({layers, 1024, 16, 8, 128, 3072, 151936, 0});
  c.tie_word_embeddings = tied;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& [name, shape] : qwen3_hf_tensor_shapes(c))
    out.push_back({*gguf_name_for(name), std::vector<int64_t>(shape.rbegin(), shape.rend())});
  return out;
}

TEST(ConvertTypes, UseMoreBitsMatchesLlamaCpp) {
  // For 28 layers llama.cpp upgrades layers 0-2, 24-27 and every third in between.
  std::vector<int> picked;
  for (int i = 0; i < 28; ++i)
    if (use_more_bits(i, 28)) picked.push_back(i);
  EXPECT_EQ(picked, (std::vector<int>{0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27}));
  // About half of them in every model size, as the Q4_K_M description says.
  for (int n : {28, 36, 40, 64}) {
    int k = 0;
    for (int i = 0; i < n; ++i) k += use_more_bits(i, n);
    EXPECT_NEAR(k, n / 2, n / 6) << n;
  }
}

TEST(ConvertTypes, Q4KMMixForTiedAndUntiedModels) {
  for (bool tied : {true, false}) {
    const int n = 28;
    std::map<std::string, int> counts;
    for (const auto& [name, dims] : gguf_tensors(tied, n)) {
      const GgmlType t = tensor_type_for(ConvertTarget::Q4_K_M, name, dims, n, !tied);
      counts[std::string(ggml_type_info(t).name)]++;
      if (dims.size() == 1) {
        EXPECT_EQ(t, GgmlType::F32) << name;
      } else if (name == "output.weight") {
        EXPECT_EQ(t, GgmlType::Q6_K);
      } else if (name == "token_embd.weight") {
        EXPECT_EQ(t, tied ? GgmlType::Q6_K : GgmlType::Q4_K);
      } else if (name.find("attn_v") != std::string::npos ||
                 name.find("ffn_down") != std::string::npos) {
        const int layer = std::stoi(name.substr(4));
        EXPECT_EQ(t, use_more_bits(layer, n) ? GgmlType::Q6_K : GgmlType::Q4_K) << name;
      } else {
        EXPECT_EQ(t, GgmlType::Q4_K) << name;
      }
    }
    EXPECT_EQ(counts["Q6_K"], 2 * 14 + 1);
    EXPECT_EQ(counts["F32"], 1 + 4 * n);
  }
}

TEST(ConvertTypes, LegacyAndFloatTargets) {
  const int n = 4;
  for (const auto& [name, dims] : gguf_tensors(true, n)) {
    const bool vec = dims.size() == 1;
    const GgmlType q8 = tensor_type_for(ConvertTarget::Q8_0, name, dims, n, false);
    const GgmlType q4 = tensor_type_for(ConvertTarget::Q4_0, name, dims, n, false);
    EXPECT_EQ(q8, vec ? GgmlType::F32 : GgmlType::Q8_0) << name;
    // llama-quantize gives the (tied) output Q6_K in Q4_0 files too.
    const GgmlType want4 = vec                           ? GgmlType::F32
                           : name == "token_embd.weight" ? GgmlType::Q6_K
                                                         : GgmlType::Q4_0;
    EXPECT_EQ(q4, want4) << name;
    EXPECT_EQ(tensor_type_for(ConvertTarget::F16, name, dims, n, false),
              vec ? GgmlType::F32 : GgmlType::F16);
    EXPECT_EQ(tensor_type_for(ConvertTarget::BF16, name, dims, n, false),
              vec ? GgmlType::F32 : GgmlType::BF16);
    EXPECT_EQ(tensor_type_for(ConvertTarget::F32, name, dims, n, false), GgmlType::F32);
  }
}

TEST(ConvertTypes, RowsThatDoNotFitFallBackLikeLlamaCpp) {
  // 64-wide rows cannot hold a 256-element K block.
  EXPECT_EQ(tensor_type_for(ConvertTarget::Q4_K_M, "blk.1.attn_q.weight", {64, 64}, 8, false),
            GgmlType::Q5_0);
  EXPECT_EQ(tensor_type_for(ConvertTarget::Q4_K_M, "blk.0.ffn_down.weight", {64, 64}, 8, false),
            GgmlType::Q8_0);
  EXPECT_EQ(tensor_type_for(ConvertTarget::Q4_K_M, "output.weight", {64, 100}, 8, true),
            GgmlType::Q8_0);
  EXPECT_EQ(tensor_type_for(ConvertTarget::Q4_0, "blk.0.attn_q.weight", {48, 48}, 8, false),
            GgmlType::F16);
  EXPECT_EQ(tensor_type_for(ConvertTarget::Q4_K_M, "blk.0.attn_q.weight", {48, 48}, 8, false),
            GgmlType::F16);
}

// The one fallback rule, shared with gen-model (model_generator.cpp calls it too).
TEST(ConvertTypes, FitRowTypeIsTheSharedFallback) {
  EXPECT_EQ(fit_row_type(GgmlType::Q4_K, 256), GgmlType::Q4_K);
  EXPECT_EQ(fit_row_type(GgmlType::Q4_K, 64), GgmlType::Q5_0);
  EXPECT_EQ(fit_row_type(GgmlType::Q5_K, 64), GgmlType::Q5_1);
  EXPECT_EQ(fit_row_type(GgmlType::Q6_K, 64), GgmlType::Q8_0);
  EXPECT_EQ(fit_row_type(GgmlType::Q4_K, 48), GgmlType::F16);
  EXPECT_EQ(fit_row_type(GgmlType::Q8_0, 48), GgmlType::F16);
  EXPECT_EQ(fit_row_type(GgmlType::Q8_0, 64), GgmlType::Q8_0);
  EXPECT_EQ(fit_row_type(GgmlType::F32, 7), GgmlType::F32);
}

TEST(ConvertTypes, NamesAndFileTypes) {
  for (const char* s : {"f32", "F16", "bf16", "q8_0", "Q4_0", "q4_k_m"}) {
    auto t = parse_convert_target(s);
    ASSERT_TRUE(t) << s;
    std::string lower;
    for (const char* p = s; *p; ++p) lower += static_cast<char>(std::tolower(*p));
    EXPECT_EQ(convert_target_name(*t), lower);
  }
  EXPECT_FALSE(parse_convert_target("q4_k_s"));
  EXPECT_FALSE(parse_convert_target(""));
  EXPECT_EQ(llama_file_type(ConvertTarget::Q4_K_M), 15u);
  EXPECT_EQ(llama_file_type(ConvertTarget::Q8_0), 7u);
  EXPECT_EQ(llama_file_type(ConvertTarget::Q4_0), 2u);
  EXPECT_EQ(llama_file_type(ConvertTarget::BF16), 32u);
  EXPECT_EQ(convert_target_for(GgmlType::Q4_K), ConvertTarget::Q4_K_M);
  EXPECT_FALSE(convert_target_for(GgmlType::Q6_K));
}

}  // namespace
}  // namespace qwen3::hf
