// Qwen3-VL images through `qwen3 serve --mmproj` and the official `openai` npm client
// (tests/js/vision_client.mjs): on a random-weight text + mmproj pair, replies to prompts
// with one and two images (streamed and not) equal `qwen3 run --mmproj --image`'s greedy
// replies (the single-sequence InferenceContext path) and its prompt token counts; the
// same text with another image gets its own reply and no prefix-cache hit past the image;
// bad base64, non-image bytes, a too-large image, remote URLs and a server without
// --mmproj are 400s; a 3 MiB PNG passes the JSON and body limits, a 9 MiB one and a data
// URL past the JSON reader's data-URL limit are 400s that say so. Plus the prompt builder's
// image markers, unit by unit.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "engine/batch_engine.h"
#include "engine/image_prompt.h"
#include "engine/shared_pipelines.h"
#include "engine/vl_encoder.h"
#include "engine/vl_images.h"
#include "image_test_util.h"
#include "model/inference_context.h"
#include "model/qwen3_model.h"
#include "qwen3/pipeline.h"
#include "scratch_files.h"
#include "serve_process.h"
#include "server/chat_images.h"
#include "server_test_util.h"
#include "text/tokenizer.h"
#include "vl_model_files.h"

namespace qwen3::test {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir("server_vision_files");
}

using Pair = VlPair;

// The tiny Qwen3-VL pair with the real tokenizer (its chat template), written once per binary.
const Pair& vl_pair() {
  static const Pair p =
      gen_vl_pair(scratch() / "text.gguf", scratch() / "mmproj.gguf",
                  "--preset tiny --type f32 --seed 7 --tokenizer " + tokenizer_path());
  return p;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const char* kPrompt = "What is in this picture?";

// `qwen3 run --mmproj --image ...` greedy: the reply and its prompt token count.
json reference(const std::vector<std::string>& images) {
  static std::map<std::vector<std::string>, json> memo;  // one run per image list
  if (auto it = memo.find(images); it != memo.end()) return it->second;
  const Pair& p = vl_pair();
  std::string cmd = std::string(QWEN3_BIN) + " run -m " + p.text + " --mmproj " + p.mmproj;
  for (const auto& im : images) cmd += " --image " + im;
  const fs::path out = scratch() / "run.out", err = scratch() / "run.err";
  cmd += std::string(" -p ") + shell_quote(kPrompt) +
         " -n 8 --temp 0 --presence-penalty 0 --repeat-penalty 1 -t 2 > " + out.string() + " 2> " +
         err.string();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("qwen3 run failed: " + cmd);
  std::string text = read_all(out);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::smatch m;
  const std::string e = read_all(err);
  if (!std::regex_search(e, m, std::regex("\\[(\\d+) prompt tokens")))
    throw std::runtime_error("no prompt token count in: " + e);
  return memo[images] = {{"text", text}, {"prompt_tokens", std::stoi(m[1])}};
}

int run_node_client(const json& spec) {
  std::string cmd = "QWEN3_TOOLS_DIR=" + shell_quote(QWEN3_TOOLS_DIR) + " node " +
                    shell_quote(std::string(QWEN3_SOURCE_DIR) + "/tests/js/vision_client.mjs") +
                    " " + shell_quote(spec.dump());
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

json write_image_files() {
  const std::string a = (scratch() / "a.png").string(), b = (scratch() / "b.png").string();
  const std::string big = (scratch() / "big.png").string();
  testing::write_png(a, testing::pattern_image(120, 64, 1));
  testing::write_png(b, testing::pattern_image(48, 96, 2));
  testing::write_png(big, testing::pattern_image(17000, 2, 3));  // a side past 16384
  return {{"a", a}, {"b", b}, {"big", big}};
}

const json& image_files() {
  static const json files = write_image_files();
  return files;
}

TEST(ServerVision, OpenAiClientImagesMatchTheRunCommand) {
  const Pair& pair = vl_pair();
  const json& files = image_files();
  json expect = {{"a", reference({files["a"]})},
                 {"b", reference({files["b"]})},
                 {"ab", reference({files["a"], files["b"]})},
                 {"image_start", 4}};  // <|im_start|> user \n <|vision_start|>
  ServeProcess serve({"serve", "-m", pair.text, "--mmproj", pair.mmproj, "--port", "0", "-t", "2"},
                     "server_vision_test.serve.log");
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"mode", "vision"},
               {"prompt", kPrompt},
               {"images", files},
               {"expect", expect}};
  EXPECT_EQ(run_node_client(spec), 0) << expect.dump();
  EXPECT_EQ(serve.stop(), 0);
}

