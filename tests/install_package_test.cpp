// The installed package, used as another project would use it:
// - `cmake --install` puts libqwen3.so/.a, only the public headers, the CMake package
//   files, a pkg-config file, the qwen3 binary and (when built) the Python module;
// - the exported C symbols are exactly tests/golden/capi_symbols.txt (the C ABI: adding
//   or removing a function is a deliberate change of that file and QWEN3_API_VERSION);
// - qwen3.h compiles as strict C99;
// - examples/ builds as a separate project with find_package(qwen3) (shared and static)
//   and with pkg-config, and the programs run on a random-weight model.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"

namespace fs = std::filesystem;

namespace {

using Output = qwen3::test::CommandResult;

Output sh(const std::string& cmd) {
  return qwen3::test::run_command(cmd + " 2>&1");
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(l);
  return v;
}

class InstallPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qwen3_install_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    prefix_ = dir_ / "prefix";
    install_ =
        sh("cmake --install " + std::string(QWEN3_BUILD_DIR) + " --prefix " + prefix_.string());
    for (const char* d : {"lib", "lib64"})
      if (fs::exists(prefix_ / d / "libqwen3.a")) libdir_ = prefix_ / d;
    for (const auto& e : fs::recursive_directory_iterator(prefix_ / "lib"))
      if (e.path().filename() == "libqwen3.a") libdir_ = e.path().parent_path();
    model_ = (dir_ / "tiny.gguf").string();
    const std::string gen = std::string(QWEN3_BIN) + " gen-model --preset tiny --type q8_0" +
                            " --tokenizer " + QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 2 -o " +
                            model_ + " > /dev/null";
    ASSERT_EQ(std::system(gen.c_str()), 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static inline fs::path dir_, prefix_, libdir_;
  static inline std::string model_;
  static inline Output install_;
};

TEST_F(InstallPackage, InstallsLibrariesPublicHeadersAndPackageFiles) {
  ASSERT_EQ(install_.status, 0) << install_.out;
  ASSERT_FALSE(libdir_.empty()) << install_.out;
  EXPECT_TRUE(fs::exists(libdir_ / "libqwen3.so"));
  EXPECT_TRUE(fs::exists(libdir_ / "libqwen3.so.0"));
  EXPECT_TRUE(fs::exists(libdir_ / "cmake/qwen3/qwen3Config.cmake"));
  EXPECT_TRUE(fs::exists(libdir_ / "cmake/qwen3/qwen3ConfigVersion.cmake"));
  EXPECT_TRUE(fs::exists(libdir_ / "pkgconfig/qwen3.pc"));
  EXPECT_TRUE(fs::exists(prefix_ / "bin/qwen3"));
  // Exactly the public headers: every include/qwen3/*.h and nothing from src/.
  std::vector<std::string> want, got;
  for (const auto& e : fs::directory_iterator(fs::path(QWEN3_SOURCE_DIR) / "include/qwen3"))
    want.push_back(e.path().filename().string());
  for (const auto& e : fs::recursive_directory_iterator(prefix_ / "include"))
    if (e.is_regular_file())
      got.push_back(fs::relative(e.path(), prefix_ / "include/qwen3").string());
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST_F(InstallPackage, ExportedCSymbolsAreTheGoldenAbi) {
  ASSERT_EQ(install_.status, 0) << install_.out;
  const Output nm = sh("nm -D --defined-only " + (libdir_ / "libqwen3.so").string() +
                       " | awk '$2 == \"T\" && $3 ~ /^qwen3_/ {print $3}' | sort");
  ASSERT_EQ(nm.status, 0) << nm.out;
  std::ifstream golden(fs::path(QWEN3_SOURCE_DIR) / "tests/golden/capi_symbols.txt");
  std::stringstream g;
  g << golden.rdbuf();
  EXPECT_EQ(lines(nm.out), lines(g.str()))
      << "the C ABI changed: update tests/golden/capi_symbols.txt and QWEN3_API_VERSION";
}

TEST_F(InstallPackage, HeaderIsStrictC99) {
  const Output cc =
      sh("cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I" +
         (prefix_ / "include").string() + " " + QWEN3_SOURCE_DIR + "/examples/c_example.c");
  EXPECT_EQ(cc.status, 0) << cc.out;
}

TEST_F(InstallPackage, ExamplesBuildWithFindPackageAndRun) {
  ASSERT_EQ(install_.status, 0) << install_.out;
  const fs::path b = dir_ / "examples-build";
  const Output conf =
      sh("cmake -S " + std::string(QWEN3_SOURCE_DIR) + "/examples -B " + b.string() +
         " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix_.string());
  ASSERT_EQ(conf.status, 0) << conf.out;
  const Output build = sh("cmake --build " + b.string() + " -j2");
  ASSERT_EQ(build.status, 0) << build.out;

  for (const char* exe : {"c_example", "c_example_static"}) {
    const Output r = sh((b / exe).string() + " " + model_ + " 'Hello there' 8");
    EXPECT_EQ(r.status, 0) << exe << ": " << r.out;
    EXPECT_NE(r.out.find("[qwen3 0.1.0, 8 tokens, finish length"), std::string::npos) << r.out;
  }
  const Output bad = sh((b / "c_example").string() + " /no/such.gguf hi");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("error: "), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("/no/such.gguf"), std::string::npos) << bad.out;

  const Output chat = sh("printf 'Hi\\n' | " + (b / "chat_example").string() + " " + model_);
  EXPECT_EQ(chat.status, 0) << chat.out;
  EXPECT_NE(chat.out.find("session: 1 replies"), std::string::npos) << chat.out;
  const Output batch = sh((b / "batching_example").string() + " " + model_ + " 2 8");
  EXPECT_EQ(batch.status, 0) << batch.out;
}

TEST_F(InstallPackage, PkgConfigBuildsTheCExample) {
  ASSERT_EQ(install_.status, 0) << install_.out;
  const std::string env = "PKG_CONFIG_PATH=" + (libdir_ / "pkgconfig").string() + " ";
  const Output flags = sh(env + "pkg-config --cflags --libs qwen3");
  ASSERT_EQ(flags.status, 0) << flags.out;
  EXPECT_NE(flags.out.find("-lqwen3"), std::string::npos) << flags.out;
  const std::string exe = (dir_ / "c_example_pc").string();
  const Output cc =
      sh("cc -std=c99 " + std::string(QWEN3_SOURCE_DIR) + "/examples/c_example.c -o " + exe +
         " $(" + env + "pkg-config --cflags --libs qwen3) -Wl,-rpath," + libdir_.string());
  ASSERT_EQ(cc.status, 0) << cc.out;
  const Output r = sh(exe + " " + model_ + " 'Hi' 4");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("4 tokens"), std::string::npos) << r.out;
}

}  // namespace
