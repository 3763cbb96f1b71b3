// Model facts (presets, model folders), edit distance against a reference, cpuinfo parsing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "device/device_types.h"
#include "device/edit_distance.h"
#include "device/host_cpu.h"
#include "device/model_facts.h"
#include "gguf/gguf_writer.h"
#include "model/qwen3_config.h"

using namespace qwen3::device;

TEST(DeviceModelFacts, PresetsMatchQwen3Shapes) {
  const ModelFacts m = model_preset("8b");
  EXPECT_EQ(m.n_layers, 36);
  EXPECT_EQ(m.n_kv_heads, 8);
  EXPECT_EQ(m.head_dim, 128);
  EXPECT_EQ(m.n_ctx_train, 40960);
  EXPECT_EQ(m.group_size, -1);
  EXPECT_EQ(model_preset("4b").group_size, 128);
  EXPECT_EQ(model_preset("32b").n_layers, 64);
  EXPECT_EQ(model_preset("14b").kv_bytes_per_token(2), 2ull * 40 * 8 * 128 * 2);
  EXPECT_THROW(model_preset("7b"), std::invalid_argument);
  EXPECT_EQ(model_preset_names().size(), 6u);
}

TEST(DeviceModelFacts, AgreesWithQwen3ConfigPresets) {
  for (const char* name : {"0.6b", "1.7b", "4b", "8b"}) {
    const ModelFacts from_cfg = facts_from_config(qwen3::Qwen3Config::preset(name));
    const ModelFacts preset = model_preset(name);
    EXPECT_EQ(from_cfg.n_layers, preset.n_layers) << name;
    EXPECT_EQ(from_cfg.n_kv_heads, preset.n_kv_heads) << name;
    EXPECT_EQ(from_cfg.head_dim, preset.head_dim) << name;
    // Parameter count estimated from the shapes, within 10% of the model card.
    EXPECT_NEAR(from_cfg.params_billion, preset.params_billion, 0.1 * preset.params_billion + 0.1)
        << name;
  }
}

TEST(DeviceModelFacts, ReadsAnOptimumExportFolder) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(QWEN3_BUILD_DIR) / "device_test_ov_model";
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"num_hidden_layers": 36, "hidden_size": 4096,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
    "max_position_embeddings": 40960, "intermediate_size": 12288, "vocab_size": 151936,
    "tie_word_embeddings": false, "_name_or_path": "Qwen/Qwen3-8B"})";
  std::ofstream(dir / "openvino_config.json")
      << R"({"dtype": "int4", "quantization_config": {"bits": 4, "sym": false, "group_size": 128}})";
  const ModelFacts m = load_model_facts(dir.string());
  EXPECT_EQ(m.name, "Qwen/Qwen3-8B");
  EXPECT_EQ(m.n_layers, 36);
  EXPECT_NEAR(m.params_billion, 8.2, 0.3);
  EXPECT_EQ(m.weights, WeightFormat::Int4);
  EXPECT_EQ(m.symmetric, false);
  EXPECT_EQ(m.group_size, 128);

  std::ofstream(dir / "config.json") << R"({"num_hidden_layers": "x"})";
  EXPECT_THROW(load_model_facts(dir.string()), std::runtime_error);
  std::ofstream(dir / "config.json") << "{not json";
  EXPECT_THROW(load_model_facts(dir.string()), std::runtime_error);
  EXPECT_THROW(load_model_facts((dir / "missing.gguf").string()), std::runtime_error);
  fs::remove_all(dir);
}

