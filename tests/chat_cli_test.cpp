// `qwen3 chat` driven as a person would: in tmux, typing with send-keys and reading the
// screen with capture-pane, on a tiny random-weight model (and a tiny Qwen3-VL pair for
// /image: the reply and prompt size equal `qwen3 run --mmproj --image`'s).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "image_test_util.h"

namespace {

namespace fs = std::filesystem;

// Only a reply's stats line has this ("... generated 24 tokens, 503.9 tok/s | ttft 5 ms
// ..."); /stats and /show print "generated" too.
constexpr const char* kReplyDone = " tok/s | ttft ";

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

class ChatCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qwen3_chat_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny.gguf").string();
    const std::string gen = std::string(QWEN3_BIN) +
                            " gen-model --preset tiny --type f32 --tokenizer " +
                            QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 1 -o " + model_;
    ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
    static int n = 0;  // a tmux server per test: a killed one may still be shutting down
    sock_ = "qwen3_chat_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  }
  void TearDown() override {
    run("tmux -L " + sock_ + " kill-server 2>/dev/null");
    fs::remove_all(dir_);
  }

  void start(const std::string& args) {
    const std::string cmd = "tmux -L " + sock_ + " new-session -d -s chat -x 160 -y 60 '" +
                            std::string(QWEN3_BIN) + " chat -m " + model_ + " " + args + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void keys(const std::string& k) { run("tmux -L " + sock_ + " send-keys -t chat " + k); }
  void type_line(const std::string& text) {
    run("tmux -L " + sock_ + " send-keys -t chat -l '" + text + "'");
    keys("Enter");
  }
  std::string screen() {
    return run("tmux -L " + sock_ + " capture-pane -p -t chat -S -3000 2>/dev/null");
  }
  bool alive() {
    return std::system(("tmux -L " + sock_ + " has-session -t chat 2>/dev/null").c_str()) == 0;
  }
  // Waits until `needle` shows at least `times` times on the screen. Each wait names text
  // only the awaited output prints (not the echo of the typed line, not an earlier
  // command's output): the next line typed within 15 ms of the last one would join it
  // as one pasted message.
  bool wait_for(const std::string& needle, size_t times = 1, int timeout_s = 180) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < until) {
      if (count(screen(), needle) >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  fs::path dir_;
  std::string model_, sock_;
};

TEST_F(ChatCli, ConversationCommandsAndSave) {
  start("-n 24 --seed 3 -t 1 -c 1024");
  ASSERT_TRUE(wait_for("/help for commands")) << screen();
  type_line("Hello, who are you?");
  ASSERT_TRUE(wait_for(kReplyDone, 1)) << screen();  // the stats line after the reply
  EXPECT_TRUE(wait_for("tok/s")) << screen();
  EXPECT_TRUE(wait_for("ttft")) << screen();

  type_line("/stats");
  ASSERT_TRUE(wait_for("replies 1")) << screen();

  type_line("/no_think");
  ASSERT_TRUE(wait_for("(thinking off)")) << screen();
  type_line("Second question /think");  // passes through to the model as text
  ASSERT_TRUE(wait_for(kReplyDone, 2)) << screen();

  const std::string saved = (dir_ / "conv.json").string();
  type_line("/save " + saved);
  ASSERT_TRUE(wait_for("saved 4 messages")) << screen();
  std::ifstream f(saved);
  const auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["role"], "user");
  EXPECT_EQ(j[0]["content"], "Hello, who are you?");
  EXPECT_EQ(j[1]["role"], "assistant");
  EXPECT_EQ(j[2]["content"], "Second question /think");

  type_line("/system You are a pirate.");
  ASSERT_TRUE(wait_for("system message set")) << screen();
  type_line("/save " + saved);
  ASSERT_TRUE(wait_for("saved 1 message to")) << screen();
  type_line("/reset");
  ASSERT_TRUE(wait_for("(conversation cleared)")) << screen();

  type_line("/exit");
  for (int i = 0; i < 100 && alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(alive()) << "chat did not exit on /exit";
}

TEST_F(ChatCli, EditingSettingsAndLoad) {
  start("-n 8 --seed 3 -t 1 -c 1024 --temp 0");
  ASSERT_TRUE(wait_for("/help for commands")) << screen();
  // A paste of three lines is one message.
  run("tmux -L " + sock_ + " send-keys -t chat -l 'line one\nline two\nline three\n'");
  ASSERT_TRUE(wait_for(kReplyDone, 1)) << screen();
  // A """ block typed line by line is one message too.
  type_line("\"\"\"first");
  type_line("second\"\"\"");
  ASSERT_TRUE(wait_for(kReplyDone, 2)) << screen();
  const std::string saved = (dir_ / "two.json").string();
  type_line("/save " + saved);
  ASSERT_TRUE(wait_for("saved 4 messages")) << screen();
  {
    std::ifstream f(saved);
    const auto j = nlohmann::json::parse(f);
    ASSERT_EQ(j.size(), 4u);
    EXPECT_EQ(j[0]["content"], "line one\nline two\nline three");
    EXPECT_EQ(j[2]["content"], "first\nsecond");
  }
  type_line("/frobnicate now");  // unknown commands answer with the list, not the model
  ASSERT_TRUE(wait_for("unknown command /frobnicate")) << screen();
  type_line("/set temp 3000");
  ASSERT_TRUE(wait_for("temp must be a number from 0")) << screen();
  type_line("/set top_k 5");
  ASSERT_TRUE(wait_for("(top_k = 5)")) << screen();
  type_line("/show");
  ASSERT_TRUE(wait_for("| top_k 5 |")) << screen();
  EXPECT_TRUE(wait_for("tokens | 4 messages")) << screen();
  type_line("/retry");  // greedy: the same reply again, still 4 messages
  ASSERT_TRUE(wait_for(kReplyDone, 3)) << screen();
  type_line("/undo");
  ASSERT_TRUE(wait_for("last exchange removed; 2 messages left")) << screen();
  type_line("/load " + saved);
  ASSERT_TRUE(wait_for("loaded 4 messages")) << screen();
  // Ctrl-C with a half-typed line clears it and keeps the conversation.
  run("tmux -L " + sock_ + " send-keys -t chat -l 'half typed'");
  keys("C-c");
  ASSERT_TRUE(wait_for("Ctrl-C again")) << screen();
  EXPECT_TRUE(alive());
  type_line("/show");
  ASSERT_TRUE(wait_for("tokens | 4 messages", 2)) << screen();
  keys("C-c");
  keys("C-c");
  for (int i = 0; i < 100 && alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(alive()) << "two Ctrl-C on an empty line should quit";
}

TEST_F(ChatCli, CtrlCStopsTheReplyNotTheProgram) {
  start("-n 100000 --seed 5 -t 1 -c 4096");
  ASSERT_TRUE(wait_for("/help for commands")) << screen();
  type_line("Write a very long story.");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  keys("C-c");
  ASSERT_TRUE(wait_for("(stopped)", 1, 30)) << screen();
  ASSERT_TRUE(wait_for("cancelled", 1, 10)) << screen();  // stats line with the finish reason
  EXPECT_TRUE(alive());
  type_line("/stats");
  EXPECT_TRUE(wait_for("replies 1")) << screen();
  keys("C-d");  // end of input quits
  for (int i = 0; i < 100 && alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(alive());
}

}  // namespace

namespace {

// /image FILE on a Qwen3-VL pair: bad files are messages and the chat goes on; attached
// images are listed, cleared, and go with the next message, whose reply and prompt token
// count equal `qwen3 run --mmproj --image`'s (greedy). Without --mmproj /image says what
// it needs.
TEST_F(ChatCli, ImageCommand) {
  // The pair is kept in the build folder while it is newer than the qwen3 binary.
  const fs::path vl_dir = fs::path(QWEN3_BUILD_DIR) / "chat_cli_vl";
  fs::create_directories(vl_dir);
  const std::string text = (vl_dir / "vl.gguf").string(),
                    mmproj = (vl_dir / "mmproj.gguf").string();
  if (!fs::exists(text) || !fs::exists(mmproj) ||
      fs::last_write_time(text) < fs::last_write_time(QWEN3_BIN)) {
    const std::string gen =
        std::string(QWEN3_BIN) + " gen-model --preset tiny --type f32 --seed 7 --tokenizer " +
        QWEN3_TOKENIZER_DIR + "/tokenizer.json --mmproj " + mmproj + " -o " + text + " >/dev/null";
    ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  }
  const std::string png = (dir_ / "picture.png").string(), bad = (dir_ / "bad.png").string();
  qwen3::testing::write_png(png, qwen3::testing::pattern_image(120, 64, 1));
  std::ofstream(bad) << "not an image";
  const std::string sampling = " -n 8 --temp 0 --presence-penalty 0 --repeat-penalty 1 -t 2";
  const std::string err_file = (dir_ / "run.err").string();
  std::string reply = run(std::string(QWEN3_BIN) + " run -m " + text + " --mmproj " + mmproj +
                          " --image " + png + " -p 'What is this?'" + sampling + " 2>" + err_file);
  std::ifstream ef(err_file);
  const std::string ref((std::istreambuf_iterator<char>(ef)), {});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ref, m, std::regex("\\[(\\d+) prompt tokens"))) << ref;
  const std::string prompt_tokens = m[1];
  if (!reply.empty() && reply.back() == '\n') reply.pop_back();
  ASSERT_FALSE(reply.empty());

  // Piped (or pasted) lines: each /image takes its own line, the rest is the message.
  {
    const std::string two =
        run(std::string(QWEN3_BIN) + " run -m " + text + " --mmproj " + mmproj + " --image " + png +
            " --image " + png + " -p 'What is this?'" + sampling + " 2>&1 >/dev/null");
    ASSERT_TRUE(std::regex_search(two, m, std::regex("\\[(\\d+) prompt tokens"))) << two;
    const std::string piped =
        run("printf '/image " + png + "\\n/image " + png + "\\nWhat is this?\\n' | " + QWEN3_BIN +
            " chat -m " + text + " --mmproj " + mmproj + sampling + " 2>&1");
    EXPECT_NE(piped.find("(image 2 attached"), std::string::npos) << piped;
    EXPECT_NE(piped.find("prompt " + std::string(m[1]) + " tokens"), std::string::npos)
        << two << "\n"
        << piped;
  }

  const std::string plain = model_;
  model_ = text;
  start("--mmproj " + mmproj + sampling);
  ASSERT_TRUE(wait_for("/help for commands")) << screen();
  type_line("/image " + (dir_ / "missing.png").string());
  ASSERT_TRUE(wait_for("cannot attach " + (dir_ / "missing.png").string() + ": ")) << screen();
  type_line("/image " + bad);
  ASSERT_TRUE(wait_for("cannot attach " + bad + ": ")) << screen();
  type_line("/image " + png);
  ASSERT_TRUE(wait_for("(image 1 attached: " + png + ", 120x64")) << screen();
  type_line("/image " + png);
  ASSERT_TRUE(wait_for("(image 2 attached")) << screen();
  type_line("/image");
  ASSERT_TRUE(wait_for("(image 2: " + png + ")")) << screen();
  type_line("/image clear");
  ASSERT_TRUE(wait_for("(2 images dropped)")) << screen();
  type_line("/image " + png);
  ASSERT_TRUE(wait_for("(image 1 attached", 2)) << screen();
  type_line("What is this?");
  ASSERT_TRUE(wait_for(kReplyDone, 1)) << screen();
  EXPECT_TRUE(wait_for("prompt " + prompt_tokens + " tokens")) << ref << "\n" << screen();
  EXPECT_TRUE(wait_for(reply)) << reply << "\n" << screen();
  type_line("/image");  // the images went with the message
  ASSERT_TRUE(wait_for("(no images attached")) << screen();
  type_line("/exit");
  for (int i = 0; i < 100 && alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(alive());

  run("tmux -L " + sock_ + " kill-server 2>/dev/null");
  sock_ += "_plain";  // a tmux server of its own (the killed one may still be going away)
  model_ = plain;
  start("-t 1");
  ASSERT_TRUE(wait_for("/help for commands")) << screen();
  type_line("/image " + png);
  ASSERT_TRUE(wait_for("/image needs a Qwen3-VL model and its vision encoder")) << screen();
  type_line("/exit");
}

}  // namespace
