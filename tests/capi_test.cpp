// The C API (include/qwen3/qwen3.h) on a random-weight model from `qwen3 gen-model`:
// - a greedy reply through the C API is the C++ Pipeline's reply, token for token, and the
//   streamed pieces add up to it;
// - a callback that returns nonzero stops the reply ("cancelled");
// - errors come back as statuses with the C++ message (bad path, bad property, bad config),
//   never as a crash; encode reports the size needed when the buffer is too small;
// - chat sessions, and the batch handles (requests equal to the Pipeline's replies).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "qwen3/pipeline.h"
#include "qwen3/qwen3.h"

namespace fs = std::filesystem;

namespace {

class CApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qwen3_capi_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny.gguf").string();
    const std::string cmd = std::string(QWEN3_BIN) + " gen-model --preset tiny --type q8_0" +
                            " --tokenizer " + QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 5 -o " +
                            model_ + " > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static qwen3_pipeline* open() {
    const char* keys[] = {"n_ctx", "n_threads"};
    const char* values[] = {"512", "1"};
    qwen3_pipeline* p = nullptr;
    EXPECT_EQ(qwen3_pipeline_create(model_.c_str(), "CPU", keys, values, 2, &p), QWEN3_OK)
        << qwen3_last_error();
    return p;
  }
  static qwen3::GenerationConfig greedy(size_t n) {
    qwen3::GenerationConfig c;
    c.max_new_tokens = n;
    c.temperature = 0.0f;
    c.ignore_eos = true;
    return c;
  }
  static qwen3_gen_config* c_greedy(size_t n) {
    qwen3_gen_config* c = qwen3_gen_config_create();
    qwen3_gen_config_set_max_new_tokens(c, n);
    qwen3_gen_config_set_temperature(c, 0.0f);
    qwen3_gen_config_set_ignore_eos(c, 1);
    return c;
  }

  static inline fs::path dir_;
  static inline std::string model_;
};

struct Collected {
  std::string content, reasoning;
  std::vector<int32_t> tokens;
  int stop_after = -1;  // stop when this many tokens were seen
};

int on_token(void* user, int32_t id) {
  auto* c = static_cast<Collected*>(user);
  c->tokens.push_back(id);
  return c->stop_after >= 0 && static_cast<int>(c->tokens.size()) >= c->stop_after;
}

int on_text(void* user, qwen3_part part, const char* text, size_t n) {
  auto* c = static_cast<Collected*>(user);
  (part == QWEN3_PART_REASONING ? c->reasoning : c->content).append(text, n);
  return 0;
}

TEST_F(CApi, VersionAndStatusStrings) {
  EXPECT_STREQ(qwen3_version(), "0.1.0");
  EXPECT_EQ(qwen3_api_version(), QWEN3_API_VERSION);
  EXPECT_STREQ(qwen3_status_string(QWEN3_ERR_BUFFER_TOO_SMALL), "buffer too small");
}

TEST_F(CApi, GreedyReplyEqualsThePipelinesAndStreamsWhole) {
  qwen3::Pipeline ref(model_, "CPU", {{"n_ctx", "512"}, {"n_threads", "1"}});
  const qwen3::DecodedResult want = ref.generate("Name three colours.", greedy(24));

  qwen3_pipeline* p = open();
  ASSERT_NE(p, nullptr);
  qwen3_gen_config* cfg = c_greedy(24);
  Collected got;
  qwen3_result* r = nullptr;
  ASSERT_EQ(qwen3_generate(p, "Name three colours.", cfg, on_token, on_text, &got, &r), QWEN3_OK)
      << qwen3_last_error();
  size_t n = 0;
  const int32_t* ids = qwen3_result_tokens(r, &n);
  EXPECT_EQ(std::vector<int32_t>(ids, ids + n), want.tokens);
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_EQ(qwen3_result_text(r), want.text);
  EXPECT_EQ(qwen3_result_reasoning(r), want.reasoning);
  EXPECT_EQ(got.content, want.text);
  EXPECT_EQ(got.reasoning, want.reasoning);
  EXPECT_STREQ(qwen3_result_finish_reason(r), "length");
  EXPECT_EQ(qwen3_result_metric(r, QWEN3_METRIC_GENERATED_TOKENS), 24.0);
  EXPECT_EQ(qwen3_result_metric(r, QWEN3_METRIC_PROMPT_TOKENS),
            static_cast<double>(want.prompt_tokens));
  EXPECT_GT(qwen3_result_metric(r, QWEN3_METRIC_LOAD_TIME_MS), 0.0);
  qwen3_result_destroy(r);
  qwen3_gen_config_destroy(cfg);
  qwen3_pipeline_destroy(p);
}

