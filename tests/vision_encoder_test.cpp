// Qwen3-VL image input, the vision side: image decoding (PNG/JPEG/WebP, errors for empty,
// truncated, wrong-type and oversized images before any pixel buffer is allocated), the
// smart-resize sizes, and the encoder's image embeddings (main projection + DeepStack)
// against llama.cpp's libmtmd (bench/llamacpp_mtmd) on a random tiny Qwen3-VL pair from
// `qwen3 gen-model --mmproj`, for generated images of several sizes and aspect ratios
// written as PNG and JPEG. The crosscheck skips with a message when the llama.cpp
// reference build is absent.
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

#include <webp/encode.h>
#include <zlib.h>

#include "convert/hf_checkpoint_writer.h"
#include "convert/mmproj_convert.h"
#include "convert/mmproj_generator.h"
#include "gguf/gguf_reader.h"
#include "gguf_compare_util.h"
#include "image_test_util.h"
#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "scratch_files.h"
#include "vision/image_decode.h"
#include "vision/image_preprocess.h"
#include "vision/vision_encoder.h"
#include "vision/vision_gemm.h"
#include "vision/vision_ops.h"
#include "vl_hf_test_util.h"
#include "vl_model_files.h"

namespace qwen3::vision {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir("vision_test");
}

std::string decode_error(const std::vector<uint8_t>& bytes, const ImageLimits& lim = {}) {
  try {
    decode_image(bytes.data(), bytes.size(), lim);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The encoder's packed products at every ISA level this CPU runs (AVX-512 and AVX2
// panels, kernels/matmul below) against the scalar reference matmul_ref, F32 and F16 weights,
// shapes with output and token tails, into a wider output row (ldy) with a bias.
TEST(VisionGemm, PackedProductsMatchScalarReference) {
  ThreadPool pool(2);
  uint32_t seed = 7;
  auto rnd = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  };
  const int shapes[][3] = {{64, 64, 196}, {70, 48, 13}, {33, 100, 1}, {96, 256, 30}};
  for (const auto& sh : shapes)
    for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
      const int rows = sh[0], cols = sh[1], n_tok = sh[2], ldy = rows + 5;
      std::vector<float> w(static_cast<size_t>(rows) * cols), x(static_cast<size_t>(n_tok) * cols),
          bias(rows);
      for (float& v : w) v = rnd();
      for (float& v : x) v = rnd();
      for (float& v : bias) v = rnd();
      std::vector<uint16_t> w16(w.size());
      fp32_to_fp16_row(w.data(), w16.data(), static_cast<int64_t>(w.size()));
      const WeightMatrix W{type, rows, cols,
                           type == GgmlType::F32 ? static_cast<const void*>(w.data()) : w16.data()};
      std::vector<float> ref(static_cast<size_t>(n_tok) * rows);
      matmul_ref(W, x.data(), n_tok, ref.data());
      for (IsaLevel isa : available_isas()) {
        set_isa(isa);
        const PackedMatrix pm = PackedMatrix::pack(W);
        std::vector<float> y(static_cast<size_t>(n_tok) * ldy, 99.0f);
        pm.multiply(x.data(), n_tok, y.data(), ldy, bias.data(), pool);
        for (int t = 0; t < n_tok; ++t) {
          for (int r = 0; r < rows; ++r)
            ASSERT_NEAR(y[t * ldy + r], ref[t * rows + r] + bias[r], 1e-5f)
                << isa_name(isa) << " " << rows << "x" << cols << " tok " << t << " row " << r;
          for (int r = rows; r < ldy; ++r) ASSERT_EQ(y[t * ldy + r], 99.0f);  // untouched
        }
      }
      set_isa(best_isa());
    }
}

// The table GELU (vectorized where the CPU allows) is gelu_ggml bit for bit.
TEST(VisionGemm, GeluTableEqualsGeluGgml) {
  std::vector<float> x;
  for (float v = -12.0f; v < 12.0f; v += 0.000731f) x.push_back(v);
  for (IsaLevel isa : {best_isa(), IsaLevel::Scalar}) {
    set_isa(isa);
    std::vector<float> y = x;
    gelu_inplace(y.data(), static_cast<int64_t>(y.size()));
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(y[i], gelu_ggml(x[i])) << isa_name(isa) << " x = " << x[i];
  }
  set_isa(best_isa());
}

