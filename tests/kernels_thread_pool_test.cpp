// ThreadPool: every index covered exactly once over many back-to-back calls (the
// decode pattern), a piece index never runs on two threads at once, workers that went
// to sleep wake up, rest() puts idle workers to sleep at once, nested calls run serially,
// and exceptions reach the caller.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/thread_pool.h"

namespace qwen3 {
namespace {

TEST(ThreadPoolStress, ManyBackToBackCallsCoverEachIndexOnce) {
  std::mt19937 rng(7);
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> busy(static_cast<size_t>(threads));
    for (int call = 0; call < 3000; ++call) {
      const int64_t n = 1 + static_cast<int64_t>(rng() % 200);
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<bool> overlap{false};
      pool.parallel_for(n, [&](int64_t b, int64_t e, int piece) {
        if (busy[static_cast<size_t>(piece)].fetch_add(1) != 0) overlap = true;
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        busy[static_cast<size_t>(piece)].fetch_sub(1);
      });
      ASSERT_FALSE(overlap) << "a piece index ran on two threads at once";
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "threads " << threads << " call " << call;
    }
  }
}

TEST(ThreadPoolStress, SleepingWorkersWakeUp) {
  ThreadPool pool(2);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past spin and yield
    std::atomic<int> seen_other{0};
    const auto caller = std::this_thread::get_id();
    for (int k = 0; k < 50; ++k)
      pool.parallel_for(2, [&](int64_t, int64_t, int) {
        if (std::this_thread::get_id() != caller) seen_other = 1;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      });
    EXPECT_EQ(seen_other.load(), 1) << "the worker never took a piece";
  }
}

TEST(ThreadPoolStress, NestedCallsRunSerially) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.parallel_for(4, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, [&](int64_t bb, int64_t ee, int piece) {
        EXPECT_EQ(piece, 0);
        total += static_cast<int>(ee - bb);
      });
  });
  EXPECT_EQ(total.load(), 40);
}

TEST(ThreadPoolStress, ExceptionReachesTheCallerAfterAllPieces) {
  ThreadPool pool(3);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.parallel_for(3,
                                 [&](int64_t b, int64_t, int) {
                                   if (b == 1) throw std::runtime_error("piece failed");
                                   std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                   ++finished;
                                 }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 2);
  // The pool still works afterwards.
  std::atomic<int> n{0};
  pool.parallel_for(100, [&](int64_t b, int64_t e, int) { n += static_cast<int>(e - b); });
  EXPECT_EQ(n.load(), 100);
}

// rest(): idle workers sleep at once (no spinning or yielding: the process uses next to no
// CPU while the caller waits), and the next calls still cover every index once and wake
// the worker. A no-op on a pool that never ran.
TEST(ThreadPoolStress, RestPutsIdleWorkersToSleep) {
  ThreadPool fresh(2);
  fresh.rest();
  ThreadPool pool(2);
  auto process_cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  };
  double idle_cpu = 1e9;  // the least over a few tries: another process may preempt us
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> total{0};
    for (int k = 0; k < 20; ++k)
      pool.parallel_for(64, [&](int64_t b, int64_t e, int) { total += static_cast<int>(e - b); });
    ASSERT_EQ(total.load(), 20 * 64);
    pool.rest();
    const double c0 = process_cpu_ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    idle_cpu = std::min(idle_cpu, process_cpu_ms() - c0);
  }
  // Spinning then yielding would take ~2 ms of the 10.
  EXPECT_LT(idle_cpu, 0.5) << "the worker kept a core busy after rest()";
  // Woken by the next call: the worker takes pieces again.
  std::atomic<int> seen_other{0};
  const auto caller = std::this_thread::get_id();
  for (int k = 0; k < 50 && !seen_other; ++k) {
    pool.rest();
    pool.parallel_for(2, [&](int64_t, int64_t, int) {
      if (std::this_thread::get_id() != caller) seen_other = 1;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    });
  }
  EXPECT_EQ(seen_other.load(), 1) << "the worker never woke after rest()";
}

}  // namespace
}  // namespace qwen3
