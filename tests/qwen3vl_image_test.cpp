// Qwen3-VL prompts with images, the language side: the logits after a chat prompt with one
// and with two images (interleaved M-RoPE positions from the merged-patch grid, image
// embeddings at the <|image_pad|> runs, DeepStack features added after the first layers,
// text positions after an image continuing at its first position + max(grid)) against
// llama.cpp's libmtmd (bench/llamacpp_mtmd --logits) on a random tiny Qwen3-VL pair from
// `qwen3 gen-model --mmproj`, for 6 generated PNG images of different sizes and aspect
// ratios; `qwen3 logits --mmproj --image` gives the same rows as the library. The
// crosscheck skips when the llama.cpp reference build is absent; the 2B shape is opt-in
// (QWEN3_VISION_2B=1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "image_test_util.h"
#include "kernels/thread_pool.h"
#include "model/mrope.h"
#include "model/qwen3_model.h"
#include "scratch_files.h"
#include "text/tokenizer.h"
#include "vision/image_decode.h"
#include "vision/vision_encoder.h"
#include "vision/vl_prompt.h"
#include "vl_model_files.h"

namespace qwen3::vision {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir("qwen3vl_image_scratch");
}

using Pair = test::VlPair;

// Written once and reused while newer than the qwen3 binary.
Pair make_pair(const std::string& tag, const std::string& gen_args) {
  return test::gen_vl_pair(scratch() / ("text-" + tag + ".gguf"),
                           scratch() / ("mmproj-" + tag + ".gguf"), gen_args);
}

fs::path reference_tool() {
  return fs::path(QWEN3_BUILD_DIR) / "bench" / "llamacpp_mtmd";
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

// The chat prompt of one user turn with `n_images` images before the text, as the
// Qwen3-VL template renders it (one pad per image, expanded later).
std::vector<int32_t> prompt_ids(const Tokenizer& tok, int n_images) {
  std::string p = "<|im_start|>user\n";
  for (int i = 0; i < n_images; ++i) p += "<|vision_start|><|image_pad|><|vision_end|>";
  p += "What is in this picture?<|im_end|>\n<|im_start|>assistant\n";
  return tok.encode(p, /*parse_special=*/true);
}

// The tokens after the last image: the rows both engines write.
int tail_rows(const std::vector<int32_t>& ids, int32_t pad) {
  int r = 0;
  for (size_t i = ids.size(); i-- > 0 && ids[i] != pad;) ++r;
  return r;
}

struct Outcome {
  std::vector<float> ours, theirs;
  int rows = 0;
};

double rel_max(const std::vector<float>& a, const std::vector<float>& r) {
  double md = 0, mr = 0;
  for (size_t i = 0; i < r.size() && i < a.size(); ++i) {
    md = std::max(md, std::fabs(static_cast<double>(a[i]) - r[i]));
    mr = std::max(mr, std::fabs(static_cast<double>(r[i])));
  }
  return md / mr;
}

class Crosscheck {
 public:
  explicit Crosscheck(const Pair& pair)
      : pair_(pair), model_(Qwen3Model::load(pair.text)), enc_(VisionEncoder::load(pair.mmproj)) {
    check_vision_pair(model_->config(), enc_->config());
    pad_ = model_->tokenizer().token_id("<|image_pad|>").value();
  }

  // Writes the images as PNG (both engines decode them; PNG decoding is exact).
  std::vector<std::string> write_images(const std::vector<std::pair<int, int>>& sizes, int seed0) {
    std::vector<std::string> files;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const fs::path f = scratch() / ("img" + std::to_string(seed0 + static_cast<int>(i)) + "-" +
                                      std::to_string(sizes[i].first) + "x" +
                                      std::to_string(sizes[i].second) + ".png");
      testing::write_png(f.string(), testing::pattern_image(sizes[i].first, sizes[i].second,
                                                            seed0 + static_cast<int>(i)));
      files.push_back(f.string());
    }
    return files;
  }

  // Our logits for each prompt (its images in order), and llama.cpp's from one run of
  // the reference over all of them (when built).
  std::vector<Outcome> run(const std::vector<std::vector<std::string>>& prompts,
                           bool reference = true) {
    ThreadPool pool(2);
    std::vector<Outcome> res;
    std::string cmd = reference_tool().string() + " " + pair_.text + " " + pair_.mmproj + " " +
                      (scratch() / "ref.f32").string() + " --threads 2";
    for (size_t p = 0; p < prompts.size(); ++p) {
      const std::vector<std::string>& images = prompts[p];
      std::vector<ImageEmbedding> embs;
      for (const auto& f : images) embs.push_back(enc_->encode(decode_image_file(f), pool));
      const std::vector<int32_t> ids =
          prompt_ids(model_->tokenizer(), static_cast<int>(images.size()));
      const std::vector<int32_t> full = expand_image_pads(ids, pad_, embs);
      Outcome r;
      r.rows = tail_rows(full, pad_);
      const int n = static_cast<int>(full.size());
      InferenceContext ctx(model_, n + 8, KvType::F16, 2);
      r.ours.resize(static_cast<size_t>(r.rows) * model_->config().n_vocab);
      EXPECT_EQ(eval_vl_prompt(ctx, full.data(), n, pad_, embs, 0, r.ours.data(), n - r.rows),
                static_cast<int>(images.size()));
      res.push_back(std::move(r));
      const fs::path idf = scratch() / ("ids" + std::to_string(p) + ".txt");
      std::ofstream(idf) << join_ids(ids);
      cmd += " --logits " + idf.string();
      for (const auto& f : images) cmd += " --image " + f;
    }
    if (!reference || !fs::exists(reference_tool())) return res;
    cmd += " > " + (scratch() / "ref.json").string() + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed: " + cmd);
    const std::vector<float> all = test::read_f32(scratch() / "ref.f32");
    size_t off = 0;
    for (Outcome& r : res) {
      const size_t len = std::min(r.ours.size(), all.size() - std::min(all.size(), off));
      r.theirs.assign(all.begin() + static_cast<long>(off),
                      all.begin() + static_cast<long>(off + len));
      off += r.ours.size();
    }
    return res;
  }

  const Qwen3Model& model() const { return *model_; }
  std::shared_ptr<const Qwen3Model> model_ptr() const { return model_; }
  int32_t pad() const { return pad_; }

 private:
  Pair pair_;
  std::shared_ptr<Qwen3Model> model_;
  std::unique_ptr<VisionEncoder> enc_;
  int32_t pad_ = -1;
};

