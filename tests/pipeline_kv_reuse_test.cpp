// KV-cache reuse on the real CPU engine (a tiny random-weight F32 model from
// `qwen3 gen-model`): a chat turn prefills only its new tokens, a diverging prompt rolls
// the cache back, and both give the same logits and greedy reply as a cold start.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/backend.h"
#include "engine/native_backend.h"
#include "model/qwen3_model.h"
#include "qwen3/pipeline.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

namespace fs = std::filesystem;

// Forwards to a NativeBackend and records what each eval() was given and returned.
class RecordingBackend : public engine::TokenBackend {
 public:
  explicit RecordingBackend(std::unique_ptr<engine::NativeBackend> b) : b_(std::move(b)) {}
  engine::BackendCapabilities capabilities() const override { return b_->capabilities(); }
  const Tokenizer& tokenizer() const override { return b_->tokenizer(); }
  int n_ctx() const override { return b_->n_ctx(); }
  int n_past() const override { return b_->n_past(); }
  int n_vocab() const override { return b_->n_vocab(); }
  void truncate(int n) override { b_->truncate(n); }
  const float* eval(const int32_t* ids, int n) override {
    const float* l = b_->eval(ids, n);
    calls.push_back({std::vector<int32_t>(ids, ids + n), n_past() - n,
                     std::vector<float>(l, l + b_->model().config().n_vocab)});
    return l;
  }
  struct Call {
    std::vector<int32_t> ids;
    int start;
    std::vector<float> logits;
  };
  std::vector<Call> calls;
  const engine::NativeBackend& native() const { return *b_; }

 private:
  std::unique_ptr<engine::NativeBackend> b_;
};

class KvReuse : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qwen3_kv_reuse_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "tiny.gguf").string();
    const std::string cmd = std::string(QWEN3_BIN) +
                            " gen-model --preset tiny --type f32 --tokenizer " +
                            QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 1 -o " + path_;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    model_ = Qwen3Model::load(path_);
    engine::register_backend("native-recorded", [](const engine::BackendOptions& o) {
      auto b =
          std::make_unique<RecordingBackend>(std::make_unique<engine::NativeBackend>(model_, o));
      last_ = b.get();
      return std::unique_ptr<engine::Backend>(std::move(b));
    });
  }
  static void TearDownTestSuite() {
    model_.reset();
    fs::remove_all(dir_);
  }

  static Pipeline make() {
    return Pipeline(path_, "CPU",
                    {{"backend", "native-recorded"}, {"n_ctx", "512"}, {"kv_type", "f32"}});
  }

  // Logits of the last token of `ids` from a fresh context.
  static std::vector<float> cold_logits(const std::vector<int32_t>& ids) {
    InferenceContext ctx(model_, 512, KvType::F32);
    std::vector<float> out(static_cast<size_t>(model_->config().n_vocab));
    ctx.eval(ids.data(), static_cast<int>(ids.size()), out.data());
    return out;
  }

  static void expect_close(const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
      max_abs = std::max(max_abs, std::fabs(double(b[i])));
    }
    // F32 weights and cache: only the order of float sums differs (batch vs one token).
    EXPECT_LE(max_diff, 1e-4 * std::max(1.0, max_abs)) << "max |logit| " << max_abs;
  }

  static GenerationConfig greedy(size_t n) {
    GenerationConfig c;
    c.max_new_tokens = n;
    c.temperature = 0.0f;
    c.min_reply_tokens = n;
    return c;
  }

  static inline fs::path dir_;
  static inline std::string path_;
  static inline std::shared_ptr<Qwen3Model> model_;
  static inline RecordingBackend* last_ = nullptr;
};

TEST_F(KvReuse, SecondTurnPrefillsOnlyNewTokensWithColdStartLogits) {
  Pipeline warm = make();
  RecordingBackend* rec = last_;
  warm.start_chat("Be brief.");
  auto r1 = warm.generate("What is a cat?", greedy(6));
  const size_t calls_before = rec->calls.size();
  auto r2 = warm.generate("And a dog?", greedy(6));
  ASSERT_GT(rec->calls.size(), calls_before);
  const auto& prefill = rec->calls[calls_before];
  ChatHistory h = warm.history();
  h.messages.pop_back();  // the turn-2 reply
  const auto prompt2 = model_->tokenizer().encode(warm.apply_chat_template(h));
  ASSERT_EQ(r2.prompt_tokens, prompt2.size());
  // At least turn 1's prompt is reused (its reply too when the re-rendered text tokenizes
  // the same way; a random model's tokens seldom do).
  EXPECT_GE(r2.cached_tokens, r1.prompt_tokens);
  EXPECT_EQ(prefill.start, static_cast<int>(r2.cached_tokens));
  EXPECT_EQ(prefill.ids, std::vector<int32_t>(prompt2.begin() + r2.cached_tokens, prompt2.end()));
  expect_close(prefill.logits, cold_logits(prompt2));

  Pipeline cold = make();
  auto c2 = cold.generate(h, greedy(6));
  EXPECT_EQ(c2.cached_tokens, 0u);
  EXPECT_EQ(c2.tokens, r2.tokens);
}

TEST_F(KvReuse, ADivergingPromptRollsTheCacheBack) {
  Pipeline p = make();
  RecordingBackend* rec = last_;
  ChatHistory a;
  a.push_back(ChatMessage::user("alpha beta gamma delta epsilon zeta eta theta"));
  p.generate(a, greedy(4));
  ChatHistory b;
  b.push_back(ChatMessage::user("alpha beta gamma omega"));
  const size_t calls_before = rec->calls.size();
  auto rb = p.generate(b, greedy(4));
  const auto ids_a = model_->tokenizer().encode(p.apply_chat_template(a));
  const auto ids_b = model_->tokenizer().encode(p.apply_chat_template(b));
  size_t lcp = 0;
  while (lcp < ids_a.size() && lcp < ids_b.size() && ids_a[lcp] == ids_b[lcp]) ++lcp;
  EXPECT_EQ(rb.cached_tokens, lcp);
  EXPECT_LT(lcp, ids_a.size());
  expect_close(rec->calls[calls_before].logits, cold_logits(ids_b));
  Pipeline cold = make();
  EXPECT_EQ(cold.generate(b, greedy(4)).tokens, rb.tokens);
}

TEST_F(KvReuse, NativeBackendLoadsThroughThePublicConstructor) {
  Pipeline p(path_, "CPU", {{"n_ctx", "256"}, {"n_threads", "1"}});
  EXPECT_EQ(p.info().backend, "native");
  EXPECT_EQ(p.info().n_ctx, 256u);
  EXPECT_TRUE(p.info().kv_reuse);
  auto r = p.generate("hi", greedy(5));
  EXPECT_EQ(r.tokens.size() <= 5, true);
  EXPECT_GT(p.session_metrics().load_time_ms, 0.0);
  EXPECT_THROW(Pipeline(path_, "CPU", {{"n_ctx", "100000000"}}), std::exception);
  // AUTO walks the fallback chain (NPU, GPU need OpenVINO) down to the CPU.
  Pipeline autop(path_, "AUTO", {{"n_ctx", "128"}});
  EXPECT_EQ(autop.info().backend, "native");
  EXPECT_EQ(autop.info().device, "CPU");
}

}  // namespace
}  // namespace qwen3
