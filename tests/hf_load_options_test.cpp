// Load-time options of a Hugging Face folder through the engine and the commands:
// `--quantize` (the `quantize` Pipeline property) and the sampling defaults of
// generation_config.json (and of a converted GGUF's general.sampling.* keys).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli_run.h"
#include "convert/hf_checkpoint_writer.h"
#include "engine/model_defaults.h"
#include "engine/shared_pipelines.h"
#include "qwen3/generation_config.h"
#include "qwen3/pipeline.h"
#include "shape_util.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

hf::HfModelConfig shape(int64_t hidden, int64_t head_dim, int64_t ff, bool tied) {
  hf::HfModelConfig c = test::hf_shape({2, hidden, 4, 2, head_dim, ff, 151936, 4096});
  c.architecture = "Qwen3ForCausalLM";
  c.tie_word_embeddings = tied;
  return c;
}

struct Result {
  int rc = -1;
  std::string out;  // stdout + stderr
};

Result sh(const std::string& cmd) {
  const auto r = qwen3::test::run_command(cmd + " 2>&1");
  return {r.status, r.out};
}

constexpr auto& slurp = qwen3::test::read_file;

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// One tiny sharded BF16 checkpoint, tied embedding (hidden 256: the Q4_K mix really uses
// Q4_K and Q6_K)
// shared by the tests of this file.
class HfLoad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("qwen3_hfload_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    hf::RandomCheckpointOptions o;
    o.tokenizer_dir = QWEN3_TOKENIZER_DIR;
    o.n_shards = 3;
    hf::write_random_hf_checkpoint((*dir_ / "hf").string(), shape(256, 64, 512, true), o);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  static std::string folder() { return (*dir_ / "hf").string(); }
  static fs::path dir() { return *dir_; }
  static std::string bin() { return QWEN3_BIN; }

  static fs::path* dir_;
};
fs::path* HfLoad::dir_ = nullptr;

// --- --quantize ------------------------------------------------------------------

TEST_F(HfLoad, LogitsQuantizedAtLoadEqualTheConvertedGguf) {
  const std::string ids = " --ids 151644,872,198,9707,11,1879 --kv-f32 -t 1 -o ";
  const std::pair<const char*, const char*> cases[] = {
      {"q8_0", "q8_0"}, {"q4_k", "q4_k_m"}};  // q4_0: in-process in convert_hf_test
  for (const auto& [q, t] : cases) {
    const fs::path gguf = dir() / (std::string(t) + ".gguf");
    ASSERT_EQ(
        sh(bin() + " convert " + folder() + " -o " + gguf.string() + " --type " + t + " -q").rc, 0);
    const fs::path a = dir() / "a.f32", b = dir() / "b.f32";
    const Result ra = sh(bin() + " logits -m " + folder() + " --quantize " + q + ids + a.string());
    ASSERT_EQ(ra.rc, 0) << ra.out;
    ASSERT_EQ(sh(bin() + " logits -m " + gguf.string() + ids + b.string()).rc, 0);
    const std::string la = slurp(a);
    EXPECT_EQ(la.size(), 6u * 151936 * 4);
    EXPECT_TRUE(la == slurp(b)) << q << ": logits differ from the " << t << " conversion";
    // ... and differ from the unquantized folder's (the option did something).
    ASSERT_EQ(sh(bin() + " logits -m " + folder() + ids + b.string()).rc, 0);
    EXPECT_FALSE(la == slurp(b)) << q;
    fs::remove(gguf);
  }
}

TEST_F(HfLoad, RunAndBenchAcceptQuantize) {
  const Result run = sh(bin() + " run -m " + folder() +
                        " --quantize q4_0 --raw -p hello -n 3 --seed 1 -t 1 -c 64");
  EXPECT_EQ(run.rc, 0) << run.out;
  const Result bench = sh(bin() + " bench -m " + folder() +
                          " --quantize q8_0 -p 4 -n 2 -r 1 -t 1 --json 2>/dev/null");
  ASSERT_EQ(bench.rc, 0) << bench.out;
  EXPECT_NE(bench.out.find("\"quantize\":\"q8_0\""), std::string::npos) << bench.out;
  const Result none = sh(bin() + " logits -m " + folder() + " --quantize none --ids 1 -o " +
                         (dir() / "n.f32").string());
  EXPECT_EQ(none.rc, 0) << none.out;
}

TEST_F(HfLoad, BadQuantizeValueIsOneLineExit2) {
  const std::string q = " --quantize q5_k ";
  for (const std::string& cmd :
       {"run -m " + folder() + q + "-p hi", "chat -m " + folder() + q,
        "serve -m " + folder() + q + "--port 0", "bench -m " + folder() + q,
        "logits -m " + folder() + q + "--ids 1 -o " + (dir() / "x").string()}) {
    const Result r = sh(bin() + " " + cmd + " </dev/null");
    EXPECT_EQ(r.rc, 2) << cmd << "\n" << r.out;
    EXPECT_EQ(lines(r.out), 1) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("q4_0, q4_k, q8_0 or none"), std::string::npos) << r.out;
  }
}