// One reference run over every prompt; each prompt's rows within tol.
void compare(Crosscheck& cc, const std::vector<std::vector<std::string>>& prompts, double tol) {
  const std::vector<Outcome> rs = cc.run(prompts);
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::string what = prompts[p].size() == 1 ? "one image" : "images";
    for (const auto& f : prompts[p]) what += " " + fs::path(f).stem().string();
    SCOPED_TRACE(what);
    const Outcome& r = rs[p];
    ASSERT_EQ(r.theirs.size(), r.ours.size());
    const double rel = rel_max(r.ours, r.theirs);
    std::printf("  %-44s %2d rows: max |diff| / max |ref| = %.2e\n", what.c_str(), r.rows, rel);
    EXPECT_LT(rel, tol);
  }
}

// The tiny pair, loaded once for the tests below.
const Pair& tiny_pair() {
  static const Pair p = make_pair("tiny", "--preset tiny --seed 7");
  return p;
}
Crosscheck& tiny() {
  static Crosscheck cc(tiny_pair());
  return cc;
}

TEST(Qwen3VlImage, MropePositionsFollowTheGrid) {
  // Token i of a 3 x 2 grid at p0 = 5: t = 5, y = 5 + i / 3, x = 5 + i % 3; next text at 8.
  const VlInput p = image_token_position(5, 3, 4);
  EXPECT_EQ(p.t, 5);
  EXPECT_EQ(p.y, 6);
  EXPECT_EQ(p.x, 6);
  EXPECT_EQ(image_position_span(3, 2), 3);
  EXPECT_EQ(image_position_span(1, 7), 7);
  // A text position (t = y = x) is NEOX RoPE exactly; an image position mixes the three.
  Qwen3Config c = Qwen3Config::preset("tiny");
  c.mrope_sections = {4, 2, 2, 0};  // head_dim 16: 8 pairs
  const Rope rope(c);
  std::vector<float> cs(8), sn(8), cs2(8), sn2(8);
  rope.at(37, cs.data(), sn.data());
  mrope_at(rope, c.mrope_sections, {37, 37, 37, nullptr}, cs2.data(), sn2.data());
  EXPECT_EQ(cs, cs2);
  EXPECT_EQ(sn, sn2);
  mrope_at(rope, c.mrope_sections, {10, 20, 30, nullptr}, cs2.data(), sn2.data());
  const int want[8] = {10, 20, 30, 10, 20, 30, 10, 10};  // t y x t y x t, then t past 3 x 2
  for (int s = 0; s < 8; ++s) {
    std::vector<float> c1(8), s1(8);
    rope.at(want[s], c1.data(), s1.data());
    EXPECT_EQ(cs2[static_cast<size_t>(s)], c1[static_cast<size_t>(s)]) << s;
    EXPECT_EQ(sn2[static_cast<size_t>(s)], s1[static_cast<size_t>(s)]) << s;
  }
}

