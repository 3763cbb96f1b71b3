// A fixed team of worker threads for the forward pass. Work is split into pieces that
// any thread (the caller included) claims from a shared counter, and a call returns when
// all pieces are done, not when all threads have checked in. A worker the OS has
// descheduled therefore delays nothing unless it holds a piece, which keeps decode fast
// on a busy machine (an OpenMP barrier per matmul made 2-thread decode ~20x slower
// while another process used one of the 2 cores). Idle workers spin briefly, then yield,
// then sleep.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>

namespace qwen3 {

// Physical cores of this machine (SMT siblings counted once).
int physical_core_count();

// A non-owning reference to a callable fn(begin, end, piece): what parallel_for takes, so
// a call allocates nothing (std::function may allocate for a lambda with captures, once
// per matmul and attention call, i.e. hundreds of times per decoded token). The callable
// must outlive the call, which a lambda passed as an argument does.
class PieceFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, PieceFn>>>
  PieceFn(F&& f)  // NOLINT(google-explicit-constructor): lambdas convert implicitly
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, int64_t b, int64_t e, int p) {
          (*static_cast<std::remove_reference_t<F>*>(o))(b, e, p);
        }) {}
  void operator()(int64_t begin, int64_t end, int piece) const { call_(obj_, begin, end, piece); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t, int);
};

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads /*0 = physical cores*/);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const { return n_threads_; }

  // Calls fn(begin, end, piece) for size() (or fewer, if n is small) contiguous pieces
  // covering [0, n), in parallel; returns once all have finished. Each piece index runs
  // on exactly one thread at a time, so it can index per-thread scratch. Nested calls
  // from inside fn run serially on the calling thread. If pieces throw, the call still
  // waits for all of them, then rethrows the first exception.
  void parallel_for(int64_t n, PieceFn fn);

  // A hint from the caller that no call comes for a while (it is about to block, e.g. a
  // batch engine waiting for its sequences): idle workers go to sleep now instead of
  // spinning and yielding for ~2 ms, which would hold cores that the threads the caller
  // waits for need. The next parallel_for wakes them as usual (a futex wake, tens of
  // microseconds before a worker takes a piece; the caller starts on the pieces at once).
  // Results are unchanged; a no-op before the first parallel_for.
  void rest();

 private:
  struct Team;
  int n_threads_;
  std::unique_ptr<Team> team_;  // started on first use
};

}  // namespace qwen3