TEST_F(HfLoad, QuantizeOnAGgufIsAClearError) {
  const fs::path gguf = dir() / "f16.gguf";
  ASSERT_EQ(sh(bin() + " convert " + folder() + " -o " + gguf.string() + " --type f16 -q").rc, 0);
  const Result r = sh(bin() + " logits -m " + gguf.string() + " --quantize q8_0 --ids 1 -o " +
                      (dir() / "x").string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("Hugging Face folders only"), std::string::npos) << r.out;
  const Result run = sh(bin() + " run -m " + gguf.string() + " --quantize q4_0 -p hi -n 1");
  EXPECT_EQ(run.rc, 2);
  EXPECT_NE(run.out.find("Hugging Face folders only"), std::string::npos) << run.out;
  // none is the default and fine anywhere.
  EXPECT_EQ(sh(bin() + " logits -m " + gguf.string() + " --quantize none --ids 1 -o " +
               (dir() / "x").string())
                .rc,
            0);
  EXPECT_THROW(Pipeline(gguf.string(), "CPU", {{"quantize", "q8_0"}}), std::exception);
  fs::remove(gguf);
}

TEST_F(HfLoad, PipelineQuantizeProperty) {
  EXPECT_THROW(Pipeline(folder(), "CPU", {{"quantize", "q3_k"}}), std::invalid_argument);
  Pipeline p(folder(), "CPU", {{"quantize", "q8_0"}, {"n_ctx", "64"}, {"n_threads", "1"}});
  GenerationConfig g;
  g.temperature = 0.0f;
  g.max_new_tokens = 2;
  g.apply_chat_template = false;
  g.ignore_eos = true;
  EXPECT_EQ(p.generate("hello", g).tokens.size(), 2u);
}

// --- gen-model --format hf ---------------------------------------------------------

TEST(GenModelHf, WritesALoadableShardedFolder) {
  const fs::path d = fs::temp_directory_path() / ("qwen3_genhf_" + std::to_string(::getpid()));
  fs::remove_all(d);
  const std::string bin = QWEN3_BIN;
  const Result r = sh(bin + " gen-model --preset tiny --format hf --shards 3 --seed 5 -o " +
                      (d / "hf").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* f :
       {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
        "model.safetensors.index.json", "model-00003-of-00003.safetensors"})
    EXPECT_TRUE(fs::exists(d / "hf" / f)) << f;
  const Result l =
      sh(bin + " logits -m " + (d / "hf").string() + " --ids 1,2 -o " + (d / "l.f32").string());
  EXPECT_EQ(l.rc, 0) << l.out;
  EXPECT_EQ(fs::file_size(d / "l.f32"), 2u * 151669 * 4);
  const Result bad =
      sh(bin + " gen-model --preset tiny --format hf --type q8_0 -o " + (d / "x").string());
  EXPECT_EQ(bad.rc, 2);
  EXPECT_EQ(lines(bad.out), 1) << bad.out;
  fs::remove_all(d);
}

// --- sampling defaults ------------------------------------------------------------

TEST(ModelDefaults, ResolvedPrefersTheRequestThenTheModelThenTheCard) {
  ModelSamplingDefaults m;
  m.temperature = 0.3f;
  m.top_k = 5;
  m.top_p = 0.5f;
  m.min_p = 0.05f;
  m.repetition_penalty = 1.2f;
  m.presence_penalty = 0.5f;
  GenerationConfig user;
  auto r = user.resolved(true, m);
  EXPECT_FLOAT_EQ(*r.temperature, 0.3f);
  EXPECT_EQ(*r.top_k, 5);
  EXPECT_FLOAT_EQ(*r.top_p, 0.5f);
  EXPECT_FLOAT_EQ(*r.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.repetition_penalty, 1.2f);
  EXPECT_FLOAT_EQ(r.presence_penalty, 0.5f);
  // Thinking off: the card's non-thinking sampling, the model's penalties.
  r = user.resolved(false, m);
  EXPECT_FLOAT_EQ(*r.temperature, 0.7f);
  EXPECT_FLOAT_EQ(*r.top_p, 0.8f);
  EXPECT_EQ(*r.top_k, 20);
  EXPECT_FLOAT_EQ(r.repetition_penalty, 1.2f);
  // Explicit fields win.
  user.temperature = 1.1f;
  user.top_k = 0;
  user.repetition_penalty = 1.05f;
  user.presence_penalty = 1.5f;
  r = user.resolved(true, m);
  EXPECT_FLOAT_EQ(*r.temperature, 1.1f);
  EXPECT_EQ(*r.top_k, 0);
  EXPECT_FLOAT_EQ(*r.top_p, 0.5f);
  EXPECT_FLOAT_EQ(r.repetition_penalty, 1.05f);
  EXPECT_FLOAT_EQ(r.presence_penalty, 1.5f);
  // No model defaults: the card, as before.
  r = GenerationConfig{}.resolved(true, ModelSamplingDefaults{});
  EXPECT_FLOAT_EQ(*r.temperature, 0.6f);
  EXPECT_FLOAT_EQ(*r.top_p, 0.95f);
}

