// Structured output against `qwen3 serve` on a tiny random-weight model with the official
// `openai` client (tests/js/structured_client.mjs): beta.chat.completions.parse with zod,
// response_format json_schema over generated schemas validated by ajv + ajv-formats,
// tool_choice required / named over generated tool sets, streamed tool calls (pieces
// joined = the unstreamed arguments; required / auto / named), GBNF grammars and regexes
// (replies checked by JavaScript recognisers), a 400 for a bad schema; and forced tool calls
// on a model with Qwen3-Coder's template (the XML tool-call form). This is the reduced
// CI size; QWEN3_STRUCTURED_SCHEMAS / _TOOLS / _STREAMED / _GRAMMARS / _REGEXES raise the counts,
// and bench/structured_output_suite.sh runs the full suite (200 each).

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "serve_process.h"
#include "server_test_util.h"

namespace qwen3::test {
namespace {

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

TEST(StructuredOutputServer, OpenAiClientParseSchemasAndTools) {
  std::string model = tiny_serve_model("structured_output_tiny.gguf");
  ASSERT_FALSE(model.empty()) << "qwen3 gen-model failed";
  ServeProcess serve({"serve", "-m", model, "--port", "0", "--parallel", "2", "-t", "1"},
                     "structured_output_server_test.serve.log");
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"schemas", env_int("QWEN3_STRUCTURED_SCHEMAS", 16)},
               {"tools", env_int("QWEN3_STRUCTURED_TOOLS", 8)},
               {"streamed", env_int("QWEN3_STRUCTURED_STREAMED", 6)},
               {"grammars", env_int("QWEN3_STRUCTURED_GRAMMARS", 10)},
               {"regexes", env_int("QWEN3_STRUCTURED_REGEXES", 12)}};
  EXPECT_EQ(run_js_client("structured_client.mjs", spec), 0);
  EXPECT_EQ(serve.stop(), 0);
}

// A model whose chat template is Qwen3-Coder's writes tool calls in the XML form: forced
// calls (tool_choice required / named, parallel or not, thinking on and off) still come back
// as tool_calls whose arguments ajv validates, streamed pieces joined equal the unstreamed
// arguments, over generated tool sets (QWEN3_STRUCTURED_CODER_TOOLS raises the count).
TEST(StructuredOutputServer, CoderTemplateModelForcedToolCalls) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(QWEN3_BUILD_DIR) / "structured_output_coder_tok";
  fs::create_directories(dir);
  const fs::path tok = fs::path(QWEN3_TOKENIZER_DIR);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(tok / f, dir / f, fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(QWEN3_SOURCE_DIR) / "tests/golden/templates/qwen3-coder.jinja",
                dir / "chat_template.jinja", fs::copy_options::overwrite_existing);
  std::string model =
      tiny_serve_model("structured_output_coder_tiny.gguf", (dir / "tokenizer.json").string());
  ASSERT_FALSE(model.empty()) << "qwen3 gen-model failed";
  ServeProcess serve({"serve", "-m", model, "--port", "0", "--parallel", "2", "-t", "1"},
                     "structured_output_server_test.coder.serve.log");
  ASSERT_GT(serve.port(), 0) << "qwen3 serve did not report its port";
  ASSERT_TRUE(serve.wait_ready());
  const int n = env_int("QWEN3_STRUCTURED_CODER_TOOLS", 4);
  json spec = {{"base", "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1"},
               {"schemas", 0},
               {"tools", n},
               {"streamed", n / 2},
               {"grammars", 0},
               {"regexes", 0},
               {"seed", 11}};
  EXPECT_EQ(run_js_client("structured_client.mjs", spec), 0);
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace qwen3::test