TEST_F(CApi, CallbackStopsTheReply) {
  qwen3_pipeline* p = open();
  qwen3_gen_config* cfg = c_greedy(40);
  Collected got;
  got.stop_after = 5;
  qwen3_result* r = nullptr;
  ASSERT_EQ(qwen3_generate(p, "Hi", cfg, on_token, nullptr, &got, &r), QWEN3_OK);
  EXPECT_STREQ(qwen3_result_finish_reason(r), "cancelled");
  EXPECT_LE(qwen3_result_metric(r, QWEN3_METRIC_GENERATED_TOKENS), 5.0);
  qwen3_result_destroy(r);
  qwen3_gen_config_destroy(cfg);
  qwen3_pipeline_destroy(p);
}

TEST_F(CApi, ErrorsAreStatusesWithMessages) {
  qwen3_pipeline* p = reinterpret_cast<qwen3_pipeline*>(1);
  EXPECT_EQ(qwen3_pipeline_create("/no/such/model.gguf", "CPU", nullptr, nullptr, 0, &p),
            QWEN3_ERR_RUNTIME);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(std::string(qwen3_last_error()).find("/no/such/model.gguf"), std::string::npos)
      << qwen3_last_error();

  const char* keys[] = {"no_such_property"};
  const char* values[] = {"1"};
  EXPECT_EQ(qwen3_pipeline_create(model_.c_str(), "CPU", keys, values, 1, &p),
            QWEN3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qwen3_last_error()).find("no_such_property"), std::string::npos);
  EXPECT_EQ(qwen3_pipeline_create(model_.c_str(), "TPU", nullptr, nullptr, 0, &p),
            QWEN3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(qwen3_pipeline_create(model_.c_str(), "CPU", nullptr, nullptr, 1, &p),
            QWEN3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(qwen3_pipeline_create(nullptr, "CPU", nullptr, nullptr, 0, &p),
            QWEN3_ERR_INVALID_ARGUMENT);

  qwen3_gen_config* cfg = qwen3_gen_config_create();
  qwen3_gen_config_set_top_p(cfg, 1.5f);
  EXPECT_EQ(qwen3_gen_config_validate(cfg), QWEN3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qwen3_last_error()).find("top_p"), std::string::npos) << qwen3_last_error();
  p = open();
  qwen3_result* r = reinterpret_cast<qwen3_result*>(1);
  EXPECT_EQ(qwen3_generate(p, "Hi", cfg, nullptr, nullptr, nullptr, &r),
            QWEN3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r, nullptr);
  qwen3_gen_config_set_top_p(cfg, 0.9f);
  qwen3_gen_config_set_json_schema(cfg, "{\"type\": \"nonsense\"}");
  EXPECT_NE(qwen3_generate(p, "Hi", cfg, nullptr, nullptr, nullptr, &r), QWEN3_OK);
  EXPECT_EQ(qwen3_generate(p, nullptr, cfg, nullptr, nullptr, nullptr, &r),
            QWEN3_ERR_INVALID_ARGUMENT);
  qwen3_gen_config_destroy(cfg);
  qwen3_pipeline_destroy(p);
  // NULL handles are harmless.
  qwen3_pipeline_destroy(nullptr);
  qwen3_result_destroy(nullptr);
  qwen3_gen_config_destroy(nullptr);
  EXPECT_STREQ(qwen3_result_text(nullptr), "");
}

