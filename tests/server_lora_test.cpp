// Per-request LoRA adapters in the server (as llama-server has them): GET / POST
// /lora-adapters, a request's "lora": [{id, scale}] and its 400 errors; the tokens of a
// request are those an in-process Pipeline with the same adapters and scales generates
// (scale 0 = the base model exactly), alone and with a concurrent request using other
// adapters in the same batches; the prefix cache shares KV blocks only between requests
// with the same adapters and scales (/metrics hit tokens); the `openai` npm client passes
// "lora" as an extra body field.
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "convert/lora_writer.h"
#include "convert/random_model.h"
#include "qwen3/adapter_config.h"
#include "qwen3/pipeline.h"
#include "serve_process.h"
#include "server_test_util.h"
#include "shape_util.h"
#include "text/tokenizer.h"

namespace qwen3::test {
namespace {

std::string tmp(const std::string& name) {
  return std::string(QWEN3_BUILD_DIR) + "/server_lora_test_" + name;
}

Qwen3Config small_config() {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "server-lora-test";
  set_shape(c, {2, 128, 4, 2, 32, 256, 512, 512});
  return c;
}

// Written once per test process (ctest runs each test alone; a newer binary rewrites).
bool stale(const std::string& p) {
  struct stat file {
  }, self{};
  return ::stat(p.c_str(), &file) != 0 || ::stat("/proc/self/exe", &self) != 0 ||
         file.st_mtime < self.st_mtime;
}

const std::string& base_file() {
  static const std::string path = [] {
    const std::string p = tmp("base.gguf");
    if (stale(p)) {
      GenModelOptions o;
      o.config = small_config();
      o.type = parse_gen_model_type("f32");
      o.seed = 7;
      generate_random_model(o, Tokenizer::from_file(tokenizer_path()), p);
    }
    return p;
  }();
  return path;
}

// Adapter 0: a PEFT folder on every projection; adapter 1: a GGUF on q, v, down.
const std::vector<std::string>& adapters() {
  static const std::vector<std::string> paths = [] {
    RandomLoraOptions o;
    o.rank = 8;
    o.alpha = 16;
    o.strength = 1.0f;
    o.seed = 11;
    const std::string peft = tmp("a_peft");
    if (stale(peft + "/adapter_model.safetensors"))
      write_peft_adapter(*random_lora_adapter(small_config(), o), peft);
    o.seed = 12;
    o.rank = 4;
    o.targets = {LoraTarget::kQ, LoraTarget::kV, LoraTarget::kDown};
    const std::string gg = tmp("b.gguf");
    if (stale(gg)) write_gguf_adapter(*random_lora_adapter(small_config(), o), gg);
    return std::vector<std::string>{peft, gg};
  }();
  return paths;
}

server::ServerOptions lora_server(int parallel) {
  server::ServerOptions o;
  o.model_path = base_file();
  o.model_name = "lora-test";
  o.port = 0;
  o.n_ctx = 256;
  o.kv_size = 2048;  // room to keep every prefix of a test cached
  o.n_threads = 1;
  o.parallel = parallel;
  o.properties["lora"] = AdapterConfig(adapters()[0], 1.0f).add(adapters()[1], 0.5f).to_property();
  return o;
}

// Digits and spaces: token ids below the test model's vocabulary of 512.
const char* kPrompt = "3 14159 26535 89793 23846 26433 83279 50288";

json completion(const std::string& prompt, const json* lora, int max_tokens = 10) {
  json b = {
      {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"ignore_eos", true}};
  if (lora) b["lora"] = *lora;
  return b;
}

// What an in-process Pipeline with these adapters generates greedily (the reference).
std::string pipeline_text(const AdapterConfig& a, const std::string& prompt, int max_tokens = 10) {
  static Pipeline p(base_file(), "CPU", {{"n_ctx", "256"}, {"n_threads", "1"}});
  p.set_adapters(a);
  GenerationConfig g;
  g.apply_chat_template = false;
  g.max_new_tokens = static_cast<std::size_t>(max_tokens);
  g.temperature = 0.0f;
  g.ignore_eos = true;
  // As the server's JSON carries it (invalid UTF-8 replaced).
  return json::parse(
             json(p.generate(prompt, g).text).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

AdapterConfig scales(float a, float b) {
  return AdapterConfig(adapters()[0], a).add(adapters()[1], b);
}

struct Reply {
  int status = 0;
  json body;
};

Reply post(httplib::Client& c, const std::string& path, const json& body) {
  auto r = c.Post(path, body.dump(), "application/json");
  if (!r) return {};
  Reply out{r->status, json::parse(r->body, nullptr, false)};
  return out;
}

std::string text_of(const Reply& r) {
  EXPECT_EQ(r.status, 200) << r.body.dump();
  return r.status == 200 ? r.body["choices"][0]["text"].get<std::string>() : std::string();
}

// A 400 in the OpenAI error shape with this code.
void expect_400(const Reply& r, const std::string& code, const std::string& what) {
  EXPECT_EQ(r.status, 400) << what << ": " << r.body.dump();
  ASSERT_TRUE(r.body.contains("error")) << what;
  EXPECT_EQ(r.body["error"]["type"], "invalid_request_error") << what;
  EXPECT_EQ(r.body["error"]["code"], code) << what << ": " << r.body.dump();
  EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty()) << what;
}

double metric_of(httplib::Client& c, const std::string& name) {
  auto r = c.Get("/metrics");
  return r ? metric(r->body, name) : -1;
}

TEST(ServerLora, AdapterListAndGlobalScales) {
  RunningServer srv(lora_server(1));
  auto c = srv.client();
  auto r = c.Get("/lora-adapters");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json list = json::parse(r->body);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], 0);
  EXPECT_EQ(list[0]["path"], adapters()[0]);
  EXPECT_EQ(list[0]["scale"], 1.0);
  EXPECT_EQ(list[1]["id"], 1);
  EXPECT_EQ(list[1]["path"], adapters()[1]);
  EXPECT_EQ(list[1]["scale"], 0.5);