TEST(DeviceModelFacts, ReadsAGgufFile) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(QWEN3_BUILD_DIR) / "device_test_model.gguf").string();
  qwen3::gguf::GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_string("general.name", "Tiny Qwen3");
  w.set_u32("qwen3.block_count", 3);
  w.set_u32("qwen3.context_length", 4096);
  w.set_u32("qwen3.embedding_length", 64);
  w.set_u32("qwen3.feed_forward_length", 128);
  w.set_u32("qwen3.attention.head_count", 4);
  w.set_u32("qwen3.attention.head_count_kv", 2);
  w.set_u32("qwen3.attention.key_length", 16);
  w.set_u32("qwen3.attention.value_length", 16);
  w.set_f32("qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_f32("qwen3.rope.freq_base", 1e6f);
  w.add_tensor("token_embd.weight", qwen3::GgmlType::F32, {64, 100},
               std::vector<uint8_t>(64 * 100 * 4));
  w.add_tensor("blk.0.attn_q.weight", qwen3::GgmlType::Q8_0, {64, 64},
               std::vector<uint8_t>(64 / 32 * 34 * 64));
  w.write(path);
  const ModelFacts m = load_model_facts(path);
  EXPECT_EQ(m.name, "Tiny Qwen3");
  EXPECT_EQ(m.n_layers, 3);
  EXPECT_EQ(m.n_kv_heads, 2);
  EXPECT_EQ(m.head_dim, 16);
  EXPECT_EQ(m.n_ctx_train, 4096);
  EXPECT_EQ(m.weights, WeightFormat::Gguf);
  EXPECT_EQ(m.weight_type, "Q8_0");
  EXPECT_EQ(m.kv_bytes_per_token(2), 2u * 3 * 2 * 16 * 2);
  fs::remove(path);
}

TEST(DeviceModelFacts, QuantSpecs) {
  ModelFacts m = model_preset("8b");
  apply_quant_spec(m, "int4-asym");
  EXPECT_EQ(m.symmetric, false);
  apply_quant_spec(m, "nf4");
  EXPECT_EQ(m.weights, WeightFormat::Nf4);
  EXPECT_THROW(apply_quant_spec(m, "int3"), std::invalid_argument);
}

TEST(DeviceTypes, ParseNames) {
  EXPECT_EQ(parse_device("npu"), Device::NPU);
  EXPECT_EQ(parse_device("GPU"), Device::GPU);
  EXPECT_FALSE(parse_device("TPU"));
  EXPECT_EQ(parse_profile_level("Aggressive"), ProfileLevel::Aggressive);
  EXPECT_FALSE(parse_profile_level("fast"));
}

namespace {
size_t reference_distance(const std::string& a, const std::string& b) {
  // Plain full-matrix Levenshtein.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u)});
  return d[a.size()][b.size()];
}
}  // namespace

TEST(DeviceEditDistance, MatchesReferenceOnGeneratedStrings) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string a(rng() % 12, 'a'), b(rng() % 12, 'a');
    for (auto& c : a) c = static_cast<char>('A' + rng() % 4);
    for (auto& c : b) c = static_cast<char>('A' + rng() % 4);
    ASSERT_EQ(edit_distance(a, b), reference_distance(a, b)) << a << " " << b;
  }
  EXPECT_EQ(closest_match("CACHEDIR", {"CACHE_DIR", "CACHE_MODE"}), "CACHE_DIR");
  EXPECT_FALSE(closest_match("ZZZZZZZZ", {"CACHE_DIR"}));
}

TEST(DeviceHostCpu, ParsesCpuinfo) {
  const std::string text =
      "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nphysical id\t: 0\ncore id\t: 0\n"
      "flags\t\t: fpu sse avx2 fma f16c\n\n"
      "processor\t: 1\nmodel name\t: AMD EPYC 7B13\nphysical id\t: 0\ncore id\t: 0\n"
      "flags\t\t: fpu sse avx2 fma f16c\n\n"
      "processor\t: 2\nmodel name\t: AMD EPYC 7B13\nphysical id\t: 0\ncore id\t: 1\n"
      "flags\t\t: fpu sse avx2 fma f16c\n";
  const HostCpu h = parse_cpuinfo(text);
  EXPECT_EQ(h.model_name, "AMD EPYC 7B13");
  EXPECT_EQ(h.logical_cpus, 3);
  EXPECT_EQ(h.physical_cores, 2);
  EXPECT_TRUE(h.avx2 && h.fma && h.f16c);
  EXPECT_EQ(parse_cpuinfo("").model_name, "unknown");
  const HostCpu here = detect_host_cpu();
  EXPECT_GE(here.logical_cpus, 1);
  EXPECT_GE(here.logical_cpus, here.physical_cores);
}
