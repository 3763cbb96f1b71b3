// `qwen3 template` and `qwen3 parse-output` as a user runs them (QWEN3_BIN).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "text/chat_template.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

using Result = qwen3::test::CommandResult;

const fs::path& tmp_dir() {
  static const fs::path d = [] {
    fs::path p = fs::path(QWEN3_BUILD_DIR) / "chat_template_cli_files";
    fs::create_directories(p);
    return p;
  }();
  return d;
}

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path p = tmp_dir() / name;
  qwen3::test::write_file(p, text);
  return p.string();
}

Result run(const std::string& args, const std::string& stdin_text = "") {
  return qwen3::test::run_with_input(std::string(QWEN3_BIN) + " " + args, stdin_text,
                                     (tmp_dir() / "run").string());
}

const std::string kModel = QWEN3_TOKENIZER_DIR;

ojson goldens() {
  std::ifstream f(std::string(QWEN3_SOURCE_DIR) + "/tests/golden/template_goldens.json");
  return ojson::parse(f);
}

TEST(TemplateCli, BatchMatchesGoldens) {
  ojson cases = ojson::array(), expected = ojson::array();
  for (const auto& g : goldens()) {
    if (!g["expected"].is_string()) continue;
    ojson c = g;
    c.erase("name");
    c.erase("expected");
    cases.push_back(c);
    expected.push_back(g["expected"]);
  }
  auto r = run("template -m " + kModel + " --batch " + write_file("batch.json", cases.dump()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(ojson::parse(r.out), expected);
  EXPECT_EQ(r.err, "");  // the package's template is the official one: no warning
}

TEST(TemplateCli, MessagesToolsAndFlagsByteExact) {
  const std::string msgs =
      R"([{"role":"system","content":"S"},{"role":"user","content":"Weather in Zürich?"}])";
  const std::string tools =
      R"([{"type":"function","function":{"name":"w","parameters":{"z":{"type":"string"},"a":1.0}}}])";
  auto r = run("template -m " + kModel + " --messages " + write_file("m.json", msgs) + " --tools " +
               write_file("t.json", tools) + " --no-think --no-generation-prompt");
  ASSERT_EQ(r.status, 0) << r.err;
  TemplateOptions o;
  o.enable_thinking = false;
  o.add_generation_prompt = false;
  EXPECT_EQ(r.out, render_chat(messages_from_json(ojson::parse(msgs)), ojson::parse(tools), o));
  EXPECT_NE(r.out.find(R"({"z": {"type": "string"}, "a": 1})"), std::string::npos);

  auto gen =
      run("template -m " + kModel + " --messages " + write_file("m2.json", msgs) + " --no-think");
  ASSERT_EQ(gen.status, 0);
  const std::string tail = "<|im_start|>assistant\n<think>\n\n</think>\n\n";
  ASSERT_GE(gen.out.size(), tail.size());
  EXPECT_EQ(gen.out.substr(gen.out.size() - tail.size()), tail);  // nothing appended
}

TEST(TemplateCli, RendersWithTheModelsOwnTemplate) {
  fs::path dir = tmp_dir() / "foreign_model";
  fs::create_directories(dir);
  fs::copy_file(kModel + "/tokenizer.json", dir / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  std::ifstream cfg_in(kModel + "/tokenizer_config.json");
  ojson cfg = ojson::parse(cfg_in);
  cfg["chat_template"] = "{% for m in messages %}{{ m.content }}{% endfor %}";
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump();
  const std::string msgs = write_file("m3.json", R"([{"role":"user","content":"hi"}])");
  auto r = run("template -m " + dir.string() + " --messages " + msgs);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hi");
  EXPECT_EQ(r.err, "");
  // A template we cannot render is one clear error naming the construct and position.
  cfg["chat_template"] = "line 1\n{% while true %}{% endwhile %}";
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump();
  r = run("template -m " + dir.string() + " --messages " + msgs);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("line 2 col 4: unknown statement {% while %}"), std::string::npos) << r.err;
}

TEST(TemplateCli, BadInputExitsTwoWithOneLine) {
  auto one_line_error = [](const Result& r) {
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  one_line_error(run("template -m " + kModel + " --messages /nonexistent/conv.json"));
  one_line_error(run("template -m " + kModel + " --messages " + write_file("bad.json", "[{")));
  one_line_error(run("template -m " + kModel + " --messages " +
                     write_file("role.json", R"([{"role":"wizard","content":"x"}])")));
  one_line_error(run("template -m " + kModel + " --messages " +
                     write_file("shape.json", R"({"role":"user","content":"x"})")));
  one_line_error(run("template -m " + kModel + " --messages " +
                     write_file("null.json", R"([{"role":"user","content":null}])")));
  one_line_error(run("template -m " + kModel + " --batch " +
                     write_file("batch_bad.json", R"([{"messages":[]},{"nomessages":1}])")));
  one_line_error(run("template -m " + kModel));
  one_line_error(run("template -m /nonexistent/model --messages " +
                     write_file("ok.json", R"([{"role":"user","content":"x"}])")));
  one_line_error(run("parse-output -m /nonexistent/model", "x"));
}

// 50,000 levels of nesting (which used to overflow the stack in tojson) are refused with
// one line naming the depth limit, in the messages file and in the tools file.
TEST(TemplateCli, DeepJsonIsAClearError) {
  const std::string deep = std::string(50000, '[') + std::string(50000, ']');
  const std::string args =
      R"([{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":)" +
      deep + "}}]}]";
  const std::string tools =
      R"([{"type":"function","function":{"name":"f","parameters":)" + deep + "}}]";
  const std::string user = R"([{"role":"user","content":"x"}])";
  for (const std::string& cmd :
       {"template -m " + kModel + " --messages " + write_file("deep_args.json", args),
        "template -m " + kModel + " --messages " + write_file("user.json", user) + " --tools " +
            write_file("deep_tools.json", tools)}) {
    SCOPED_TRACE(cmd);
    Result r = run(cmd);
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("nesting is deeper than the limit of 64 levels"), std::string::npos)
        << r.err;
  }
}

TEST(ParseOutputCli, StructuredMessage) {
  auto r = run("parse-output -m " + kModel,
               "<think>\nplan\n</think>\n\nCalling.\n<tool_call>\n{\"name\": \"get\", "
               "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>");
  ASSERT_EQ(r.status, 0) << r.err;
  ojson j = ojson::parse(r.out);
  EXPECT_EQ(j["reasoning_content"], "plan");
  EXPECT_EQ(j["content"], "Calling.");
  ASSERT_EQ(j["tool_calls"].size(), 1u);
  EXPECT_EQ(j["tool_calls"][0]["function"]["name"], "get");
  EXPECT_EQ(j["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(j["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);

  auto open =
      run("parse-output -m " + kModel + " --thinking-open", "hmm\n</think>\n\nYes.<|im_end|>");
  ASSERT_EQ(open.status, 0) << open.err;
  EXPECT_EQ(ojson::parse(open.out),
            ojson::parse(R"({"reasoning_content":"hmm","content":"Yes.","tool_calls":[]})"));
}

}  // namespace
}  // namespace qwen3::text
