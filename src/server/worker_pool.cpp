// WorkerPool: lazily started threads, a task handed to an idle one or refused.
#include "server/worker_pool.h"

namespace qwen3::server {

WorkerPool::WorkerPool(std::size_t max_threads) : max_threads_(max_threads ? max_threads : 1) {}

WorkerPool::~WorkerPool() {
  shutdown();
}

void WorkerPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

bool WorkerPool::try_submit(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  if (idle_ <= tasks_.size()) {
    if (threads_.size() >= max_threads_) return false;
    threads_.emplace_back([this] { work(); });
    ++idle_;
  }
  tasks_.push_back(std::move(task));
  ++busy_;
  cv_.notify_one();
  return true;
}

std::size_t WorkerPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

void WorkerPool::work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task must not throw; one that does must not take the process down.
    }
    task = nullptr;  // release what it captured before counting it done
    lock.lock();
    ++idle_;
    --busy_;
  }
}

}  // namespace qwen3::server
