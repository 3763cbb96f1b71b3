// An in-process server batching a real model, for the server tests that need one
// (server_choices_test, server_metrics_test): a tiny random-weight model made by
// `qwen3 gen-model` as users run it (the built binary, the tiny preset, the real tokenizer)
// in a per-process temporary folder, and the options of a server on a free port serving it
// as "tiny" (256-token context, 2 threads). One copy of the command line and the options,
// so the tests set up the same way.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "server_test_util.h"

namespace qwen3::test {

// Writes `<temp>/<folder_prefix><pid>/tiny.gguf` (weights of `type`, seed `seed`) and returns
// its path; a failed command is a test failure naming it.
inline std::string gen_tiny_model(const std::string& folder_prefix, const std::string& type,
                                  int seed) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / (folder_prefix + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string p = (dir / "tiny.gguf").string();
  const std::string cmd = std::string(QWEN3_BIN) + " gen-model --preset tiny --type " + type +
                          " --tokenizer " + QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed " +
                          std::to_string(seed) + " -o " + p + " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return p;
}

// A server on a free port serving `model` as "tiny" with `parallel` sequences.
inline server::ServerOptions tiny_server_options(const std::string& model, int parallel) {
  server::ServerOptions o;
  o.model_path = model;
  o.model_name = "tiny";
  o.port = 0;
  o.n_ctx = 256;
  o.parallel = parallel;
  o.n_threads = 2;
  return o;
}

}  // namespace qwen3::test
