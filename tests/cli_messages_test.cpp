// The command line's own messages, as a user meets them: bad flag values are explained in
// words, `qwen3` alone lists the commands, a missing prompt says where a prompt can come
// from, a wrong model path says what it is and what -m takes. Runs the real binary; no
// model is needed (arguments are checked before loading).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_run.h"

namespace {

using Result = qwen3::test::CommandResult;

Result qwen3(const std::string& args, const std::string& env = "") {
  return qwen3::test::run_command(env + " " + std::string(QWEN3_BIN) + " " + args +
                                  " 2>&1 </dev/null");
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

// A scratch folder under the build directory, made empty.
std::string scratch(const std::string& name) {
  const std::string dir = std::string(QWEN3_BUILD_DIR) + "/cli_messages_scratch/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A file that passes the model-path check (the GGUF magic) without being loaded.
std::string fake_gguf() {
  const std::string path = scratch("fake") + "/fake.gguf";
  std::ofstream(path) << "GGUF";
  return path;
}

TEST(CliMessages, MissingPromptNamesItsSources) {
  const Result r = qwen3("run -m " + fake_gguf());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("a prompt is required: -p TEXT, -p - (stdin) or -f FILE"), std::string::npos)
      << r.out;
  const Result both = qwen3("run -m " + fake_gguf() + " -p hi -f file.txt");
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.out.find("excludes"), std::string::npos) << both.out;
}

TEST(CliMessages, UnknownHubModelIsAClearError) {
  const Result r = qwen3("run -m hf://not/valid/ref -p hi");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("expected ORG/NAME"), std::string::npos) << r.out;
}

TEST(CliMessages, ModelPathErrorsSayWhatIsWrong) {
  const std::string empty = scratch("empty");
  const std::string text = scratch("text") + "/notes.txt";
  std::ofstream(text) << "hello";
  struct Case {
    std::string args, says;
  } cases[] = {
      {"run -m /nonexistent/m.gguf -p hi", "model not found: '/nonexistent/m.gguf' does not exist"},
      {"chat -m " + empty, "'" + empty + "' is a folder without config.json"},
      {"serve -m " + text, "'" + text + "' is not a GGUF file"},
      {"bench -m " + text, "and not a Hugging Face model folder"},
      {"convert " + text + " -o out.gguf", "is a file, not a Hugging Face model folder"},
      {"convert " + empty + " -o out.gguf", "is a folder without config.json"},
  };
  for (const auto& c : cases) {
    const Result r = qwen3(c.args);
    EXPECT_EQ(r.status, 2) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(r.out.find("cannot open"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
  }
}

TEST(CliMessages, OfflineHubModelSaysHowToGetIt) {
  const std::string cache = scratch("hub");
  const Result r = qwen3("run -m hf://Qwen/Qwen3-0.6B-GGUF:Q8_0 -p hi",
                         "HF_HUB_OFFLINE=1 HF_HUB_CACHE=" + cache);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot get the model 'hf://Qwen/Qwen3-0.6B-GGUF:Q8_0'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unset HF_HUB_OFFLINE"), std::string::npos) << r.out;
}

}  // namespace
