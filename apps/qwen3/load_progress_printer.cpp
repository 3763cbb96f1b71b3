// The load progress printer: load_progress_printer.h.
#include "load_progress_printer.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

#include "model/load_progress.h"

namespace qwen3::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct StepState {
  std::string step;
  Clock::time_point start;
  bool shown = false;
  int last_quarter = -1;
};

}  // namespace

void install_load_progress(
    std::function<void(const std::string& step, int percent, const std::string& line)> sink,
    bool plain) {
  const bool tty = !plain && !sink && ::isatty(STDERR_FILENO) != 0;
  auto st = std::make_shared<StepState>();
  auto mu = std::make_shared<std::mutex>();
  set_load_progress([=](const char* step, std::size_t done, std::size_t total) {
    std::lock_guard<std::mutex> lock(*mu);
    if (st->step != step || done == 0) *st = StepState{step, Clock::now()};
    const double s = std::chrono::duration<double>(Clock::now() - st->start).count();
    const bool end = done >= total;
    if (!st->shown && (s < 1.0 || end)) return;  // quick steps stay silent
    const int pct = total ? static_cast<int>(100.0 * done / total) : 100;
    char line[160];
    if (end) {
      std::snprintf(line, sizeof line, "%s: done in %.1f s", step, s);
    } else {
      std::snprintf(line, sizeof line, "%s %3d%% (%zu/%zu)", step, pct, done, total);
    }
    if (tty) {
      std::fprintf(stderr, "\r\033[K%s%s", line, end ? "\n" : "");
      std::fflush(stderr);
      st->shown = !end;
      return;
    }
    const int quarter = pct / 25;
    if (!end && quarter == st->last_quarter) return;
    st->last_quarter = quarter;
    st->shown = !end;
    if (sink) {
      sink(step, pct, line);
    } else {
      std::fprintf(stderr, "%s\n", line);
    }
  });
}

}  // namespace qwen3::cli
