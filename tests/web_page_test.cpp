// The web chat page end to end in headless Chromium (tests/js/web_page.mjs), against an
// in-process server replaying a reply with reasoning, code and hostile HTML; and the
// page's Markdown renderer on its own (tests/js/markdown_test.mjs).
#include <sys/wait.h>

#include "server_test_util.h"

namespace qwen3::test {
namespace {

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
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
  RunningServer srv(replay_options(reply, 25));
  std::string shot = std::string(QWEN3_BUILD_DIR) + "/web_page_test.png";
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(srv.port())}, {"screenshot", shot}};
  std::string cmd = "QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
                    std::string(QWEN3_SOURCE_DIR) + "/tests/js/web_page.mjs' '" + spec.dump() + "'";
  EXPECT_EQ(run(cmd), 0);
}

}  // namespace
}  // namespace qwen3::test
