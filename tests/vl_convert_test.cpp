// A Hugging Face Qwen3-VL folder (Qwen3VLForConditionalGeneration: config.json with
// text_config / vision_config, `model.language_model.*` tensors, `lm_head.*` or tied)
// written from a generated `qwen3vl` text GGUF (names and shapes of transformers'
// modeling_qwen3_vl.py, mapped here independently of the converter) converts back to the
// same text GGUF: the same tensors (names, types, shapes, bytes) and the same keys
// (qwen3vl.n_deepstack_layers, qwen3vl.rope.dimension_sections, the tokenizer), F32 untied
// and F16 tied. The untied folder also holds the `model.visual.*` tower of a generated
// mmproj and goes through `qwen3 convert -o --mmproj-out`: both files of the pair come
// back equal. `--mmproj-out` on a folder without a vision tower is an error.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "convert/gguf_convert.h"
#include "convert/hf_checkpoint_writer.h"
#include "convert/mmproj_generator.h"
#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "gguf_compare_util.h"
#include "model/hf_config.h"
#include "model/hf_model_loader.h"
#include "model/qwen3_model.h"
#include "text/tokenizer.h"
#include "vision/vision_config.h"
#include "vl_hf_test_util.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;
using test::add_vision_specs;
using test::expect_same_tensors;

