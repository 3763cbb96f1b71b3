// The web chat page end to end in headless Chromium (tests/js/web_page.mjs), against
// in-process servers replaying fixed replies: one with reasoning, code and hostile HTML
// (desktop width: streaming, stop, regenerate, edit branches, copy, a failed request,
// reload mid-reply, switching chats while streaming, dark mode, export/import), one long
// reply (phone width: layout, wrapping, scrolling up while it streams) and one with a tiny
// context (the note that old turns were left out). Also the page's Markdown renderer and
// code highlighter on their own (tests/js/markdown_test.mjs).
#include <sys/wait.h>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string base(const RunningServer& s) {
  return "http://127.0.0.1:" + std::to_string(s.port());
}

TEST(WebPage, MarkdownRendererEscapesHtml) {
  EXPECT_EQ(run("node '" + std::string(QWEN3_SOURCE_DIR) + "/tests/js/markdown_test.mjs'"), 0);
}

TEST(WebPage, ChatInHeadlessChromium) {
  if (std::system("test -x /usr/bin/chromium") != 0) GTEST_SKIP() << "/usr/bin/chromium missing";
  const char* reply =
      "<think>\nThinking about **markdown**.\n</think>\n\nHere is code:\n\n```python\n"
      "print(\"hi\")\n```\n\n<script>window.xssA=1</script><img src=x "
      "onerror=\"window.xssB=2\"> and **bold** text. Some more words so that the reply "
      "takes a while to stream in the browser.<|im_end|>";
  std::string long_reply = "A long answer:\n\n";
  for (int i = 1; i <= 90; ++i) {
    long_reply += "- Line " + std::to_string(i) + " of the answer, with a few words.\n";
  }
  long_reply += "\nSee https://example.com/" + std::string(200, 'z') + " for more.<|im_end|>";
  const char* short_reply =
      "A short reply of a handful of tokens, repeated for each turn.<|im_end|>";

  RunningServer srv(replay_options(reply, 25));
  RunningServer long_srv(replay_options(long_reply, 8));
  auto small = replay_options(short_reply, 5);
  small.n_ctx = 96;
  RunningServer small_srv(small);

  json spec = {{"base", base(srv)},
               {"long", base(long_srv)},
               {"small", base(small_srv)},
               {"shots", std::string(QWEN3_BUILD_DIR) + "/web_page_screenshots"}};
  std::string cmd = "QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
                    std::string(QWEN3_SOURCE_DIR) + "/tests/js/web_page.mjs' '" + spec.dump() + "'";
  EXPECT_EQ(run(cmd), 0);
}

}  // namespace
}  // namespace qwen3::test