// A PNG of `size` bytes: `png` with a private ancillary chunk ("prVt", skipped by
// decoders) of random bytes before IEND.
std::string padded_png(const std::string& png, std::size_t size) {
  const std::size_t n = size - png.size() - 12;
  std::string chunk = "prVt";
  unsigned x = 12345;
  for (std::size_t i = 0; i < n; ++i)
    chunk.push_back(static_cast<char>((x = x * 1103515245u + 12345u) >> 24));
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char c : chunk) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  return png.substr(0, png.size() - 12) + be32(static_cast<std::uint32_t>(n)) + chunk + be32(crc) +
         png.substr(png.size() - 12);
}

using testing::base64;

// Images up to the 8 MiB image limit fit the JSON reader and the body limit (a server with
// --mmproj takes 32 MiB bodies); past it, a 400 that names the image limit.
TEST(ServerVision, LargeImages) {
  const Pair& pair = vl_pair();
  const std::string png = read_all(image_files()["a"].get<std::string>());
  ServeProcess serve({"serve", "-m", pair.text, "--mmproj", pair.mmproj, "--port", "0", "-t", "2"},
                     "server_vision_test.large.log");
  ASSERT_GT(serve.port(), 0);
  ASSERT_TRUE(serve.wait_ready());
  httplib::Client cli("127.0.0.1", serve.port());
  cli.set_read_timeout(60, 0);
  auto post = [&](const std::string& url) {
    json body = {
        {"messages",
         json::array(
             {{{"role", "user"},
               {"content", json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}},
                                        {{"type", "text"}, {"text", "Hi"}}})}}})},
        {"max_tokens", 1}};
    return cli.Post("/v1/chat/completions", body.dump(), "application/json");
  };
  const std::string big = padded_png(png, 3u << 20);
  auto res = post("data:image/png;base64," + base64(big));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body.substr(0, 300);
  const std::string too_big = padded_png(png, 9u << 20);
  res = post("data:image/png;base64," + base64(too_big));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("holds more than 8 MiB of image data"), std::string::npos) << res->body;
  res = post("data:image/png;base64," + std::string(17u << 20, 'A'));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("data URL is longer than the limit of 16777216 bytes"),
            std::string::npos)
      << res->body.substr(0, 300);
  // Other strings keep the 1 MiB limit.
  json body = {
      {"messages", json::array({{{"role", "user"}, {"content", std::string(2u << 20, 'a')}}})},
      {"max_tokens", 1}};
  res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("longer than the limit of 1048576 bytes"), std::string::npos);
  EXPECT_EQ(serve.stop(), 0);
}

TEST(ServerVision, NoMmprojIsAClearError) {
  const Pair& pair = vl_pair();
  const json& files = image_files();
  ServeProcess serve({"serve", "-m", pair.text, "--port", "0", "-t", "1"},
                     "server_vision_test.nomm.log");
  ASSERT_GT(serve.port(), 0);
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"mode", "no_mmproj"},
               {"prompt", kPrompt},
               {"images", files}};
  EXPECT_EQ(run_node_client(spec), 0);
  EXPECT_EQ(serve.stop(), 0);
}

// The C++ API: ChatMessage::images through a Pipeline, on the single-sequence native
// backend and on a batched sequence (make_shared_pipelines, the server's path).
TEST(ServerVision, PipelineTakesImages) {
  const Pair& pair = vl_pair();
  const json& files = image_files();
  const json want = reference({files["a"], files["b"]});
  auto bytes = [](const std::string& f) { return read_all(f); };
  ChatHistory h;
  ChatMessage m = ChatMessage::user(kPrompt);
  m.images.push_back({bytes(files["a"]), 0});
  m.images.push_back({bytes(files["b"]), 0});
  h.push_back(m);
  GenerationConfig cfg;
  cfg.temperature = 0.0f;
  cfg.max_new_tokens = 8;
  const Properties props = {{"mmproj", pair.mmproj}, {"n_threads", "2"}};
  Pipeline single(pair.text, "CPU", props);
  DecodedResult r = single.generate(h, cfg);
  EXPECT_EQ(r.text, want["text"].get<std::string>());
  EXPECT_EQ(r.prompt_tokens, want["prompt_tokens"].get<std::size_t>());
  r = single.generate(h, cfg);  // again, from the cached prefix
  EXPECT_EQ(r.text, want["text"].get<std::string>());
  auto shared = engine::make_shared_pipelines(pair.text, "CPU", props, 1);
  r = shared.pipelines[0]->generate(h, cfg);
  EXPECT_EQ(r.text, want["text"].get<std::string>());
  // Bad bytes: a clear error; no mmproj: a clear error.
  ChatHistory bad;
  ChatMessage bm = ChatMessage::user("x");
  bm.images.push_back({"not an image", 0});
  bad.push_back(bm);
  EXPECT_THROW(single.generate(bad, cfg), std::invalid_argument);
  Pipeline blind(pair.text, "CPU", {{"n_threads", "2"}});
  EXPECT_THROW(blind.generate(h, cfg), std::invalid_argument);
}