fs::path scratch(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("qwen3_vlconv_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// GGUF name -> the name transformers' Qwen3VLForConditionalGeneration state dict uses.
std::string hf_name(const std::string& g) {
  const std::string lm = "model.language_model.";
  if (g == "token_embd.weight") return lm + "embed_tokens.weight";
  if (g == "output_norm.weight") return lm + "norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  const std::map<std::string, std::string> blk = {
      {"attn_norm", "input_layernorm"},    {"ffn_norm", "post_attention_layernorm"},
      {"attn_q", "self_attn.q_proj"},      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},      {"attn_output", "self_attn.o_proj"},
      {"attn_q_norm", "self_attn.q_norm"}, {"attn_k_norm", "self_attn.k_norm"},
      {"ffn_gate", "mlp.gate_proj"},       {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"}};
  const size_t a = g.find('.', 4), b = g.rfind('.');
  const std::string layer = g.substr(4, a - 4), part = g.substr(a + 1, b - a - 1);
  auto it = blk.find(part);
  return it == blk.end() ? "" : lm + "layers." + layer + "." + it->second + g.substr(b);
}

int run(const std::string& cmd) {
  const int rc = std::system((cmd + " 2>/dev/null").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void expect_same_keys(const gguf::GgufFile& a, const gguf::GgufFile& b) {
  test::expect_same_keys(a, b, {"general.name", "general.alignment"});
}

TEST(VlConvert, HfFolderConvertsToTheGeneratedTextGguf) {
  const fs::path d = scratch("text");
  const Tokenizer tok = Tokenizer::from_file(QWEN3_TOKENIZER_DIR);
  const vision::VisionConfig vc = vision::VisionConfig::preset("tiny");
  std::string ds;
  for (int l : vc.deepstack_layers) ds += (ds.empty() ? "" : ", ") + std::to_string(l);
  for (const bool tied : {false, true}) {
    GenModelOptions o;
    o.config = Qwen3Config::preset("tiny");
    o.config.tied_embeddings = tied;
    o.type = parse_gen_model_type(tied ? "f16" : "f32");
    o.seed = tied ? 7 : 8;
    o.n_threads = 1;
    o.vl_deepstack_layers = static_cast<int>(vc.deepstack_layers.size());
    o.vl_mrope_sections = {4, 2, 2, 0};  // head_dim 16: 8 rotary pairs
    const std::string gen = (d / "gen.gguf").string();
    generate_random_model(o, tok, gen);
    const gguf::GgufFile src = gguf::GgufFile::open(gen);
    vision::MmprojOptions mo;
    mo.config = vc;
    mo.seed = o.seed;
    const std::string gen_mm = (d / "gen_mm.gguf").string();
    vision::generate_random_mmproj(mo, gen_mm);
    const gguf::GgufFile mm = gguf::GgufFile::open(gen_mm);

    const fs::path hf = d / (tied ? "hf_tied" : "hf");
    fs::create_directories(hf);
    std::vector<hf::SafetensorsSpec> specs;
    for (const auto& t : src.tensors()) {
      const std::string n = hf_name(t.name);
      ASSERT_FALSE(n.empty()) << t.name;
      ASSERT_TRUE(t.type == GgmlType::F32 || t.type == GgmlType::F16) << t.name;
      const void* data = t.data;
      const size_t nb = t.nbytes;
      specs.push_back({n, t.type, std::vector<int64_t>(t.dims.rbegin(), t.dims.rend()),
                       [=](void* dst, size_t) { std::memcpy(dst, data, nb); }});
    }
    // The vision tower (the mmproj's; the text conversion skips it).
    add_vision_specs(mm, vc, &specs);
    hf::write_safetensors((hf / "model.safetensors").string(), specs);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      fs::copy_file(fs::path(QWEN3_TOKENIZER_DIR) / f, hf / f);
    const Qwen3Config& c = o.config;
    std::ofstream(hf / "config.json")
        << R"({"architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl",
  "tie_word_embeddings": )"
        << (tied ? "true" : "false") << R"(,
  "text_config": {"vocab_size": )"
        << c.n_vocab << R"(, "hidden_size": )" << c.n_embd << R"(, "intermediate_size": )" << c.n_ff
        << R"(, "num_hidden_layers": )" << c.n_layers << R"(, "num_attention_heads": )" << c.n_head
        << R"(, "num_key_value_heads": )" << c.n_head_kv << R"(, "head_dim": )" << c.head_dim
        << R"(, "max_position_embeddings": )" << c.n_ctx_train << R"(, "rope_theta": )"
        << static_cast<int64_t>(c.rope_theta) << R"(,
    "rms_norm_eps": 1e-06, "hidden_act": "silu", "attention_bias": false, "bos_token_id": )"
        << tok.eos_id() << R"(, "eos_token_id": )" << tok.im_end_id() << R"(,
    "rope_scaling": {"mrope_interleaved": true, "mrope_section": [4, 2, 2], "rope_type": "default"}},
  "vision_config": {"depth": )"
        << vc.n_layers << R"(, "hidden_size": )" << vc.n_embd << R"(, "intermediate_size": )"
        << vc.n_ff << R"(, "num_heads": )" << vc.n_head
        << R"(, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
    "num_position_embeddings": )"
        << vc.n_pos_side * vc.n_pos_side << R"(, "out_hidden_size": )" << vc.proj_dim
        << R"(, "deepstack_visual_indexes": [)" << ds << R"(]}})";
    std::ofstream(hf / "preprocessor_config.json")
        << R"({"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]})";
    ASSERT_EQ(c.rms_eps, 1e-6f);

    const std::string out = (d / "converted.gguf").string();
    const std::string out_mm = (d / "converted_mm.gguf").string();
    if (!tied) {  // the command line: both files
      ASSERT_EQ(run(std::string(QWEN3_BIN) + " convert " + hf.string() + " -o " + out +
                    " --type f32 -q -t 1 --mmproj-out " + out_mm),
                0);
      const gguf::GgufFile a = gguf::GgufFile::open(gen_mm), b = gguf::GgufFile::open(out_mm);
      expect_same_keys(a, b);
      expect_same_tensors(a, b);
    } else {
      hf::ConvertOptions co;
      co.target = hf::ConvertTarget::F16;
      co.n_threads = 1;
      hf::convert_hf_to_gguf(hf.string(), out, co);
    }
    // Running the folder directly is a clear error (the text model alone would drop images).
    try {
      hf::load_hf_model(hf.string());
      ADD_FAILURE() << "a Qwen3-VL folder loaded as a text model";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("convert it first"), std::string::npos) << e.what();
    }
    const gguf::GgufFile a = gguf::GgufFile::open(gen), b = gguf::GgufFile::open(out);
    EXPECT_EQ(b.get_string("general.architecture"), "qwen3vl");
    EXPECT_EQ(b.get_int_array("qwen3vl.rope.dimension_sections"),
              (std::vector<int64_t>{4, 2, 2, 0}));
    EXPECT_EQ(b.get_uint("qwen3vl.n_deepstack_layers"), vc.deepstack_layers.size());
    expect_same_keys(a, b);
    expect_same_tensors(a, b);
  }
  // `gen-model --format hf --mmproj` writes a random VL folder of the same weights as
  // `gen-model --mmproj`'s pair (same seed); `convert --mmproj-out` gives that pair back.
  {
    const std::string bin = QWEN3_BIN, g = " gen-model --preset tiny --seed 5 -t 1";
    ASSERT_EQ(
        run(bin + g + " -o " + (d / "p.gguf").string() + " --mmproj " + (d / "p_mm.gguf").string()),
        0);
    ASSERT_EQ(run(bin + g + " --format hf -o " + (d / "vl_hf").string() + " --mmproj " +
                  (d / "h_mm.gguf").string()),
              0);
    ASSERT_EQ(run(bin + " convert " + (d / "vl_hf").string() + " -q -t 1 --type f32 -o " +
                  (d / "c.gguf").string() + " --mmproj-out " + (d / "c_mm.gguf").string()),
              0);
    for (const auto& [x, y] : {std::pair{"p.gguf", "c.gguf"}, std::pair{"p_mm.gguf", "c_mm.gguf"},
                               std::pair{"p_mm.gguf", "h_mm.gguf"}}) {
      SCOPED_TRACE(std::string(x) + " vs " + y);
      const gguf::GgufFile a = gguf::GgufFile::open((d / x).string());
      const gguf::GgufFile b = gguf::GgufFile::open((d / y).string());
      expect_same_keys(a, b);
      expect_same_tensors(a, b);
    }
  }
  // --mmproj-out on a text-only folder: an error before anything is written.
  const fs::path txt = d / "text_only";
  hf::RandomCheckpointOptions ro;
  ro.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  ro.n_shards = 1;
  hf::HfModelConfig hc = hf::from_qwen3_config(Qwen3Config::preset("tiny"));
  hf::write_random_hf_checkpoint(txt.string(), hc, ro);
  EXPECT_NE(run(std::string(QWEN3_BIN) + " convert " + txt.string() + " -q -o " +
                (d / "t.gguf").string() + " --mmproj-out " + (d / "t_mm.gguf").string()),
            0);
  EXPECT_FALSE(fs::exists(d / "t.gguf"));

  // Clear errors: no text_config, no mrope_section.
  auto expect_error = [&](const std::string& json, const std::string& what) {
    try {
      hf::parse_hf_config(json);
      ADD_FAILURE() << "accepted: " << json;
    } catch (const hf::HfConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"architectures": ["Qwen3VLForConditionalGeneration"]})", "text_config");
  expect_error(R"({"architectures": ["Qwen3VLForConditionalGeneration"], "vision_config": {},
    "text_config": {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
    "num_hidden_layers": 1, "num_attention_heads": 2}})",
               "mrope_section");
  fs::remove_all(d);
}

}  // namespace
}  // namespace qwen3
