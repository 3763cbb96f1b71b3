// Subcommand registry: each cmd_*.cpp registers itself with a static Registrar, so
// adding a subcommand touches no shared file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace qwen3::cli {

// Exit codes shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the command ran and found a problem (e.g. validation errors)
constexpr int kExitBadInput = 2;  // bad arguments, missing or malformed files

struct Command {
  std::string name;
  std::string help;
  // Adds options to `app` and returns the function to run once parsing succeeded.
  std::function<std::function<int()>(CLI::App& app)> setup;
};

std::vector<Command>& registry();

struct Registrar {
  explicit Registrar(Command c) { registry().push_back(std::move(c)); }
};

}  // namespace qwen3::cli