// A Hugging Face Qwen3-VL folder holding the weights of a generated mmproj (names and
// shapes of transformers' Qwen3VLForConditionalGeneration, written here independently of
// the converter), converted back: the same tensors (names, order, types, shapes, bytes)
// and the same keys as the generated file, in F32 and F16.
TEST(VisionConvert, HfFolderConvertsToTheGeneratedMmproj) {
  const fs::path d = scratch() / "hf_vl";
  fs::remove_all(d);
  fs::create_directories(d);
  VisionConfig c = VisionConfig::preset("tiny");
  c.mean[0] = 0.48f, c.std[2] = 0.27f;
  MmprojOptions o;
  o.config = c;
  o.seed = 11;
  const std::string gen32 = (d / "gen32.gguf").string(), gen16 = (d / "gen16.gguf").string();
  generate_random_mmproj(o, gen32);
  o.type = GgmlType::F16;
  generate_random_mmproj(o, gen16);

  const gguf::GgufFile src = gguf::GgufFile::open(gen32);
  std::vector<hf::SafetensorsSpec> specs;
  ASSERT_NO_FATAL_FAILURE(test::add_vision_specs(src, c, &specs));
  specs.push_back(
      {"model.language_model.norm.weight", GgmlType::F32, {64}, [](void* dst, size_t n) {
         std::memset(dst, 0, n);
       }});
  hf::write_safetensors((d / "model.safetensors").string(), specs);
  std::string ds;
  for (int l : c.deepstack_layers) ds += (ds.empty() ? "" : ", ") + std::to_string(l);
  std::ofstream((d / "config.json").string())
      << R"({"architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl",
  "text_config": {"hidden_size": )"
      << c.proj_dim << R"(, "rms_norm_eps": 1e-06},
  "vision_config": {"depth": )"
      << c.n_layers << R"(, "hidden_size": )" << c.n_embd << R"(, "intermediate_size": )" << c.n_ff
      << R"(, "num_heads": )" << c.n_head
      << R"(, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
    "num_position_embeddings": )"
      << c.n_pos_side * c.n_pos_side << R"(, "out_hidden_size": )" << c.proj_dim
      << R"(, "deepstack_visual_indexes": [)" << ds << R"(]}})";
  std::ofstream((d / "preprocessor_config.json").string())
      << R"({"image_mean": [0.48, 0.5, 0.5], "image_std": [0.5, 0.5, 0.27]})";

  for (const auto& [type, gen] :
       {std::pair{GgmlType::F32, gen32}, std::pair{GgmlType::F16, gen16}}) {
    const std::string out = (d / "converted.gguf").string();
    hf::convert_hf_to_mmproj(d.string(), out, type, 1);
    const gguf::GgufFile a = gguf::GgufFile::open(gen), b = gguf::GgufFile::open(out);
    EXPECT_EQ(a.keys(), b.keys());
    test::expect_same_keys(a, b, {"general.name"});
    test::expect_same_tensors(a, b, /*same_order=*/true);
  }
  // A folder without config.json is a clear error.
  EXPECT_THROW(
      {
        try {
          hf::convert_hf_to_mmproj((d / "missing").string(), (d / "x.gguf").string(),
                                   GgmlType::F32);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
}

TEST(VisionPreprocess, SmartResizeMatchesLlamaCppBudget) {
  const VisionConfig c = VisionConfig::preset("2b");
  auto sz = [&](int w, int h) {
    const ImageSize s = smart_resize_size(w, h, c);
    return std::to_string(s.width) + "x" + std::to_string(s.height);
  };
  EXPECT_EQ(sz(448, 448), "448x448");
  EXPECT_EQ(sz(100, 70), "128x96");  // under 8 x 32 x 32 pixels: scaled up, ceil
  EXPECT_EQ(sz(640, 360), "640x352");
  EXPECT_EQ(sz(1, 1), "96x96");
  const ImageSize big = smart_resize_size(8000, 6000, c);  // over 4096 tokens: scaled down
  EXPECT_LE(1LL * big.width * big.height, c.max_pixels());
  EXPECT_EQ(big.width % 32, 0);
  EXPECT_EQ(big.height % 32, 0);
}

TEST(VisionDecode, PngVariantsDecodeLikeStbImage) {
  const RgbImage img = testing::pattern_image(37, 23, 1);
  const fs::path d = scratch();
  testing::write_png((d / "rgb.png").string(), img, 3);
  testing::write_png((d / "grey.png").string(), img, 1);
  testing::write_png((d / "rgba.png").string(), img, 4);
  testing::write_png((d / "rgb16.png").string(), img, 3, 16);
  EXPECT_EQ(decode_image_file((d / "rgb.png").string()).rgb, img.rgb);
  EXPECT_EQ(decode_image_file((d / "rgba.png").string()).rgb, img.rgb);   // alpha dropped
  EXPECT_EQ(decode_image_file((d / "rgb16.png").string()).rgb, img.rgb);  // high byte
  const RgbImage g = decode_image_file((d / "grey.png").string());
  ASSERT_EQ(g.width, 37);
  for (int i = 0; i < 37 * 23; ++i)
    for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(g.rgb[i * 3 + ch], img.rgb[i * 3 + 1]);
}

// WebP: llama.cpp's helper cannot be the reference (stb_image has no WebP; libmtmd hands
// WebP to an ffmpeg binary only when built with MTMD_VIDEO, which this build is not, and
// then refuses it); transformers' processor decodes through Pillow, i.e. libwebp, as we do.
// So the crosscheck is against the source pixels: a lossless WebP written by libwebp's
// encoder decodes to exactly the pixels it was made from (which the PNG cases tie to
// libmtmd's embeddings), odd sizes included; a lossy one keeps the size and stays close.
// Our decoder over the `n` bytes libwebp encoded into `out` (freed here).
RgbImage decode_webp(uint8_t* out, size_t n) {
  const std::vector<uint8_t> bytes(out, out + n);
  WebPFree(out);
  return decode_image(bytes.data(), bytes.size(), {});
}

TEST(VisionDecode, WebpDecodesToTheSourcePixels) {
  for (const auto& [w, h] : {std::pair{37, 23}, std::pair{301, 199}, std::pair{1, 1}}) {
    const RgbImage img = testing::pattern_image(w, h, 3);
    uint8_t* out = nullptr;
    size_t n = WebPEncodeLosslessRGB(img.rgb.data(), w, h, w * 3, &out);
    ASSERT_GT(n, 0u);
    const RgbImage d = decode_webp(out, n);
    ASSERT_EQ(d.width, w);
    ASSERT_EQ(d.height, h);
    EXPECT_EQ(d.rgb, img.rgb) << w << "x" << h;

    n = WebPEncodeRGB(img.rgb.data(), w, h, w * 3, 95.0f, &out);
    ASSERT_GT(n, 0u);
    const RgbImage q = decode_webp(out, n);
    ASSERT_EQ(q.width, w);
    ASSERT_EQ(q.height, h);
    double err = 0;
    for (size_t i = 0; i < img.rgb.size(); ++i) err += std::abs(int(q.rgb[i]) - int(img.rgb[i]));
    EXPECT_LT(err / static_cast<double>(img.rgb.size()), 40.0) << w << "x" << h;
  }
}

TEST(VisionDecode, BadImagesAreClearErrors) {
  const fs::path d = scratch();
  const RgbImage img = testing::pattern_image(64, 48, 2);
  testing::write_png((d / "t.png").string(), img);
  testing::write_jpeg((d / "t.jpg").string(), img);
  const auto png = test::read_bytes(d / "t.png"), jpg = test::read_bytes(d / "t.jpg");
  EXPECT_NE(decode_error({}).find("empty image"), std::string::npos);
  EXPECT_NE(decode_error({'G', 'I', 'F', '8', '9', 'a', 0, 0}).find("unsupported image type"),
            std::string::npos);
  for (size_t cut : {png.size() / 2, size_t{40}, size_t{9}}) {
    const std::vector<uint8_t> t(png.begin(), png.begin() + static_cast<long>(cut));
    EXPECT_NE(decode_error(t).find("PNG"), std::string::npos) << cut;
  }
  for (size_t cut : {jpg.size() / 2, size_t{100}, size_t{4}}) {
    const std::vector<uint8_t> t(jpg.begin(), jpg.begin() + static_cast<long>(cut));
    EXPECT_NE(decode_error(t).find("JPEG"), std::string::npos) << cut;
  }
  const std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 30,  0,   0,   0,
                                     'W', 'E', 'B', 'P', 'V', 'P', '8', ' '};
  EXPECT_NE(decode_error(webp).find("WebP"), std::string::npos);
  // The pixel guard fires from the header, before decoding.
  ImageLimits small;
  small.max_pixels = 1000;
  EXPECT_NE(decode_error(png, small).find("over the limit"), std::string::npos);
  EXPECT_NE(decode_error(jpg, small).find("over the limit"), std::string::npos);
  // A PNG header claiming 100000 x 100000 pixels (a decompression bomb) with valid CRC.
  std::vector<uint8_t> bomb = png;
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bomb[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  };
  put32(16, 100000);
  put32(20, 100000);
  uLong crc = crc32(0, bomb.data() + 12, 17);
  put32(29, static_cast<uint32_t>(crc));
  const std::string e = decode_error(bomb);
  EXPECT_TRUE(e.find("over the limit") != std::string::npos ||
              e.find("exceeds") != std::string::npos)
      << e;
  EXPECT_NE(decode_error(bomb).find("PNG"), std::string::npos);
  EXPECT_THROW(decode_image_file((d / "missing.png").string()), std::runtime_error);
}

// ---- the llama.cpp crosscheck ----

using Pair = test::VlPair;

// Written once and reused while newer than the qwen3 binary.
Pair make_pair(const std::string& tag, const std::string& gen_args) {
  return test::gen_vl_pair(scratch() / ("vl-text-" + tag + ".gguf"),
                           scratch() / ("vl-mmproj-" + tag + ".gguf"), gen_args);
}

const Pair& tiny_pair() {
  static const Pair p = make_pair("tiny", "--preset tiny --seed 7");
  return p;
}

fs::path reference_tool() {
  return fs::path(QWEN3_BUILD_DIR) / "bench" / "llamacpp_mtmd";
}

// One run of the reference over several sources ("--image FILE": libmtmd decodes it with
// stb_image; "--rgb W H FILE": raw pixels); the embeddings of each, in order.
std::vector<std::vector<float>> reference_embeddings(const Pair& pair,
                                                     const std::vector<std::string>& sources,
                                                     int dim) {
  const fs::path out = scratch() / "ref.f32", js = scratch() / "ref.json";
  std::string cmd = reference_tool().string() + " " + pair.text + " " + pair.mmproj + " " +
                    out.string() + " --threads 2";
  for (const auto& s : sources) cmd += " " + s;
  if (std::system((cmd + " > " + js.string()).c_str()) != 0)
    throw std::runtime_error("reference failed: " + cmd);
  std::ifstream in(js);
  const std::string j((std::istreambuf_iterator<char>(in)), {});
  const auto bytes = test::read_bytes(out);
  std::vector<std::vector<float>> res;
  size_t at = j.find('[') + 1, off = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    const int n = std::atoi(j.c_str() + at);
    at = j.find_first_of(",]", at) + 1;
    std::vector<float> v(static_cast<size_t>(n) * dim);
    if ((off + v.size()) * sizeof(float) > bytes.size())
      throw std::runtime_error("short reference");
    std::memcpy(v.data(), bytes.data() + off * sizeof(float), v.size() * sizeof(float));
    off += v.size();
    res.push_back(std::move(v));
  }
  return res;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double n2 = 0, d2 = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    n2 += (a[i] - b[i]) * (a[i] - b[i]), d2 += static_cast<double>(b[i]) * b[i];
  return std::sqrt(n2 / d2);
}