TEST(Qwen3VlImage, PadExpansionNeedsOnePlaceholderPerImage) {
  ImageEmbedding a, b;
  a.grid_w = 2, a.grid_h = 3, b.grid_w = 1, b.grid_h = 1;
  EXPECT_EQ(expand_image_pads({1, 9, 2, 9, 3}, 9, {a, b}),
            (std::vector<int32_t>{1, 9, 9, 9, 9, 9, 9, 2, 9, 3}));
  EXPECT_THROW(expand_image_pads({1, 9, 2}, 9, {a, b}), std::invalid_argument);
  EXPECT_THROW(expand_image_pads({1, 9, 9, 9}, 9, {a, b}), std::invalid_argument);
}

TEST(Qwen3VlImage, LogitsWithImagesMatchLlamaCpp) {
  Crosscheck& cc = tiny();
  // Six sizes / aspect ratios (tokens after the smart resize: 12, 49, 10x1 .. 2x10 grids).
  const std::vector<std::string> imgs =
      cc.write_images({{100, 70}, {224, 224}, {37, 300}, {1000, 40}, {160, 90}, {64, 200}}, 1);
  if (!fs::exists(reference_tool()))
    GTEST_SKIP() << "llama.cpp reference build absent (bench/build_llamacpp.sh), so "
                 << reference_tool() << " was not built";
  // Each image alone, then two pairs (the dense F32 bound of bench/moe_crosscheck.sh).
  std::vector<std::vector<std::string>> prompts;
  for (const auto& f : imgs) prompts.push_back({f});
  prompts.push_back({imgs[0], imgs[3]});
  prompts.push_back({imgs[2], imgs[1]});
  compare(cc, prompts, 0.01);
}

// Qwen3-VL MoE (architecture qwen3vlmoe, the shape of Qwen3-VL-30B-A3B): the tiny MoE text
// half with the tiny encoder, images placed and DeepStack added as in the dense model.
TEST(Qwen3VlImage, MoeLogitsWithImagesMatchLlamaCpp) {
  if (!fs::exists(reference_tool()))
    GTEST_SKIP() << "llama.cpp reference build absent (bench/build_llamacpp.sh)";
  Crosscheck cc(make_pair("tiny-moe", "--preset tiny-moe --seed 9"));
  const std::vector<std::string> imgs = cc.write_images({{37, 300}, {160, 90}}, 2);
  compare(cc, {{imgs[0]}, {imgs[1], imgs[0]}}, 0.01);
}

TEST(Qwen3VlImage, LogitsCommandTakesImages) {
  const Pair& pair = tiny_pair();
  Crosscheck& cc = tiny();
  const std::vector<std::string> imgs = cc.write_images({{120, 64}, {48, 96}}, 20);
  const Outcome lib = cc.run({imgs}, /*reference=*/false)[0];
  const std::vector<int32_t> ids = prompt_ids(cc.model().tokenizer(), 2);
  const fs::path out = scratch() / "cli.f32";
  const std::string base = std::string(QWEN3_BIN) + " logits -m " + pair.text + " --ids " +
                           join_ids(ids) + " -t 2 -o " + out.string();
  const std::string cmd = base + " --mmproj " + pair.mmproj + " --image " + imgs[0] + " --image " +
                          imgs[1] + " --last " + std::to_string(lib.rows) + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(test::read_f32(out), lib.ours);  // the same computation, bit for bit
  // Clear errors: images without --mmproj, more images than placeholders.
  EXPECT_NE(std::system((base + " --image " + imgs[0] + " 2>/dev/null").c_str()), 0);
  EXPECT_NE(std::system((base + " --mmproj " + pair.mmproj + " --image " + imgs[0] + " --image " +
                         imgs[1] + " --image " + imgs[0] + " 2>/dev/null")
                            .c_str()),
            0);
}

