// The command line's own messages, as a user meets them: bad flag values are explained in
// words, `qwen3` alone lists the commands, a missing prompt says where a prompt can come
// from. Runs the real binary; no model is needed (arguments are checked before loading).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace {

struct Result {
  int status;
  std::string out;
};

Result qwen3(const std::string& args) {
  Result r{0, ""};
  FILE* p = popen((std::string(QWEN3_BIN) + " " + args + " 2>&1 </dev/null").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  r.status = WEXITSTATUS(pclose(p));
  return r;
}

TEST(CliMessages, NoCommandPrintsTheCommandList) {
  const Result r = qwen3("");
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* cmd : {"run", "chat", "serve", "pull", "list", "bench", "convert"})
    EXPECT_NE(r.out.find(std::string("  ") + cmd), std::string::npos) << cmd << "\n" << r.out;
}

TEST(CliMessages, RangesInWords) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"run -m x -p hi -n 0", "--n-predict: must be at least 1 (got '0')"},
      {"run -m x -p hi --temp -1", "--temp: must be from 0 to 100 (got '-1')"},
      {"run -m x -p hi --top-p 1.5", "--top-p: must be from 0 to 1 (got '1.5')"},
      {"run -m x -p hi --top-k abc", "--top-k: must be 0 or more (got 'abc')"},
      {"chat -m x -n 0", "--n-predict: must be at least 1"},
      {"chat -m x --presence-penalty 3", "--presence-penalty: must be from -2 to 2"},
  };
  for (const auto& c : cases) {
    const Result r = qwen3(c.args);
    EXPECT_EQ(r.status, 2) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(r.out.find("not in range"), std::string::npos) << r.out;
  }
}

TEST(CliMessages, MissingPromptNamesItsSources) {
  const Result r = qwen3("run -m x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("a prompt is required: -p TEXT, -p - (stdin) or -f FILE"), std::string::npos)
      << r.out;
  const Result both = qwen3("run -m x -p hi -f file.txt");
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.out.find("excludes"), std::string::npos) << both.out;
}

TEST(CliMessages, UnknownHubModelIsAClearError) {
  const Result r = qwen3("run -m hf://not/valid/ref -p hi");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("expected ORG/NAME"), std::string::npos) << r.out;
}

}  // namespace