  // Bad bodies: nothing changes.
  expect_400(post(c, "/lora-adapters", json::object()), "invalid_type", "an object");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 2}, {"scale", 1}}})), "unknown_adapter",
             "id 2");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", -1}, {"scale", 1}}})),
             "unknown_adapter", "id -1");
  expect_400(post(c, "/lora-adapters",
                  json::array({{{"id", 0}, {"scale", 1}}, {{"id", 0}, {"scale", 2}}})),
             "duplicate_adapter", "duplicate");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 0}, {"scale", "1"}}})), "invalid_type",
             "string scale");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 0}, {"scale", 1e6}}})), "invalid_value",
             "huge scale");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 0}}})), "missing_field", "no scale");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 0.5}, {"scale", 1}}})), "invalid_type",
             "fractional id");
  expect_400(post(c, "/lora-adapters", json::array({{{"id", 0}, {"scale", 1}, {"x", 1}}})),
             "unknown_field", "extra field");
  expect_400(post(c, "/lora-adapters", json::array({7})), "invalid_type", "not an object");
  auto bad = c.Post("/lora-adapters", "[{\"id\": 0,", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(c.Get("/lora-adapters")->body), list);

  // Listed ids get their scale, the others 0 (as llama-server).
  Reply ok = post(c, "/lora-adapters", json::array({{{"id", 1}, {"scale", -1.5}}}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, json({{"success", true}}));
  list = json::parse(c.Get("/lora-adapters")->body);
  EXPECT_EQ(list[0]["scale"], 0.0);
  EXPECT_EQ(list[1]["scale"], -1.5);
  // The new global scales are what a request without "lora" runs with.
  EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, nullptr))),
            pipeline_text(scales(0, -1.5f), kPrompt));
}

