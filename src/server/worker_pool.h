// The threads that run request handlers (and stream their responses), apart from the
// network thread. Grows on demand up to a cap and never queues: when every thread is
// busy a submit fails at once, so the caller answers 503 instead of making a request
// wait behind others.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qwen3::server {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads);
  ~WorkerPool();  // shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on an idle thread (starting one if under the cap); false if all are busy.
  bool try_submit(std::function<void()> task);
  std::size_t busy() const;  // tasks submitted and not yet finished
  void shutdown();           // refuses new tasks, finishes the submitted ones, joins

 private:
  void work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t max_threads_;
  std::size_t idle_ = 0;
  std::size_t busy_ = 0;
  bool stopping_ = false;
};

}  // namespace qwen3::server