struct Case {
  int w, h;
  std::string kind;  // png (RGB), grey, rgba (PNG) or jpg
};

// tol: bound on max|diff| / max|ref| and on the relative L2 error.
void crosscheck(const Pair& pair, const std::vector<Case>& cases, double tol = 1e-3) {
  const auto enc = VisionEncoder::load(pair.mmproj);
  ThreadPool pool(2);
  // JPEG decoders round the IDCT and colour conversion differently (libjpeg-turbo vs
  // llama.cpp's stb_image: pixels off by one here and there), so for JPEG the reference
  // gets our decoded pixels; the gap between the two decoders is printed, not asserted.
  std::vector<std::string> sources, stb_sources;
  std::vector<ImageEmbedding> ours;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const RgbImage img = testing::pattern_image(c.w, c.h, static_cast<int>(i) + 1);
    const fs::path file =
        scratch() / ("img" + std::to_string(i) + (c.kind == "jpg" ? ".jpg" : ".png"));
    if (c.kind == "jpg")
      testing::write_jpeg(file.string(), img);
    else
      testing::write_png(file.string(), img, c.kind == "grey" ? 1 : c.kind == "rgba" ? 4 : 3);
    const RgbImage decoded = decode_image_file(file.string());
    ours.push_back(enc->encode(decoded, pool));
    if (c.kind == "jpg") {
      const fs::path raw = scratch() / ("decoded" + std::to_string(i) + ".rgb");
      std::ofstream(raw, std::ios::binary)
          .write(reinterpret_cast<const char*>(decoded.rgb.data()),
                 static_cast<std::streamsize>(decoded.rgb.size()));
      sources.push_back("--rgb " + std::to_string(decoded.width) + " " +
                        std::to_string(decoded.height) + " " + raw.string());
      stb_sources.push_back("--image " + file.string());
    } else {
      sources.push_back("--image " + file.string());
    }
  }
  const int dim = enc->config().out_dim();
  const auto refs = reference_embeddings(pair, sources, dim);
  const auto stb = stb_sources.empty() ? std::vector<std::vector<float>>()
                                       : reference_embeddings(pair, stb_sources, dim);
  size_t jpeg_index = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::vector<float>& ref = refs[i];
    SCOPED_TRACE(std::to_string(c.w) + "x" + std::to_string(c.h) + " " + c.kind);
    ASSERT_EQ(ours[i].dim, dim);
    ASSERT_EQ(ours[i].data.size(), ref.size());
    double max_ref = 0, max_diff = 0;
    for (size_t k = 0; k < ref.size(); ++k) {
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[k])));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours[i].data[k]) - ref[k]));
    }
    const double rel = rel_l2(ours[i].data, ref);
    std::printf("  %4dx%-4d %-4s %3d tokens: max |diff| %.2e (max |ref| %.2f), rel L2 %.2e\n", c.w,
                c.h, c.kind.c_str(), ours[i].n_tokens(), max_diff, max_ref, rel);
    EXPECT_LE(max_diff, tol * max_ref);
    EXPECT_LE(rel, tol);
    if (c.kind == "jpg")
      std::printf("             (llama.cpp decoding the JPEG itself: rel L2 %.2e)\n",
                  rel_l2(ours[i].data, stb[jpeg_index++]));
  }
}

