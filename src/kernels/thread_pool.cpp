#include "kernels/thread_pool.h"

#include <omp.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace qwen3 {

int physical_core_count() {
  static const int n = [] {
    // Count distinct (package, core) pairs so SMT siblings count once.
    std::set<std::pair<std::string, std::string>> cores;
    unsigned logical = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < logical; ++i) {
      std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(i) + "/topology/";
      std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
      std::string p, c;
      if (!(pkg >> p) || !(core >> c)) return static_cast<int>(logical);
      cores.emplace(p, c);
    }
    return std::max(1, static_cast<int>(cores.size()));
  }();
  return n;
}

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads > 0 ? n_threads : physical_core_count()) {}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  const int nt = static_cast<int>(std::min<int64_t>(n_threads_, n));
  if (nt <= 1 || omp_in_parallel()) {
    fn(0, n, 0);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int team = omp_get_num_threads();  // may be fewer than asked
    for (int c = t; c < nt; c += team) {
      const int64_t b = n * c / nt, e = n * (c + 1) / nt;
      if (b < e) fn(b, e, c);
    }
  }
}

}  // namespace qwen3
