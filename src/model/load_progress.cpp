// The process-wide load progress callback: load_progress.h.
#include "model/load_progress.h"

#include <mutex>

namespace qwen3 {
namespace {

std::mutex mu;
LoadProgressFn& callback() {
  static LoadProgressFn fn;
  return fn;
}

}  // namespace

void set_load_progress(LoadProgressFn fn) {
  std::lock_guard<std::mutex> lock(mu);
  callback() = std::move(fn);
}

void report_load_progress(const char* step, std::size_t done, std::size_t total) {
  LoadProgressFn fn;
  {
    std::lock_guard<std::mutex> lock(mu);
    fn = callback();
  }
  if (fn) fn(step, done, total);
}

}  // namespace qwen3
