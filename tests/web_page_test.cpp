// The web chat page end to end in headless Chromium (tests/js/web_page.mjs), against
// in-process servers replaying fixed replies: one with reasoning, code and hostile HTML
// (desktop width: streaming, stop, regenerate, edit branches, copy, a failed request,
// reload mid-reply, switching chats while streaming, dark mode, export/import), one long
// reply (phone width: layout, wrapping, scrolling up while it streams) and one with a tiny
// context (the note that old turns were left out), one with LaTeX math and CJK text (math
// drawn while streaming, KaTeX's fonts, CJK glyphs from a CJK font). Also the page's
// Markdown renderer, math and code highlighter on their own (tests/js/markdown_test.mjs).
// Images: a `qwen3 serve --mmproj` process on a random Qwen3-VL pair (attach, paste, drop,
// thumbnails, the image_url part, a streamed reply, a refused image).
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "image_test_util.h"
#include "serve_process.h"
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
  EXPECT_EQ(run("QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
                std::string(QWEN3_SOURCE_DIR) + "/tests/js/markdown_test.mjs'"),
            0);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The server hands out KaTeX byte for byte as the pinned npm package has it, with types a
// browser accepts (a font served as octet-stream is refused by some browsers), and
// answers a revalidation with 304.
TEST(WebPage, ServesKatexFromTheNpmPackage) {
  std::string dist = std::string(QWEN3_TOOLS_DIR) + "/node_modules/katex/dist";
  if (read_file(dist + "/katex.min.js").empty()) GTEST_SKIP() << "no KaTeX in " << dist;
  RunningServer srv(replay_options("x<|im_end|>"));
  httplib::Client cli("127.0.0.1", srv.port());
  const std::pair<const char*, const char*> files[] = {
      {"katex.min.js", "text/javascript; charset=utf-8"},
      {"katex.min.css", "text/css; charset=utf-8"},
      {"fonts/KaTeX_Main-Regular.woff2", "font/woff2"},
      {"fonts/KaTeX_Size4-Regular.woff2", "font/woff2"}};
  for (const auto& [name, type] : files) {
    auto res = cli.Get("/katex/" + std::string(name));
    ASSERT_TRUE(res) << name;
    EXPECT_EQ(res->status, 200) << name;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << name;
    EXPECT_TRUE(res->body == read_file(dist + "/" + name)) << name << " differs from the package";
    // A reload revalidates: the same ETag gets a 304 without the file.
    std::string etag = res->get_header_value("ETag");
    EXPECT_EQ(etag.size(), 18u) << name;
    auto again = cli.Get("/katex/" + std::string(name), {{"If-None-Match", etag}});
    ASSERT_TRUE(again) << name;
    EXPECT_EQ(again->status, 304) << name;
    EXPECT_TRUE(again->body.empty()) << name;
    auto other = cli.Get("/katex/" + std::string(name), {{"If-None-Match", "\"0\""}});
    ASSERT_TRUE(other) << name;
    EXPECT_EQ(other->status, 200) << name;
  }
  auto page = cli.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("/katex/katex.min.js"), std::string::npos);
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
  const char* math_reply =
      "<think>\n勾股定理: $a^2+b^2=c^2$.\n</think>\n\n"
      "Inline $E=mc^2$ and \\(\\alpha_1\\), prices $5 and $10, `$code$`, the \\$ sign.\n\n"
      "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
      "A broken one: $\\frac{1$.\n\n"
      "中文：勾股定理说 $a^2+b^2=c^2$。日本語：ピタゴラスの定理。한국어: 피타고라스 정리.\n\n"
      "$$\n\\sum_{n=1}^{\\infty} \\frac{1}{n^2} = \\frac{\\pi^2}{6}\n$$\n\nThat is all.<|im_end|>";
  RunningServer math_srv(replay_options(math_reply, 15));

  json spec = {{"base", base(srv)},
               {"long", base(long_srv)},
               {"small", base(small_srv)},
               {"math", base(math_srv)},
               {"shots", std::string(QWEN3_BUILD_DIR) + "/web_page_screenshots"}};
  std::string cmd = "QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
                    std::string(QWEN3_SOURCE_DIR) + "/tests/js/web_page.mjs' '" + spec.dump() + "'";
  // QWEN3_WEB_PAGE_ONLY=desktop|phone|context|math runs one part (while working on it).
  if (const char* only = std::getenv("QWEN3_WEB_PAGE_ONLY")) cmd += " '" + std::string(only) + "'";
  EXPECT_EQ(run(cmd), 0);
}

TEST(WebPage, ImagesInHeadlessChromium) {
  if (std::system("test -x /usr/bin/chromium") != 0) GTEST_SKIP() << "/usr/bin/chromium missing";
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(QWEN3_BUILD_DIR) / "web_page_vision";
  fs::create_directories(dir);
  const std::string text = (dir / "text.gguf").string(), mmproj = (dir / "mmproj.gguf").string();
  const std::string gen = std::string(QWEN3_BIN) +
                          " gen-model --preset tiny --type f32 --seed 7 --tokenizer " +
                          tokenizer_path() + " --mmproj " + mmproj + " -o " + text + " >/dev/null";
  // The pair is kept while it is newer than the qwen3 binary.
  if (!fs::exists(text) || !fs::exists(mmproj) ||
      fs::last_write_time(text) < fs::last_write_time(QWEN3_BIN) ||
      fs::last_write_time(mmproj) < fs::last_write_time(QWEN3_BIN)) {
    ASSERT_EQ(run(gen), 0) << gen;
  }
  const std::string png = (dir / "picture.png").string();
  testing::write_png(png, testing::pattern_image(160, 96, 5));
  ServeProcess serve({"serve", "-m", text, "--mmproj", mmproj, "--port", "0", "-t", "2"},
                     "web_page_vision.serve.log");
  ASSERT_GT(serve.port(), 0);
  ASSERT_TRUE(serve.wait_ready());
  // /v1/models tells the page whether the server takes images.
  httplib::Client cli("127.0.0.1", serve.port());
  auto models = cli.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["meta"]["vision"], true);
  const std::string shots = std::string(QWEN3_BUILD_DIR) + "/web_page_screenshots";
  json spec = {{"vision", "http://127.0.0.1:" + std::to_string(serve.port())},
               {"png", png},
               {"shots", shots}};
  EXPECT_EQ(
      run("QWEN3_TOOLS_DIR='" + std::string(QWEN3_TOOLS_DIR) + "' node '" +
          std::string(QWEN3_SOURCE_DIR) + "/tests/js/web_page.mjs' '" + spec.dump() + "' vision"),
      0);
  std::cout << "screenshot: " << shots << "/web_page_1280_vision.png\n";
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace qwen3::test
