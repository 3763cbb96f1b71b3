// The `qwen3` command: dispatches to the registered subcommands, after turning model
// references into local paths and checking the model path of the model commands (so a
// wrong -m gets one clear message before anything starts).
#include "command.h"
#include "load_progress_printer.h"
#include "model_download.h"
#include "model_path.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <memory>

namespace qwen3::cli {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace qwen3::cli

int main(int argc, char** argv) {
  using namespace qwen3::cli;
  CLI::App app{"qwen3: run Qwen3 language models locally", "qwen3"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qwen3-runtime 0.1.0");
  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  std::function<int()> run;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    auto fn = std::make_shared<std::function<int()>>(c.setup(*sub));
    sub->callback([fn, &run] { run = *fn; });
  }
  if (argc == 1) {  // no command: the list of commands, not an error
    std::cout << app.help();
    return kExitOk;
  }
  // Model references (-m hf://..., -m qwen3:8b, -hf ORG/NAME:QUANT) become local paths.
  std::vector<std::string> args;
  try {
    args = resolve_model_args(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "qwen3: error: " << e.what() << "\n";
    return kExitBadInput;
  }
  const std::vector<std::string> in_order = args;
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line on stderr, as for every other error.
    std::cerr << "qwen3: error: " << e.what() << " (see --help)\n";
    return kExitBadInput;
  }
  try {
    check_model_args(in_order);  // after the flags' own checks, before anything loads
    install_load_progress();     // long load steps show progress (serve: in its log)
    return run ? run() : kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "qwen3: error: " << e.what() << "\n";
    return kExitBadInput;
  }
}