// A server without --lora: an empty list, and any id is unknown.
TEST(ServerLora, NoAdapters) {
  RunningServer srv(replay_options("Hi.<|im_end|>"));
  auto c = srv.client();
  auto r = c.Get("/lora-adapters");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body), json::array());
  EXPECT_EQ(post(c, "/lora-adapters", json::array()).status, 200);
  json body = chat_body("Hello", false);
  body["lora"] = json::array({{{"id", 0}, {"scale", 1}}});
  Reply e = post(c, "/v1/chat/completions", body);
  expect_400(e, "unknown_adapter", "id 0 without adapters");
  EXPECT_NE(e.body["error"]["message"].get<std::string>().find("--lora"), std::string::npos);
  body["lora"] = json::array();
  EXPECT_EQ(post(c, "/v1/chat/completions", body).status, 200);
}

TEST(ServerLora, RequestScalesGiveThoseAdaptersTokens) {
  RunningServer srv(lora_server(2));
  auto c = srv.client();
  const std::string base = pipeline_text({}, kPrompt);
  const std::string only_a = pipeline_text(scales(1, 0), kPrompt);
  const std::string only_b = pipeline_text(scales(0, -1), kPrompt);
  const std::string both = pipeline_text(scales(1, 0.5f), kPrompt);
  ASSERT_NE(base, only_a);
  ASSERT_NE(base, only_b);
  ASSERT_NE(only_a, only_b);

  const json zero = json::array({{{"id", 0}, {"scale", 0}}, {{"id", 1}, {"scale", 0}}});
  const json none = json::array();
  const json a = json::array({{{"id", 0}, {"scale", 1}}});
  const json b = json::array({{{"id", 1}, {"scale", -1}}});
  for (int round = 0; round < 2; ++round) {  // again, from slots that ran other adapters
    SCOPED_TRACE(round);
    EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, &zero))), base);
    EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, &none))), base);
    EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, &a))), only_a);
    EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, &b))), only_b);
    EXPECT_EQ(text_of(post(c, "/v1/completions", completion(kPrompt, nullptr))), both);
  }
  // n > 1 choices all run with the request's adapters.
  json many = completion(kPrompt, &a);
  many["n"] = 2;
  Reply r = post(c, "/v1/completions", many);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["choices"][0]["text"], only_a);
  EXPECT_EQ(r.body["choices"][1]["text"], only_a);

  // The chat endpoint takes the same field (the test model's 512 tokens cannot hold the
  // chat template's, so only its errors are checked here).
  json chat = chat_body("Hello", false);
  chat.erase("model");
  chat["max_tokens"] = 4;
  chat["lora"] = json::array({{{"id", 3}, {"scale", 1}}});
  expect_400(post(c, "/v1/chat/completions", chat), "unknown_adapter", "chat id 3");

  // Bad "lora" fields.
  json bad = completion(kPrompt, nullptr);
  bad["lora"] = "0";
  expect_400(post(c, "/v1/completions", bad), "invalid_type", "a string");
  bad["lora"] = json::array({{{"id", 0}, {"scale", 1}}, {{"id", 0}, {"scale", 1}}});
  expect_400(post(c, "/v1/completions", bad), "duplicate_adapter", "duplicate");
  bad["lora"] = json::array({{{"id", 0}, {"scale", nullptr}}});
  expect_400(post(c, "/v1/completions", bad), "missing_field", "null scale");
  Reply e = post(c, "/v1/completions", bad);
  EXPECT_EQ(e.body["error"]["param"], "lora[0].scale");
}

