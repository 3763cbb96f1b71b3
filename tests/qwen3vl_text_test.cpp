// The text half of Qwen3-VL (GGUF arch qwen3vl, as `qwen3 gen-model --mmproj` and
// llama.cpp's converter write it): the config reader keeps the DeepStack count and the
// M-RoPE sections, and a text-only prompt gives exactly the plain qwen3 model's logits
// (text tokens use one position for every M-RoPE section, which is NEOX RoPE) and
// llama.cpp's logits for the same file (bench/llamacpp_logits, skipped when the llama.cpp
// reference build is absent).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "model/qwen3_config.h"
#include "scratch_files.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir("qwen3vl_text_scratch");
}

// The same random weights written as qwen3vl (with vl) and as plain qwen3.
std::string write_model(bool vl) {
  const fs::path p = scratch() / (vl ? "text-vl.gguf" : "text-plain.gguf");
  static const Tokenizer tok =
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  GenModelOptions o;
  o.config = Qwen3Config::preset("tiny");
  o.config.rope_theta = 5000000.0f;
  o.type = parse_gen_model_type("f32");
  o.seed = 11;
  o.n_threads = 2;
  if (vl) o.vl_deepstack_layers = 3;
  generate_random_model(o, tok, p.string());
  return p.string();
}

const std::string kIds = "151644,872,198,9707,11,1246,525,498,30,151645,198,151644,77091,198";

std::vector<float> our_logits(const std::string& model, const std::string& tag) {
  const fs::path out = scratch() / ("ours-" + tag + ".f32");
  const std::string cmd = std::string(QWEN3_BIN) + " logits -m " + model + " --ids " + kIds +
                          " -o " + out.string() + " -t 2 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  return test::read_f32(out);
}

TEST(Qwen3VlText, TextOnlyPromptsRunAsTheTextModel) {
  const std::string vl = write_model(true), plain = write_model(false);
  const gguf::GgufFile f = gguf::GgufFile::open(vl);
  ASSERT_EQ(f.get_string("general.architecture").value_or(""), "qwen3vl");
  const Qwen3Config c = Qwen3Config::from_gguf(f);
  EXPECT_EQ(c.arch, "qwen3");
  EXPECT_TRUE(c.is_vl());
  EXPECT_EQ(c.vl_deepstack_layers, 3);
  EXPECT_EQ(c.mrope_sections, (std::vector<int>{4, 2, 2, 0}));  // head_dim 16
  EXPECT_EQ(qwen3vl_mrope_sections(128), (std::vector<int32_t>{24, 20, 20, 0}));
  EXPECT_FALSE(Qwen3Config::from_gguf(gguf::GgufFile::open(plain)).is_vl());

  const std::vector<float> a = our_logits(vl, "vl"), b = our_logits(plain, "plain");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);  // bit for bit

  const fs::path tool = fs::path(QWEN3_BUILD_DIR) / "bench" / "llamacpp_logits";
  if (!fs::exists(tool)) GTEST_SKIP() << "llama.cpp reference build absent: " << tool;
  const fs::path ids = scratch() / "ids.txt", ref = scratch() / "theirs.f32";
  std::ofstream(ids) << kIds;
  const std::string cmd = tool.string() + " " + vl + " " + ids.string() + " " + ref.string() +
                          " --threads 2 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::vector<float> r = test::read_f32(ref);
  ASSERT_EQ(r.size(), a.size());
  double md = 0, mr = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    md = std::max(md, std::fabs(static_cast<double>(a[i]) - r[i]));
    mr = std::max(mr, std::fabs(static_cast<double>(r[i])));
  }
  std::printf("  qwen3vl text-only vs llama.cpp: max |diff| / max |ref| = %.2e\n", md / mr);
  EXPECT_LT(md / mr, 0.01);  // the dense F32 bound of bench/moe_crosscheck.sh
}

}  // namespace
}  // namespace qwen3