TEST(VisionEncoder, ImageEmbeddingsMatchLlamaCpp) {
  if (!fs::exists(reference_tool()))
    GTEST_SKIP() << "llama.cpp reference build absent (bench/build_llamacpp.sh), so "
                 << reference_tool() << " was not built";
  crosscheck(tiny_pair(), {{100, 70, "png"},
                           {448, 448, "png"},
                           {37, 300, "png"},
                           {1000, 40, "png"},
                           {640, 360, "jpg"},
                           {50, 50, "jpg"},
                           {333, 222, "grey"},
                           {200, 120, "rgba"}});
}

// An F16 mmproj: ggml rounds the activations to F16 for every F16 matrix product, we keep
// them in float (measured: 4.5e-4 relative L2), so the bound is looser.
TEST(VisionEncoder, F16MmprojMatchesLlamaCpp) {
  if (!fs::exists(reference_tool())) GTEST_SKIP() << "llama.cpp reference build absent";
  crosscheck(make_pair("tiny-f16", "--preset tiny --seed 5 --mmproj-type f16"),
             {{448, 448, "png"}, {160, 90, "png"}}, 2e-3);
}

// Qwen3-VL-2B's encoder shape (24 blocks of 1024, DeepStack 5/11/17; a 1.6 GB F32 file
// and a one-block text half): minutes on two cores, so only on request.
TEST(VisionEncoder, TwoBShapeMatchesLlamaCpp) {
  if (!std::getenv("QWEN3_VISION_2B")) GTEST_SKIP() << "set QWEN3_VISION_2B=1 (slow)";
  if (!fs::exists(reference_tool())) GTEST_SKIP() << "llama.cpp reference build absent";
  crosscheck(make_pair("2b", "--preset 1.7b --layers 1 --type q4_0 --seed 3"),
             {{448, 448, "png"}, {640, 360, "jpg"}, {300, 500, "png"}});
}

}  // namespace
}  // namespace qwen3::vision