TEST_F(CApi, EncodeDecodeAndBufferSizes) {
  qwen3::Pipeline ref(model_, "CPU", {{"n_ctx", "512"}});
  const std::string text = "Hello <|im_end|> world";
  qwen3_pipeline* p = open();
  size_t n = 0;
  EXPECT_EQ(qwen3_pipeline_encode(p, text.data(), text.size(), 1, nullptr, 0, &n),
            QWEN3_ERR_BUFFER_TOO_SMALL);
  const auto want = ref.encode(text, true);
  ASSERT_EQ(n, want.size());
  std::vector<int32_t> ids(n);
  ASSERT_EQ(qwen3_pipeline_encode(p, text.data(), text.size(), 1, ids.data(), ids.size(), &n),
            QWEN3_OK);
  EXPECT_EQ(ids, want);
  ASSERT_EQ(qwen3_pipeline_encode(p, text.data(), text.size(), 0, nullptr, 0, &n),
            QWEN3_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, ref.encode(text, false).size());  // plain text: more tokens

  char* back = nullptr;
  ASSERT_EQ(qwen3_pipeline_decode(p, want.data(), want.size(), &back), QWEN3_OK);
  EXPECT_EQ(std::string(back), ref.decode(want));
  qwen3_free(back);
  const int32_t bad = 1 << 30;
  EXPECT_NE(qwen3_pipeline_decode(p, &bad, 1, &back), QWEN3_OK);
  qwen3_pipeline_destroy(p);
}

TEST_F(CApi, ChatSessionMatchesThePipelines) {
  qwen3::Pipeline ref(model_, "CPU", {{"n_ctx", "512"}, {"n_threads", "1"}});
  ref.start_chat("Be brief.");
  ref.generate("One", greedy(6));
  const auto want = ref.generate("Two", greedy(6));

  qwen3_pipeline* p = open();
  qwen3_gen_config* cfg = c_greedy(6);
  ASSERT_EQ(qwen3_pipeline_start_chat(p, "Be brief."), QWEN3_OK);
  qwen3_result* r = nullptr;
  ASSERT_EQ(qwen3_generate(p, "One", cfg, nullptr, nullptr, nullptr, &r), QWEN3_OK);
  qwen3_result_destroy(r);
  ASSERT_EQ(qwen3_generate(p, "Two", cfg, nullptr, nullptr, nullptr, &r), QWEN3_OK);
  size_t n = 0;
  const int32_t* ids = qwen3_result_tokens(r, &n);
  EXPECT_EQ(std::vector<int32_t>(ids, ids + n), want.tokens);
  EXPECT_EQ(qwen3_result_metric(r, QWEN3_METRIC_PROMPT_TOKENS),
            static_cast<double>(want.prompt_tokens));
  qwen3_result_destroy(r);
  EXPECT_EQ(qwen3_pipeline_finish_chat(p), QWEN3_OK);
  qwen3_gen_config_destroy(cfg);
  qwen3_pipeline_destroy(p);
}

TEST_F(CApi, BatchRequestsEqualPipelineReplies) {
  qwen3::Pipeline ref(model_, "CPU", {{"n_ctx", "512"}, {"n_threads", "1"}});
  const auto want_a = ref.generate("Alpha", greedy(12));
  const auto want_b = ref.generate("Beta beta", greedy(12));

  const char* keys[] = {"n_ctx", "n_threads"};
  const char* values[] = {"512", "1"};
  qwen3_batch* b = nullptr;
  ASSERT_EQ(qwen3_batch_create(model_.c_str(), "CPU", keys, values, 2, 2, &b), QWEN3_OK)
      << qwen3_last_error();
  qwen3_gen_config* cfg = c_greedy(12);
  qwen3_request* ra = nullptr;
  qwen3_request* rb = nullptr;
  ASSERT_EQ(qwen3_batch_add(b, "Alpha", cfg, &ra), QWEN3_OK);
  ASSERT_EQ(qwen3_batch_add(b, "Beta beta", cfg, &rb), QWEN3_OK);
  Collected streamed;
  int finished = 0;
  while (!finished) ASSERT_EQ(qwen3_request_read(ra, 100, on_text, &streamed, &finished), QWEN3_OK);
  EXPECT_EQ(streamed.content, want_a.text);
  EXPECT_EQ(streamed.reasoning, want_a.reasoning);
  qwen3_result* r = nullptr;
  ASSERT_EQ(qwen3_request_wait(rb, &r), QWEN3_OK) << qwen3_last_error();
  size_t n = 0;
  const int32_t* ids = qwen3_result_tokens(r, &n);
  EXPECT_EQ(std::vector<int32_t>(ids, ids + n), want_b.tokens);
  qwen3_result_destroy(r);
  EXPECT_EQ(qwen3_request_read(ra, -1, nullptr, nullptr, &finished), QWEN3_ERR_INVALID_ARGUMENT);
  qwen3_request_destroy(ra);
  qwen3_request_destroy(rb);
  qwen3_gen_config_destroy(cfg);
  qwen3_batch_destroy(b);
}

}  // namespace
