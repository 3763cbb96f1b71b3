// Live differential test: hundreds of generated conversations (conversation_gen.h:
// unicode, quotes/backslashes/newlines, think tags, tool calls, nested tool schemas with
// odd keys and numbers) rendered by the native template and by @huggingface/jinja
// running the official template (tools/render_template.mjs).
#include <gtest/gtest.h>

#include <cstdio>

#include "conversation_gen.h"
#include "template_diff_driver.h"
#include "text/chat_template.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

TEST(ChatTemplateDiff, RandomConversationsMatchJinja) {
  if (!qwen3::testing::have_node()) GTEST_SKIP() << "node not found";
  constexpr int kCases = 400;
  qwen3::testing::ConversationGen gen(20260501);
  ojson cases = ojson::array();
  for (int i = 0; i < kCases; ++i) cases.push_back(gen.conversation());
  const ojson expected = qwen3::testing::render_reference("render_template.mjs", "", cases,
                                                          "chat_template_diff_cases");
  ASSERT_EQ(expected.size(), cases.size());
  int compared = 0, both_failed = 0;
  for (int i = 0; i < kCases; ++i) {
    const ojson& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.dump());
    TemplateOptions o;
    o.add_generation_prompt = c.value("add_generation_prompt", true);
    if (c.contains("enable_thinking")) o.enable_thinking = c["enable_thinking"].get<bool>();
    ojson tools = c.contains("tools") ? c["tools"] : ojson();
    if (expected[i].is_string()) {
      EXPECT_EQ(render_chat(messages_from_json(c["messages"]), tools, o),
                expected[i].get<std::string>());
      ++compared;
    } else {
      EXPECT_THROW(render_chat(messages_from_json(c["messages"]), tools, o), std::invalid_argument);
      ++both_failed;
    }
  }
  EXPECT_GE(compared, 200);
  std::printf("compared %d rendered conversations, %d failing in both\n", compared, both_failed);
}

}  // namespace
}  // namespace qwen3::text
