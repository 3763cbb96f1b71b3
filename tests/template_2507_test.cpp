// The Qwen3-2507 models through the server, with the templates they ship
// (tests/golden/templates/qwen3-2507-{instruct,thinking}.jinja as the tokenizer folder's
// chat_template.jinja) and a replayed reply: Instruct-2507 has no thinking mode, so its
// prompt opens no <think>, its reply is all content and a thinking switch in the request
// is ignored with a "warnings" entry; Thinking-2507's generation prompt ends inside
// <think>, so a reply that starts with reasoning and only closes it (</think>) is split
// into reasoning_content and content, streamed and not.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/prompt_builder.h"
#include "server_test_util.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwen3::test {
namespace {

namespace fs = std::filesystem;

// A tokenizer folder whose chat_template.jinja is the named golden template.
std::string folder_with(const std::string& tmpl) {
  const fs::path dir = fs::path(QWEN3_BUILD_DIR) / ("tok2507_" + tmpl);
  fs::create_directories(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fs::path(QWEN3_TOKENIZER_DIR) / f, dir / f, fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(QWEN3_SOURCE_DIR) / "tests/golden/templates" / (tmpl + ".jinja"),
                dir / "chat_template.jinja", fs::copy_options::overwrite_existing);
  return dir.string();
}

server::ServerOptions options(const std::string& tmpl, const std::string& reply) {
  server::ServerOptions o = replay_options(reply);
  o.model_path = folder_with(tmpl);
  return o;
}

json post(RunningServer& s, const json& body) {
  auto res = s.client().Post("/v1/chat/completions", body.dump(), "application/json");
  EXPECT_TRUE(res);
  if (!res) return json();
  EXPECT_EQ(res->status, 200) << res->body;
  return res->status == 200 ? json::parse(res->body) : json();
}

// The tokenizer of a 2507 folder; its template has no thinking switch and is detected as
// `family`.
Tokenizer tokenizer_of(const std::string& folder, const std::string& family) {
  Tokenizer tok = Tokenizer::from_file(folder_with(folder));
  const text::TemplateFamily fam = text::detect_family(tok.chat_template());
  EXPECT_FALSE(fam.thinking_switch) << folder;
  EXPECT_EQ(fam.name, family) << folder;
  return tok;
}

TEST(Qwen3_2507, InstructPromptHasNoThinkingAndReplyIsContent) {
  const Tokenizer tok = tokenizer_of("qwen3-2507-instruct", "jinja");
  ChatHistory h;
  h.push_back(ChatMessage::user("hi"));
  ChatMessage a = ChatMessage::assistant("Hello.", "earlier reasoning");
  h.push_back(a);
  h.push_back(ChatMessage::user("2+2? /no_think"));
  const auto built = engine::build_chat_prompt(h, false, tok, {4096, 16});
  // Earlier reasoning is not shown to an Instruct model; no <think> anywhere.
  EXPECT_EQ(built.text,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
            "<|im_start|>user\n2+2? /no_think<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_FALSE(built.starts_in_reasoning);
  EXPECT_EQ(built.note,
            "enable_thinking=false and /no_think ignored: this model's chat template has no "
            "thinking switch");

  RunningServer s(options("qwen3-2507-instruct", "It is 4.<|im_end|>"));
  json body = chat_body("2+2?", false);
  body["chat_template_kwargs"] = {{"enable_thinking", false}};
  const json r = post(s, body);
  ASSERT_TRUE(r.contains("choices")) << r.dump();
  EXPECT_EQ(r["choices"][0]["message"]["content"], "It is 4.");
  EXPECT_FALSE(r["choices"][0]["message"].contains("reasoning_content")) << r.dump();
  ASSERT_TRUE(r.contains("warnings")) << r.dump();
  EXPECT_EQ(r["warnings"],
            json::array({"enable_thinking=false ignored: this model's chat template has no "
                         "thinking switch"}));
  // Nothing asked, nothing ignored: no warnings field.
  EXPECT_FALSE(post(s, chat_body("2+2?", false)).contains("warnings"));
}

TEST(Qwen3_2507, ThinkingReplyStartsInsideReasoning) {
  const Tokenizer tok = tokenizer_of("qwen3-2507-thinking", "thinking");
  ChatHistory h;
  h.push_back(ChatMessage::user("2+2?"));
  const auto built = engine::build_chat_prompt(h, std::nullopt, tok, {4096, 16});
  EXPECT_EQ(built.text, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n");
  EXPECT_TRUE(built.starts_in_reasoning);
  EXPECT_EQ(built.note, "");

  // The model's output has no opening tag: the template wrote it.
  RunningServer s(options("qwen3-2507-thinking", "Two plus two.\n</think>\n\nIt is 4.<|im_end|>"));
  const json r = post(s, chat_body("2+2?", false));
  ASSERT_TRUE(r.contains("choices")) << r.dump();
  EXPECT_EQ(r["choices"][0]["message"]["reasoning_content"], "Two plus two.");
  EXPECT_EQ(r["choices"][0]["message"]["content"], "It is 4.");
  EXPECT_FALSE(r.contains("warnings"));

  // Streamed: reasoning deltas first, then content; a switch-off request is a warning
  // on the final chunk (a Thinking-2507 model always thinks).
  json body = chat_body("2+2?", true);
  body["enable_thinking"] = false;
  auto res = s.client().Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const SseStream sse = parse_sse(res->body);
  ASSERT_TRUE(sse.done && sse.well_formed);
  std::string reasoning, content, order;
  json warnings;
  for (const json& e : sse.events) {
    if (e.contains("warnings")) warnings = e["warnings"];
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning_content")) {
      reasoning += d["reasoning_content"].get<std::string>();
      if (order.empty() || order.back() != 'r') order += 'r';
    }
    if (d.contains("content") && d["content"].is_string() &&
        !d["content"].get<std::string>().empty()) {
      content += d["content"].get<std::string>();
      if (order.empty() || order.back() != 'c') order += 'c';
    }
  }
  EXPECT_EQ(reasoning, "Two plus two.");
  EXPECT_EQ(content, "It is 4.");
  EXPECT_EQ(order, "rc");
  EXPECT_EQ(warnings,
            json::array({"enable_thinking=false ignored: this model's chat template has no "
                         "thinking switch"}));
}

}  // namespace
}  // namespace qwen3::test
