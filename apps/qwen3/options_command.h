// What: a Command for the common case of a subcommand whose options all fill one Opts value
// and whose action is run(opts).
// Why: each such cmd_*.cpp repeated the same make_shared / bind / return-the-runner lambda
// around its option list.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "command.h"

namespace qwen3::cli {

// `add_options` declares the options on `app`, bound to the fields of the Opts it is given.
template <typename Opts>
Command options_command(std::string name, std::string help, void (*add_options)(CLI::App&, Opts&),
                        int (*run)(const Opts&)) {
  return {std::move(name), std::move(help), [add_options, run](CLI::App& app) {
            auto opts = std::make_shared<Opts>();
            add_options(app, *opts);
            return std::function<int()>([opts, run] { return run(*opts); });
          }};
}

}  // namespace qwen3::cli
