// Shows the model loader's progress (model/load_progress.h) to the user, but only for a
// step that runs longer than a second, so quick loads stay silent: on a terminal one
// line redrawn in place ("repacking  42% (12/30)"), otherwise plain lines at each
// quarter and a closing line with the time the step took.
#pragma once

#include <functional>
#include <string>

namespace qwen3::cli {

// Installs the printer for this process. `sink` receives plain lines (no newline) when
// stderr is not a terminal or when `plain` is true; null sink = stderr.
void install_load_progress(
    std::function<void(const std::string& step, int percent, const std::string& line)> sink =
        nullptr,
    bool plain = false);

}  // namespace qwen3::cli
