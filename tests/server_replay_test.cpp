// The server end to end over HTTP with the replay backend: reasoning, content and tool
// calls arrive as the model wrote them (streamed and not), usage and timings, the prompt
// cache, the bounded queue (503 + Retry-After), and cancel-on-disconnect.
#include "server_test_util.h"
#include "text/tokenizer.h"

namespace qwen3::test {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '\n' || s[i] == ' ')) ++i;
  return s.substr(i);
}

std::size_t replay_length(const std::string& reply) {
  return Tokenizer::from_file(tokenizer_path()).encode(reply, true).size();
}

json post_json(RunningServer& srv, const std::string& path, const json& body, int status = 200) {
  auto cli = srv.client();
  auto r = cli.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, status) << r->body;
  return json::parse(r->body);
}

SseStream post_stream(RunningServer& srv, const std::string& path, const json& body) {
  auto cli = srv.client();
  auto r = cli.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  return parse_sse(r->body);
}

// The deltas of a chat stream folded back into one message.
struct Folded {
  std::string role, content, reasoning, reasoning_alias, finish;
  json tool_calls = json::array();
  json usage, timings;
  int chunks = 0;
};

Folded fold(const SseStream& s) {
  Folded f;
  for (const auto& e : s.events) {
    EXPECT_FALSE(e.contains("error")) << e.dump();
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_TRUE(e["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
    if (e.contains("usage")) f.usage = e["usage"];
    if (e.contains("timings")) f.timings = e["timings"];
    if (e["choices"].empty()) continue;
    ++f.chunks;
    const json& c = e["choices"][0];
    const json& d = c["delta"];
    if (d.contains("role")) f.role = d["role"];
    if (d.contains("content") && d["content"].is_string()) f.content += d["content"];
    if (d.contains("reasoning_content")) f.reasoning += d["reasoning_content"];
    if (d.contains("reasoning")) f.reasoning_alias += d["reasoning"];
    if (d.contains("tool_calls")) {
      for (const auto& tc : d["tool_calls"]) {
        std::size_t i = tc["index"];
        while (f.tool_calls.size() <= i) {
          f.tool_calls.push_back({{"id", ""}, {"name", ""}, {"arguments", ""}});
        }
        if (tc.contains("id")) f.tool_calls[i]["id"] = tc["id"];
        if (tc.contains("function")) {
          const json& fn = tc["function"];
          if (fn.contains("name"))
            f.tool_calls[i]["name"] =
                f.tool_calls[i]["name"].get<std::string>() + fn["name"].get<std::string>();
          if (fn.contains("arguments"))
            f.tool_calls[i]["arguments"] = f.tool_calls[i]["arguments"].get<std::string>() +
                                           fn["arguments"].get<std::string>();
        }
      }
    }
    if (!c["finish_reason"].is_null()) f.finish = c["finish_reason"];
  }
  return f;
}

TEST(ServerReplay, ReasoningAndContentNonStreaming) {
  RunningServer srv(replay_options(kReasoningReply));
  json r = post_json(srv, "/v1/chat/completions", chat_body("Hi", false));
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["model"], "replay-test");
  const json& msg = r["choices"][0]["message"];
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_EQ(trim(msg["reasoning_content"]), "The user greets me. I answer briefly.");
  EXPECT_EQ(msg["reasoning"], msg["reasoning_content"]);
  EXPECT_EQ(trim(msg["content"]), "Hello! Here is **bold** and `code`.");
  EXPECT_FALSE(msg.contains("tool_calls"));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  const json& u = r["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(u["completion_tokens"].get<std::size_t>(), replay_length(kReasoningReply));
  EXPECT_EQ(u["total_tokens"], u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_TRUE(u["prompt_tokens_details"]["cached_tokens"].is_number());
  for (const char* k : {"prompt_n", "prompt_ms", "prompt_per_second", "predicted_n", "predicted_ms",
                        "predicted_per_second", "cache_n"}) {
    EXPECT_TRUE(r["timings"].contains(k)) << k;
  }
  EXPECT_EQ(r["timings"]["predicted_n"], u["completion_tokens"]);
}

TEST(ServerReplay, ReasoningAndContentStreaming) {
  RunningServer srv(replay_options(kReasoningReply));
  json body = chat_body("Hi", true);
  body["stream_options"] = {{"include_usage", true}};
  SseStream s = post_stream(srv, "/v1/chat/completions", body);
  EXPECT_TRUE(s.well_formed);
  EXPECT_TRUE(s.done);
  Folded f = fold(s);
  EXPECT_EQ(f.role, "assistant");
  EXPECT_EQ(trim(f.reasoning), "The user greets me. I answer briefly.");
  EXPECT_EQ(f.reasoning_alias, f.reasoning);
  EXPECT_EQ(trim(f.content), "Hello! Here is **bold** and `code`.");
  EXPECT_EQ(f.finish, "stop");
  EXPECT_GT(f.chunks, 5);  // really streamed, not one blob
  ASSERT_TRUE(f.usage.is_object());
  EXPECT_EQ(f.usage["completion_tokens"].get<std::size_t>(), replay_length(kReasoningReply));
  EXPECT_TRUE(f.timings.is_object());
  // The usage chunk comes last, with no choices.
  EXPECT_TRUE(s.events.back()["choices"].empty());

  // Same reply, streamed or not.
  json whole = post_json(srv, "/v1/chat/completions", chat_body("Hi", false));
  EXPECT_EQ(whole["choices"][0]["message"]["content"], f.content);
  EXPECT_EQ(whole["choices"][0]["message"]["reasoning_content"], f.reasoning);
}

json weather_tools() {
  return json::array({{{"type", "function"},
                       {"function",
                        {{"name", "get_weather"},
                         {"description", "Weather in a city"},
                         {"parameters",
                          {{"type", "object"},
                           {"properties", {{"city", {{"type", "string"}}}}},
                           {"required", json::array({"city"})}}}}}}});
}

TEST(ServerReplay, ToolCallsStreamedAndNot) {
  RunningServer srv(replay_options(kToolReply));
  json body = chat_body("Weather in Paris?", false);
  body["tools"] = weather_tools();
  json r = post_json(srv, "/v1/chat/completions", body);
  const json& msg = r["choices"][0]["message"];
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(msg["content"].is_null()) << msg.dump();
  EXPECT_EQ(trim(msg["reasoning_content"]), "I need the weather.");
  ASSERT_EQ(msg["tool_calls"].size(), 1u);
  const json& tc = msg["tool_calls"][0];
  EXPECT_EQ(tc["type"], "function");
  EXPECT_EQ(tc["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(tc["function"]["arguments"].get<std::string>()),
            json({{"city", "Paris"}, {"unit", "celsius"}}));
  EXPECT_EQ(tc["id"].get<std::string>().rfind("call_", 0), 0u);

  body["stream"] = true;
  Folded f = fold(post_stream(srv, "/v1/chat/completions", body));
  EXPECT_EQ(f.finish, "tool_calls");
  ASSERT_EQ(f.tool_calls.size(), 1u);
  EXPECT_EQ(f.tool_calls[0]["name"], "get_weather");
  EXPECT_EQ(json::parse(f.tool_calls[0]["arguments"].get<std::string>()),
            json({{"city", "Paris"}, {"unit", "celsius"}}));
  EXPECT_NE(f.tool_calls[0]["id"], tc["id"]);  // ids are unique per call

  // The client sends the call and the tool's answer back: the conversation continues.
  json next = body;
  next["stream"] = false;
  next["messages"].push_back(
      {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", msg["tool_calls"]}});
  next["messages"].push_back(
      {{"role", "tool"}, {"tool_call_id", tc["id"]}, {"content", "18 C, sunny"}});
  json r2 = post_json(srv, "/v1/chat/completions", next);
  EXPECT_EQ(r2["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_GT(r2["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

TEST(ServerReplay, ToolChoiceShapesThePrompt) {
  RunningServer srv(replay_options(kToolReply));
  json body = chat_body("Weather?", false);
  body["tools"] = weather_tools();
  body["tools"].push_back({{"type", "function"}, {"function", {{"name", "get_time"}}}});
  auto prompt = [&](const json& b) {
    return post_json(srv, "/apply-template", b)["prompt"].get<std::string>();
  };
  EXPECT_NE(prompt(body).find("get_time"), std::string::npos);
  json none = body;
  none["tool_choice"] = "none";
  EXPECT_EQ(prompt(none).find("<tools>"), std::string::npos);
  json named = body;
  named["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  std::string p = prompt(named);
  EXPECT_NE(p.find("get_weather"), std::string::npos);
  EXPECT_EQ(p.find("get_time"), std::string::npos);
}

TEST(ServerReplay, ThinkingSwitch) {
  RunningServer srv(replay_options(kReasoningReply));
  json body = chat_body("Hi", false);
  body["chat_template_kwargs"] = {{"enable_thinking", false}};
  std::string off = post_json(srv, "/apply-template", body)["prompt"];
  EXPECT_NE(off.find("<think>\n\n</think>"), std::string::npos);
  body.erase("chat_template_kwargs");
  body["enable_thinking"] = false;
  EXPECT_EQ(post_json(srv, "/apply-template", body)["prompt"], off);
  body["enable_thinking"] = true;
  EXPECT_EQ(post_json(srv, "/apply-template", body)["prompt"].get<std::string>().find("</think>"),
            std::string::npos);
}

TEST(ServerReplay, PromptCacheAcrossRequests) {
  RunningServer srv(replay_options("Sure, here it is.<|im_end|>"));
  json body = chat_body("Tell me a story about a lighthouse keeper.", false);
  json r1 = post_json(srv, "/v1/chat/completions", body);
  body["messages"].push_back(
      {{"role", "assistant"}, {"content", r1["choices"][0]["message"]["content"]}});
  body["messages"].push_back({{"role", "user"}, {"content", "Shorter, please."}});
  json r2 = post_json(srv, "/v1/chat/completions", body);
  int cached = r2["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GE(cached, r1["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_LT(cached, r2["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(r2["timings"]["cache_n"], cached);
}

TEST(ServerReplay, TextCompletionsAndFim) {
  RunningServer srv(replay_options("def add(a, b):<|endoftext|>"));
  json r =
      post_json(srv, "/v1/completions", {{"prompt", "# add two numbers\n"}, {"max_tokens", 50}});
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], "def add(a, b):");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");

  json echo = post_json(srv, "/v1/completions", {{"prompt", "# x\n"}, {"echo", true}});
  EXPECT_EQ(echo["choices"][0]["text"], "# x\ndef add(a, b):");

  SseStream s = post_stream(srv, "/v1/completions", {{"prompt", "# add\n"}, {"stream", true}});
  EXPECT_TRUE(s.well_formed && s.done);
  std::string text;
  for (const auto& e : s.events) text += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, "def add(a, b):");

  // suffix -> <|fim_prefix|>prompt<|fim_suffix|>suffix<|fim_middle|>
  auto tok = Tokenizer::from_file(tokenizer_path());
  json fim = post_json(srv, "/v1/completions",
                       {{"prompt", "def f(x):\n    "}, {"suffix", "\n    return y\n"}});
  EXPECT_EQ(
      fim["usage"]["prompt_tokens"].get<std::size_t>(),
      tok.encode("<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>", true)
          .size());

  // Token-id prompts.
  json ids = post_json(srv, "/v1/completions", {{"prompt", tok.encode("hello world", false)}});
  EXPECT_EQ(ids["usage"]["prompt_tokens"], 2);
}

// A tool call cut by max_tokens: chat sends it as a call with the arguments written so far
// (finish_reason "length"); /v1/completions, which has no tool-call channel, sends the same
// as text that ends where the model stopped (no closing made up), streamed and not.
TEST(ServerReplay, ToolCallCutByMaxTokensInChatAndTextCompletions) {
  RunningServer srv(replay_options(kToolReply));
  const std::string reply = kToolReply;
  auto tok = Tokenizer::from_file(tokenizer_path());
  const auto ids = tok.encode(reply, true);
  // Cut after "Par" of "Paris": inside the arguments.
  std::size_t cut = 0;
  for (std::size_t n = 1; n <= ids.size() && !cut; ++n)
    if (tok.decode(std::vector<std::int32_t>(ids.begin(), ids.begin() + n), false).find("\"Par") !=
        std::string::npos)
      cut = n;
  ASSERT_GT(cut, 0u);
  json body = chat_body("Weather in Paris?", false);
  body["tools"] = weather_tools();
  body["max_tokens"] = cut;
  json chat = post_json(srv, "/v1/chat/completions", body);
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "length");
  ASSERT_EQ(chat["choices"][0]["message"]["tool_calls"].size(), 1u) << chat.dump();
  const std::string partial =
      chat["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"];
  EXPECT_EQ(partial.rfind("{\"city\":\"Par", 0), 0u) << partial;

  json text_body = {{"prompt",
                     "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
                     "<|im_start|>assistant\n"},
                    {"max_tokens", cut}};
  json r = post_json(srv, "/v1/completions", text_body);
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  const std::string text = r["choices"][0]["text"];
  const std::string call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + partial;
  ASSERT_GE(text.size(), call.size()) << text;
  EXPECT_EQ(text.substr(text.size() - call.size()), call) << text;
  EXPECT_EQ(text.find("</tool_call>"), std::string::npos) << text;

  text_body["stream"] = true;
  SseStream s = post_stream(srv, "/v1/completions", text_body);
  EXPECT_TRUE(s.well_formed && s.done);
  std::string streamed;
  for (const auto& e : s.events) streamed += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(streamed, text);

  // Not cut: the whole call, closed.
  text_body["stream"] = false;
  text_body["max_tokens"] = 200;
  json whole = post_json(srv, "/v1/completions", text_body);
  EXPECT_NE(whole["choices"][0]["text"].get<std::string>().find(
                "\"arguments\": {\"city\":\"Paris\",\"unit\":\"celsius\"}}\n</tool_call>"),
            std::string::npos)
      << whole.dump();
}

// /v1/completions has no reasoning channel: the reasoning streams inside <think> and
// </think> exactly as the unstreamed text has it, whole or cut inside the reasoning, for
// one choice and for n.
TEST(ServerReplay, TextCompletionStreamsTheUnstreamedText) {
  RunningServer srv(replay_options(kReasoningReply));
  for (int max_tokens : {200, 4}) {
    for (int n : {1, 2}) {
      json body = {{"prompt", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
                   {"max_tokens", max_tokens},
                   {"n", n}};
      json whole = post_json(srv, "/v1/completions", body);
      body["stream"] = true;
      SseStream s = post_stream(srv, "/v1/completions", body);
      EXPECT_TRUE(s.well_formed && s.done);
      std::vector<std::string> streamed(static_cast<std::size_t>(n));
      for (const auto& e : s.events)
        for (const auto& c : e["choices"])
          streamed.at(c["index"].get<std::size_t>()) += c["text"].get<std::string>();
      ASSERT_EQ(whole["choices"].size(), static_cast<std::size_t>(n));
      for (const auto& c : whole["choices"]) {
        const std::string text = c["text"];
        if (max_tokens == 200) {
          EXPECT_NE(text.find("</think>"), std::string::npos) << text;
        }
        EXPECT_EQ(text.rfind("<think>", 0), 0u) << text;
        EXPECT_EQ(streamed.at(c["index"].get<std::size_t>()), text)
            << "max_tokens " << max_tokens << " n " << n;
      }
    }
  }
}

TEST(ServerReplay, TokenizeDetokenizeMatchTheTokenizer) {
  RunningServer srv(replay_options("x<|im_end|>"));
  auto tok = Tokenizer::from_file(tokenizer_path());
  for (std::string text : {"Hello, world!", "<|im_start|>user\nhi<|im_end|>", "Grüße 👋 日本語",
                           "  spaces\n\ttabs  ", ""}) {
    json t = post_json(srv, "/tokenize", {{"content", text}});
    json expected = tok.encode(text, true);
    EXPECT_EQ(t["tokens"], expected) << text;
    json plain = post_json(srv, "/tokenize", {{"content", text}, {"parse_special", false}});
    EXPECT_EQ(plain["tokens"], json(tok.encode(text, false))) << text;
    json d = post_json(srv, "/detokenize", {{"tokens", t["tokens"]}});
    EXPECT_EQ(d["content"], text);
  }
  // Pieces: one per id, in order (a piece holding part of a character shows U+FFFD).
  json plain = post_json(srv, "/tokenize", {{"content", "Hi 👋"}});
  json pieces = post_json(srv, "/tokenize", {{"content", "Hi 👋"}, {"with_pieces", true}});
  ASSERT_EQ(pieces["tokens"].size(), plain["tokens"].size());
  for (std::size_t i = 0; i < plain["tokens"].size(); ++i) {
    EXPECT_EQ(pieces["tokens"][i]["id"], plain["tokens"][i]);
    EXPECT_TRUE(pieces["tokens"][i].contains("piece"));
  }
}

TEST(ServerReplay, ModelsMetricsAndPage) {
  RunningServer srv(replay_options(kReasoningReply));
  auto cli = srv.client();
  json models = json::parse(cli.Get("/v1/models")->body);
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "replay-test");
  EXPECT_EQ(models["data"][0]["meta"]["n_ctx"], 2048);
  post_json(srv, "/v1/chat/completions", chat_body("Hi", false));
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("# TYPE qwen3_tokens_predicted_total counter"), std::string::npos);
  EXPECT_EQ(metric(m->body, "qwen3_tokens_predicted_total"),
            static_cast<double>(replay_length(kReasoningReply)));
  EXPECT_EQ(metric(m->body, "qwen3_generations_total"), 1);
  // The slot frees itself just after the reply went out.
  double processing = 1;
  for (int i = 0; i < 100 && processing != 0; ++i) {
    processing = metric(cli.Get("/metrics")->body, "qwen3_requests_processing");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(processing, 0);
  auto page = cli.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>qwen3 chat</title>"), std::string::npos);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  auto js = cli.Get("/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
}

// A long, slow reply: 40 ms per token.
std::string slow_reply() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += " word";
  return s + "<|im_end|>";
}

TEST(ServerReplay, QueueFullIs503WithRetryAfter) {
  auto o = replay_options(slow_reply(), 40);
  o.parallel = 1;
  o.max_queue = 1;
  RunningServer srv(o);
  // One request runs, one waits; the third finds the queue full.
  RawConnection running(srv.port()), waiting(srv.port());
  running.send_post("/v1/chat/completions", chat_body("a", true).dump());
  ASSERT_NE(running.read_until("data:").find("200 OK"), std::string::npos);
  waiting.send_post("/v1/chat/completions", chat_body("b", true).dump());
  auto cli = srv.client();
  for (int i = 0; i < 100; ++i) {
    if (metric(cli.Get("/metrics")->body, "qwen3_requests_deferred") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto r = cli.Post("/v1/chat/completions", chat_body("c", false).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(r->body)["error"]["type"], "unavailable_error");
  EXPECT_EQ(metric(cli.Get("/metrics")->body, "qwen3_requests_rejected_total"), 1);
}

TEST(ServerReplay, DisconnectCancelsWithinAToken) {
  auto o = replay_options(slow_reply(), 40);
  RunningServer srv(o);
  auto cli = srv.client();
  for (bool stream : {true, false}) {
    SCOPED_TRACE(stream ? "streaming" : "non-streaming");
    double before = metric(cli.Get("/metrics")->body, "qwen3_requests_cancelled_total");
    {
      RawConnection c(srv.port());
      c.send_post("/v1/chat/completions", chat_body("go", stream).dump());
      if (stream) {
        ASSERT_NE(c.read_until("word").find("word"), std::string::npos);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }  // closes the socket mid-reply
    auto t0 = std::chrono::steady_clock::now();
    double processing = 1;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
      processing = metric(cli.Get("/metrics")->body, "qwen3_requests_processing");
      if (processing == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_EQ(processing, 0);
    // A token takes 40 ms; the generation must end well before the 12 s of the reply.
    EXPECT_LT(ms, 400);
    EXPECT_EQ(metric(cli.Get("/metrics")->body, "qwen3_requests_cancelled_total"), before + 1);
  }
}

TEST(ServerReplay, ParallelSlotsServeAtOnce) {
  auto o = replay_options("one two three four five six seven eight<|im_end|>", 20);
  o.parallel = 3;
  RunningServer srv(o);
  std::vector<std::thread> clients;
  std::vector<std::string> contents(6);
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&, i] {
      auto cli = srv.client();
      auto r = cli.Post("/v1/chat/completions", chat_body("q" + std::to_string(i), i % 2).dump(),
                        "application/json");
      if (!r || r->status != 200) return;
      contents[i] =
          i % 2 ? fold(parse_sse(r->body)).content
                : json::parse(r->body)["choices"][0]["message"]["content"].get<std::string>();
    });
  }
  for (auto& t : clients) t.join();
  for (const auto& c : contents) EXPECT_EQ(c, "one two three four five six seven eight");
}

}  // namespace
}  // namespace qwen3::test