TEST_F(HfLoad, GenerationConfigBecomesTheModelDefaults) {
  // write_random_hf_checkpoint writes Qwen3's generation_config.json (T 0.6, top_k 20,
  // top_p 0.95); the converted GGUF carries the same as general.sampling.*.
  const ModelSamplingDefaults d = engine::read_model_sampling_defaults(folder());
  ASSERT_TRUE(d.temperature && d.top_k && d.top_p);
  EXPECT_FLOAT_EQ(*d.temperature, 0.6f);
  EXPECT_EQ(*d.top_k, 20);
  EXPECT_FLOAT_EQ(*d.top_p, 0.95f);
  EXPECT_FALSE(d.min_p || d.repetition_penalty || d.presence_penalty);
  const fs::path gguf = dir() / "q8.gguf";
  ASSERT_EQ(sh(bin() + " convert " + folder() + " -o " + gguf.string() + " --type q8_0 -q").rc, 0);
  Pipeline p(gguf.string(), "CPU", {{"n_ctx", "64"}, {"n_threads", "1"}});
  const ModelSamplingDefaults g = p.model_defaults();
  EXPECT_EQ(g.temperature, d.temperature);
  EXPECT_EQ(g.top_k, d.top_k);
  EXPECT_EQ(g.top_p, d.top_p);
  // The batched server load (one model, N sequences) reads the same defaults from the
  // GGUF it opens once, and from the folder's generation_config.json.
  for (const std::string& path : {gguf.string(), folder()}) {
    auto shared =
        engine::make_shared_pipelines(path, "CPU", {{"n_ctx", "64"}, {"n_threads", "1"}}, 2);
    ASSERT_TRUE(shared.engine) << path;
    for (const auto& sp : shared.pipelines) {
      EXPECT_EQ(sp->model_defaults().temperature, d.temperature) << path;
      EXPECT_EQ(sp->model_defaults().top_k, d.top_k) << path;
      EXPECT_EQ(sp->model_defaults().top_p, d.top_p) << path;
    }
  }
  fs::remove(gguf);
  EXPECT_TRUE(engine::read_model_sampling_defaults((dir() / "nothing").string()).empty());
}

// A folder whose generation_config.json says greedy (do_sample false) decodes greedily
// whatever the seed, unless the request sets its own sampling.
TEST_F(HfLoad, ModelDefaultsDriveSamplingAndExplicitFieldsWin) {
  const fs::path g = dir() / "greedy";
  fs::create_directories(g);
  for (const auto& e : fs::directory_iterator(folder()))
    fs::create_symlink(e.path(), g / e.path().filename());
  fs::remove(g / "generation_config.json");
  std::ofstream(g / "generation_config.json")
      << R"({"do_sample": false, "temperature": 0.6, "top_k": 20, "repetition_penalty": 1.0})";
  Pipeline p(g.string(), "CPU", {{"n_ctx", "64"}, {"n_threads", "1"}});
  EXPECT_FLOAT_EQ(*p.model_defaults().temperature, 0.0f);
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.apply_chat_template = false;
  c.ignore_eos = true;
  auto with_seed = [&](GenerationConfig cfg, uint64_t seed) {
    cfg.seed = seed;
    return p.generate("The quick brown fox", cfg).tokens;
  };
  GenerationConfig greedy = c;
  greedy.temperature = 0.0f;
  const auto want = with_seed(greedy, 1);
  EXPECT_EQ(with_seed(c, 1), want);
  EXPECT_EQ(with_seed(c, 2), want);
  EXPECT_EQ(with_seed(c, 3), want);
  // An explicit temperature wins: near-flat random logits sampled at T=2 over the whole
  // vocabulary differ between seeds.
  GenerationConfig hot = c;
  hot.temperature = 2.0f;
  hot.top_k = 0;
  hot.top_p = 1.0f;
  EXPECT_NE(with_seed(hot, 1), with_seed(hot, 2));
  EXPECT_NE(with_seed(hot, 1), want);
}

TEST_F(HfLoad, BadGenerationConfigIsAClearError) {
  const fs::path g = dir() / "badgen";
  fs::create_directories(g);
  for (const auto& e : fs::directory_iterator(folder()))
    fs::create_symlink(e.path(), g / e.path().filename());
  fs::remove(g / "generation_config.json");
  std::ofstream(g / "generation_config.json") << R"({"top_p": 7})";
  try {
    Pipeline p(g.string(), "CPU", {{"n_ctx", "64"}});
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qwen3
