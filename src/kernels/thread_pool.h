// A fixed team of worker threads (OpenMP underneath, which keeps its threads warm
// between calls) that splits a range into contiguous chunks, one per thread.
#pragma once

#include <cstdint>
#include <functional>

namespace qwen3 {

// Physical cores of this machine (SMT siblings counted once).
int physical_core_count();

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads /*0 = physical cores*/);
  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread) for size() (or fewer, if n is small) contiguous
  // chunks covering [0, n), in parallel; returns once all have finished. Nested calls
  // from inside fn run serially on the calling thread.
  void parallel_for(int64_t n,
                    const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

 private:
  int n_threads_;
};

}  // namespace qwen3