// Two requests with different adapters at once: each gets the tokens it gets alone,
// though their decode steps share forward passes.
TEST(ServerLora, ConcurrentRequestsWithDifferentAdapters) {
  RunningServer srv(lora_server(2));
  const int kTokens = 32;
  const std::string prompt_a = kPrompt;
  const std::string prompt_b = "2 71828 18284 59045 23536 02874 71352 66249";
  const std::string want_a = pipeline_text(scales(1, 0), prompt_a, kTokens);
  const std::string want_b = pipeline_text(scales(0, -1), prompt_b, kTokens);
  const json a = json::array({{{"id", 0}, {"scale", 1}}});
  const json b = json::array({{{"id", 1}, {"scale", -1}}});
  auto c = srv.client();
  const std::string single = "qwen3_batch_sequences_bucket{le=\"1\"}";
  bool overlapped = false;
  for (int attempt = 0; attempt < 4 && !overlapped; ++attempt) {
    const double multi_before = metric_of(c, "qwen3_batch_sequences_count") - metric_of(c, single);
    std::string got_a, got_b;
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    auto run = [&](const std::string& prompt, const json& lora, std::string& out) {
      auto cl = srv.client();
      {
        std::unique_lock<std::mutex> lock(mu);
        if (++arrived == 2) cv.notify_all();
        cv.wait(lock, [&] { return arrived == 2; });
      }
      out = text_of(post(cl, "/v1/completions", completion(prompt, &lora, kTokens)));
    };
    std::thread ta(run, prompt_a, a, std::ref(got_a));
    std::thread tb(run, prompt_b, b, std::ref(got_b));
    ta.join();
    tb.join();
    EXPECT_EQ(got_a, want_a);
    EXPECT_EQ(got_b, want_b);
    overlapped = metric_of(c, "qwen3_batch_sequences_count") - metric_of(c, single) > multi_before;
  }
  EXPECT_TRUE(overlapped) << "the two requests never shared a forward step";
}

// Blocks computed under one adapter set are reused only under the same set.
TEST(ServerLora, PrefixCacheIsKeyedByTheAdapters) {
  RunningServer srv(lora_server(1));  // one slot: every request passes through it
  auto c = srv.client();
  const std::string prompt = std::string(kPrompt) + " " + kPrompt + " " + kPrompt;  // 3+ blocks
  auto hits = [&] { return metric_of(c, "qwen3_prefix_cache_hit_tokens_total"); };
  auto run = [&](const json* lora) {
    const double before = hits();
    const std::string text = text_of(post(c, "/v1/completions", completion(prompt, lora, 4)));
    return std::make_pair(text, hits() - before);
  };
  const json a = json::array({{{"id", 0}, {"scale", 1}}});
  const json a2 = json::array({{{"id", 0}, {"scale", 2}}});
  const json b = json::array({{{"id", 1}, {"scale", 1}}});
  const json base = json::array();
  const json zero = json::array({{{"id", 0}, {"scale", 0}}});
  const auto first_a = run(&a);
  EXPECT_EQ(first_a.second, 0);
  EXPECT_EQ(run(&b).second, 0) << "reused blocks of adapter 0 under adapter 1";
  EXPECT_EQ(run(&a2).second, 0) << "reused blocks of scale 1 under scale 2";
  const auto first_base = run(&base);
  EXPECT_EQ(first_base.second, 0) << "reused adapter blocks for the base model";
  const auto again_a = run(&a);
  EXPECT_GE(again_a.second, 32) << "no reuse under the same adapters";
  EXPECT_EQ(again_a.first, first_a.first);
  EXPECT_GE(run(&b).second, 32);
  const auto zero_run = run(&zero);  // scale 0 is the base model: its blocks are the base's
  EXPECT_GE(zero_run.second, 32);
  EXPECT_EQ(zero_run.first, first_base.first);
}

TEST(ServerLora, OpenAiClientPassesLora) {
  RunningServer srv(lora_server(1));
  const json a = json::array({{{"id", 0}, {"scale", 1}}});
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(srv.port()) + "/v1"},
               {"root", "http://127.0.0.1:" + std::to_string(srv.port())},
               {"prompt", kPrompt},
               {"base_text", pipeline_text({}, kPrompt)},
               {"a_text", pipeline_text(scales(1, 0), kPrompt)},
               {"paths", adapters()}};
  const std::string cmd = "QWEN3_TOOLS_DIR=" + shell_quote(QWEN3_TOOLS_DIR) + " node " +
                          shell_quote(std::string(QWEN3_SOURCE_DIR) + "/tests/js/lora_client.mjs") +
                          " " + shell_quote(spec.dump());
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, 0);
}

}  // namespace
}  // namespace qwen3::test
