#include "kernels/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QWEN3_CPU_RELAX() _mm_pause()
#else
#define QWEN3_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace qwen3 {

namespace {
thread_local bool t_inside_pool = false;  // nested parallel_for runs serially

// Idle workers: ~50 us of pause spinning (decode calls come microseconds apart), then
// yielding for ~2 ms (lets other processes run), then sleeping until woken.
constexpr int kSpinPauses = 4000;
constexpr auto kYieldFor = std::chrono::milliseconds(2);
}  // namespace

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

struct ThreadPool::Team {
  // The current job. `claim` packs generation (32 bits), piece count (16) and next piece
  // (16) in one word, so a worker that wakes late sees a consistent job or none: it can
  // never take a piece of a newer job by mistake. The caller publishes a new job only
  // after every piece of the previous one is done.
  std::atomic<uint64_t> claim{0};
  std::atomic<int> done{0};
  std::atomic<uint32_t> generation{0};
  // rest(): workers idle at this generation sleep without spinning. Starts at a value
  // generation cannot have before 2^32 calls.
  std::atomic<uint32_t> rest_at{0xffffffffu};
  // Read only after a successful claim, which orders them after the caller's writes.
  std::atomic<const PieceFn*> fn{nullptr};
  std::atomic<int64_t> n{0};
  std::exception_ptr error;  // the first exception a piece threw (guarded by m)

  std::mutex m;
  std::condition_variable cv;
  int sleeping = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;

  // Claims and runs pieces of generation g until none are left.
  void work(uint32_t g) {
    for (;;) {
      uint64_t v = claim.load();
      int c, np;
      do {
        if (static_cast<uint32_t>(v >> 32) != g) return;
        np = static_cast<int>((v >> 16) & 0xffff);
        c = static_cast<int>(v & 0xffff);
        if (c >= np) return;
      } while (!claim.compare_exchange_weak(v, v + 1));
      try {
        const int64_t len = n.load();
        (*fn.load())(len * c / np, len * (c + 1) / np, c);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1);
    }
  }

  void worker_loop() {
    t_inside_pool = true;
    uint32_t seen = generation.load();
    for (;;) {
      uint32_t g;
      int spins = 0;
      auto yield_until = std::chrono::steady_clock::time_point::max();
      while ((g = generation.load()) == seen) {
        const bool resting = rest_at.load(std::memory_order_relaxed) == seen;
        if (spins < kSpinPauses && !resting) {
          ++spins;
          QWEN3_CPU_RELAX();
          continue;
        }
        const auto now = std::chrono::steady_clock::now();
        if (yield_until == std::chrono::steady_clock::time_point::max())
          yield_until = now + kYieldFor;
        if (now < yield_until && !resting) {
          sched_yield();
          continue;
        }
        std::unique_lock<std::mutex> lk(m);
        if (stop) return;
        ++sleeping;
        cv.wait(lk, [&] { return stop || generation.load() != seen; });
        --sleeping;
        if (stop) return;
      }
      if (stop.load()) return;
      seen = g;
      work(g);
    }
  }
};

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(std::min(n_threads > 0 ? n_threads : physical_core_count(), 4096)) {}

ThreadPool::~ThreadPool() {
  if (!team_) return;
  {
    std::lock_guard<std::mutex> lk(team_->m);
    team_->stop = true;
    team_->generation.fetch_add(1);  // releases spinning workers too
  }                                  // releases spinning workers too
  team_->cv.notify_all();
  for (auto& t : team_->workers) t.join();
}

void ThreadPool::rest() {
  if (team_) team_->rest_at.store(team_->generation.load());
}

void ThreadPool::parallel_for(int64_t n, PieceFn fn) {
  if (n <= 0) return;
  const int nt = static_cast<int>(std::min<int64_t>(n_threads_, n));
  if (nt <= 1 || t_inside_pool) {
    fn(0, n, 0);
    return;
  }
  if (!team_) {
    team_ = std::make_unique<Team>();
    for (int i = 1; i < n_threads_; ++i)
      team_->workers.emplace_back([t = team_.get()] { t->worker_loop(); });
  }
  Team& t = *team_;
  t.fn = &fn;
  t.n = n;
  t.done.store(0);
  const uint32_t g = t.generation.load() + 1;
  t.claim.store(static_cast<uint64_t>(g) << 32 | static_cast<uint64_t>(nt) << 16);
  t.generation.store(g);
  {
    std::lock_guard<std::mutex> lk(t.m);
    if (t.sleeping > 0) t.cv.notify_all();
  }
  t_inside_pool = true;
  t.work(g);
  t_inside_pool = false;
  // Wait for pieces other threads still run; yield now and then in case one of them
  // is waiting for a core.
  for (int spins = 0; t.done.load() < nt; ++spins) {
    if (spins < kSpinPauses)
      QWEN3_CPU_RELAX();
    else
      sched_yield();
  }
  if (t.error) std::rethrow_exception(std::exchange(t.error, nullptr));
}

}  // namespace qwen3