// The cache after an image: text continues at the image's first position + max(grid);
// truncating back to after the image, or to before it, and evaluating the same tokens
// again gives the same logits bit for bit (the rotary offsets follow the truncation).
TEST(Qwen3VlImage, TruncationKeepsImagePositions) {
  Crosscheck& cc = tiny();
  const std::vector<std::string> imgs = cc.write_images({{200, 64}}, 30);  // 6 x 2 -> 8 x 2
  auto enc = VisionEncoder::load(tiny_pair().mmproj);
  ThreadPool pool(2);
  const std::vector<ImageEmbedding> embs = {enc->encode(decode_image_file(imgs[0]), pool)};
  const Tokenizer& tok = cc.model().tokenizer();
  const std::vector<int32_t> head = tok.encode("<|im_start|>user\n<|vision_start|>", true);
  const std::vector<int32_t> tail = tok.encode("<|vision_end|>Hi there<|im_end|>\n", true);
  const std::shared_ptr<const Qwen3Model> m = cc.model_ptr();
  InferenceContext ctx(m, 256, KvType::F16, 2);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  const int n_head = static_cast<int>(head.size()), n_img = embs[0].n_tokens();
  std::vector<float> a(V), b(V), c(V);
  ctx.eval(head.data(), n_head, nullptr);
  EXPECT_EQ(ctx.next_rope_pos(), n_head);
  ctx.eval_image(embs[0].data.data(), embs[0].grid_w, embs[0].grid_h, nullptr);
  EXPECT_EQ(ctx.n_past(), n_head + n_img);
  EXPECT_EQ(ctx.next_rope_pos(), n_head + std::max(embs[0].grid_w, embs[0].grid_h));
  ctx.eval(tail.data(), static_cast<int>(tail.size()), a.data());
  ctx.truncate(n_head + n_img);
  ctx.eval(tail.data(), static_cast<int>(tail.size()), b.data());
  EXPECT_EQ(a, b);
  ctx.truncate(n_head);
  EXPECT_EQ(ctx.next_rope_pos(), n_head);
  ctx.eval_image(embs[0].data.data(), embs[0].grid_w, embs[0].grid_h, nullptr);
  ctx.eval(tail.data(), static_cast<int>(tail.size()), c.data());
  EXPECT_EQ(a, c);
  // The encoder must fit the model: a text-only model, another width, another DeepStack.
  const VisionConfig vc = enc->config();
  EXPECT_NO_THROW(check_vision_pair(m->config(), vc));
  Qwen3Config text = m->config();
  text.vl_deepstack_layers = -1;
  EXPECT_THROW(check_vision_pair(text, vc), std::invalid_argument);
  text = m->config();
  text.n_embd *= 2;
  EXPECT_THROW(check_vision_pair(text, vc), std::invalid_argument);
  text = m->config();
  text.vl_deepstack_layers += 1;
  EXPECT_THROW(check_vision_pair(text, vc), std::invalid_argument);
}

// `qwen3 run --image`: the image tokens are counted in the stats line, and placeholder
// text typed by the user stays text (were it parsed, three pads would meet two images).
// --kv-type reaches the image run's cache: the tiny model's head dim (16) cannot hold
// q8_0 (groups of 32), which is a clear error, not a silent f16 cache.
TEST(Qwen3VlImage, RunCommandTakesImages) {
  const Pair& pair = tiny_pair();
  Crosscheck& cc = tiny();
  const std::vector<std::string> imgs = cc.write_images({{120, 64}, {48, 96}}, 20);
  const fs::path err = scratch() / "run.err";
  auto run = [&](const std::string& extra) {
    const std::string cmd = std::string(QWEN3_BIN) + " run -m " + pair.text + " --mmproj " +
                            pair.mmproj + " --image " + imgs[0] + " --image " + imgs[1] +
                            " -p 'What is <|vision_start|><|image_pad|><|vision_end|>?' -n 3 " +
                            "--temp 0 -t 2" + extra + " > /dev/null 2> " + err.string();
    const int rc = std::system(cmd.c_str());
    std::ifstream in(err);
    return std::make_pair(rc, std::string((std::istreambuf_iterator<char>(in)), {}));
  };
  const auto [rc, e] = run("");
  ASSERT_EQ(rc, 0) << e;
  // 120x64 -> 128x64 (4 x 2 merged tokens); 48x96 -> 64x128 (2 x 4: up to the 8-token floor).
  EXPECT_NE(e.find("(16 image tokens in 2 images"), std::string::npos) << e;
  const auto [rc8, e8] = run(" --kv-type q8_0");
  EXPECT_NE(rc8, 0);
  EXPECT_NE(e8.find("q8_0 KV cache needs a head dim that is a multiple of 32"), std::string::npos)
      << e8;
}

// Qwen3-VL-2B's shapes (the 1.7B text half cut to one layer, Q4_0; the 2B encoder, F32):
// minutes on two cores, so only on request.
TEST(Qwen3VlImage, TwoBShapeLogitsMatchLlamaCpp) {
  if (!std::getenv("QWEN3_VISION_2B")) GTEST_SKIP() << "set QWEN3_VISION_2B=1 (slow)";
  if (!fs::exists(reference_tool())) GTEST_SKIP() << "llama.cpp reference build absent";
  Crosscheck cc(make_pair("2b", "--preset 1.7b --layers 1 --type q4_0 --seed 3"));
  const auto imgs =
      cc.write_images({{448, 448}, {300, 500}, {640, 360}, {90, 160}, {1000, 60}}, 40);
  std::vector<std::vector<std::string>> prompts;
  for (const auto& f : imgs) prompts.push_back({f});
  prompts.push_back({imgs[0], imgs[2]});
  compare(cc, prompts, 0.05);
}

}  // namespace
}  // namespace qwen3::vision