// The batch engine's image path against InferenceContext's (eval_image): the same logits
// after a prompt with an image; another image after the same text shares no block past
// the image (prefix_hit_tokens); the same image again takes the cached blocks.
TEST(ServerVision, BatchEngineImagesMatchInferenceContext) {
  const Pair& pair = vl_pair();
  const json& files = image_files();
  std::shared_ptr<const Qwen3Model> model = Qwen3Model::load(pair.text);
  engine::VlEncoder enc(pair.mmproj, model->config(), 2);
  const auto a = enc.encode(read_all(files["a"].get<std::string>()));
  const auto b = enc.encode(read_all(files["b"].get<std::string>()));
  const Tokenizer& tok = model->tokenizer();
  const auto head = tok.encode("<|im_start|>user\n<|vision_start|>", true);
  const auto tail =
      tok.encode("<|vision_end|>What is it?<|im_end|>\n<|im_start|>assistant\n", true);
  auto prompt = [&](const engine::VlImage& im) {
    std::vector<std::int32_t> ids = head;
    ids.insert(ids.end(), im.ids.begin(), im.ids.end());
    ids.insert(ids.end(), tail.begin(), tail.end());
    return ids;
  };
  const std::size_t V = static_cast<std::size_t>(model->config().n_vocab);
  auto reference = [&](const engine::VlImage& im) {
    InferenceContext ctx(model, 256, KvType::F16, 2);
    std::vector<float> out(V);
    ctx.eval(head.data(), static_cast<int>(head.size()), nullptr);
    ctx.eval_image(im.rows.data(), im.grid_w, im.grid_h, nullptr);
    ctx.eval(tail.data(), static_cast<int>(tail.size()), out.data());
    return out;
  };
  auto close = [&](const float* got, const std::vector<float>& want) {
    float diff = 0, scale = 0;
    for (std::size_t i = 0; i < V; ++i) {
      diff = std::max(diff, std::fabs(got[i] - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    return diff <= 1e-4f * scale;
  };
  engine::BatchEngineOptions o;
  o.max_seqs = 2;
  o.n_ctx = 256;
  o.n_threads = 2;
  engine::BatchEngine eng(model, o);
  auto set = [](std::shared_ptr<const engine::VlImage> im) {
    return std::make_shared<const engine::VlImageSet>(engine::VlImageSet{std::move(im)});
  };
  const auto pa = prompt(*a), pb = prompt(*b);
  eng.set_images(0, set(a));
  EXPECT_TRUE(close(eng.eval(0, pa.data(), static_cast<int>(pa.size())), reference(*a)));
  eng.release(0);
  const auto hits0 = eng.stats().prefix_hit_tokens;
  eng.set_images(1, set(b));
  EXPECT_TRUE(close(eng.eval(1, pb.data(), static_cast<int>(pb.size())), reference(*b)));
  EXPECT_LE(eng.stats().prefix_hit_tokens - hits0, head.size());
  eng.release(1);
  const auto hits1 = eng.stats().prefix_hit_tokens;
  eng.set_images(1, set(a));
  EXPECT_TRUE(close(eng.eval(1, pa.data(), static_cast<int>(pa.size())), reference(*a)));
  EXPECT_GE(eng.stats().prefix_hit_tokens - hits1, 16u);
  // An image id the sequence was not given: a clear error before anything runs.
  eng.release(1);
  eng.set_images(1, set(b));
  EXPECT_THROW(eng.eval(1, pa.data(), static_cast<int>(pa.size())), std::invalid_argument);
}

// Markers through a rendered prompt: literal ranges cut around them and moved along.
TEST(ServerVision, ImageMarkersBecomeVisionTokens) {
  ChatHistory h;
  ChatMessage m = ChatMessage::user("ab<|image_pad|>cd");
  m.images.push_back({"IMG1", 2});
  m.images.push_back({"IMG0", 0});
  h.push_back(m);
  const auto order_of = engine::history_images(h);
  ASSERT_EQ(order_of.size(), 2u);
  EXPECT_EQ(order_of[0]->bytes, "IMG0");  // by offset
  const engine::ImageMarkers mk = engine::insert_image_markers(h);
  const std::string c = mk.history.messages[0].content;
  EXPECT_EQ(c, mk.prefix + "0>ab" + mk.prefix + "1><|image_pad|>cd");
  std::string text = "<u>" + c + "</u>";
  TextRanges lit = {{3, 3 + c.size()}};
  const std::vector<int> order = engine::replace_image_markers(mk.prefix, text, lit);
  const std::string v = "<|vision_start|><|image_pad|><|vision_end|>";
  EXPECT_EQ(text, "<u>" + v + "ab" + v + "<|image_pad|>cd</u>");
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
  ASSERT_EQ(lit.size(), 2u);  // "ab" and "<|image_pad|>cd" stay literal
  EXPECT_EQ(text.substr(lit[0].begin, lit[0].end - lit[0].begin), "ab");
  EXPECT_EQ(text.substr(lit[1].begin, lit[1].end - lit[1].begin), "<|image_pad|>cd");
  const std::vector<std::int32_t> ids =
      engine::expand_image_runs({1, 9, 2, 9, 3}, 9, {1, 0}, {{-5, -6}, {-7}});
  EXPECT_EQ(ids, (std::vector<std::int32_t>{1, -7, 2, -5, -6, 3}));
  EXPECT_THROW(engine::expand_image_runs({9, 9}, 9, {0}, {{-1}}), std::logic_error);
}

// Image ids: negative, distinct within an image, other images' differ; the M-RoPE slots.
TEST(ServerVision, ImageIdsAndPositions) {
  const auto a = engine::image_token_ids(engine::image_hash("a", 1), 4096);
  const auto b = engine::image_token_ids(engine::image_hash("b", 1), 4096);
  std::set<std::int32_t> seen(a.begin(), a.end());
  EXPECT_EQ(seen.size(), a.size());
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT(a[i], 0);
    same += a[i] == b[i];
  }
  EXPECT_LT(same, 3);
  auto im = std::make_shared<engine::VlImage>();
  im->grid_w = 3, im->grid_h = 2, im->dim = 1;
  im->rows = {0, 1, 2, 3, 4, 5};
  im->ids = engine::image_token_ids(42, 6);
  const engine::VlImageSet set = {im};
  std::vector<std::int32_t> ids = {7, 8};
  ids.insert(ids.end(), im->ids.begin(), im->ids.end());
  ids.push_back(9);
  std::vector<engine::VlSlot> slots;
  ASSERT_EQ(engine::vl_extend(set, 100, slots, 0, ids.data(), 5), 5);  // part of the image
  ASSERT_EQ(engine::vl_extend(set, 100, slots, 5, ids.data() + 5, 4), 4);
  EXPECT_EQ(slots[2].in.t, 2);
  EXPECT_EQ(slots[6].in.y, 3);  // token 4: row 1, column 1
  EXPECT_EQ(slots[6].in.x, 3);
  EXPECT_EQ(*slots[6].in.embd, 4.0f);
  EXPECT_EQ(slots[8].in.t, 5);  // text after: 2 + max(3, 2)
  EXPECT_FALSE(engine::vl_needed(slots[1], 1));
  EXPECT_TRUE(engine::vl_needed(slots[8], 8));
  const std::int32_t unknown = -12345;
  EXPECT_EQ(engine::vl_extend(set, 100, slots, 9, &unknown, 1), 0);
  const std::int32_t past_vocab = 100;
  EXPECT_EQ(engine::vl_extend(set, 100, slots, 9, &past_vocab, 1), 0);
}

TEST(ServerVision, Base64) {
  std::string out;
  EXPECT_TRUE(server::decode_base64("xaGVsbG8=", 1, out));
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(server::decode_base64("aGk", 0, out));
  EXPECT_EQ(out, "hi");
  EXPECT_FALSE(server::decode_base64("aGk*", 0, out));
  EXPECT_FALSE(server::decode_base64("a", 0, out));
  EXPECT_FALSE(server::decode_base64("aGk===", 0, out));
}

}  // namespace
}  // namespace qwen3::test
