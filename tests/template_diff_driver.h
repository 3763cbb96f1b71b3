// The node side of the template differential tests (chat_template_diff_test,
// template_family_diff_test): writes generated contexts to a JSON file in the build
// folder, runs one reference script under tools/ (@huggingface/jinja) on it in one node
// process, and returns the script's JSON array (per context the rendered string, or
// {"error": message}). Header-only: each test is its own executable.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace qwen3::testing {

inline bool have_node() {
  return std::system("command -v node > /dev/null 2>&1") == 0;
}

using test::read_file;
using test::run_capture;

// Runs `node tools/<script> [arg] <cases file>`; `cases_name` names the cases file in the
// build folder (one per test, so parallel tests do not share it). `arg` is the template
// file or "--inline" for render_jinja.mjs, empty for render_template.mjs (it knows its
// template).
inline nlohmann::ordered_json render_reference(const std::string& script, const std::string& arg,
                                               const nlohmann::ordered_json& cases,
                                               const std::string& cases_name) {
  const std::string cases_path = std::string(QWEN3_BUILD_DIR) + "/" + cases_name + ".json";
  {
    std::ofstream f(cases_path, std::ios::binary);
    f << cases.dump();
  }
  std::string cmd = "node " + std::string(QWEN3_TOOLS_DIR) + "/" + script + " ";
  if (!arg.empty()) cmd += arg + " ";
  return nlohmann::ordered_json::parse(run_capture(cmd + cases_path));
}

}  // namespace qwen3::testing
