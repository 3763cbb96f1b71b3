// --parallel N: N slots, each a worker thread with its own Pipeline (its own KV cache),
// fed from one bounded FIFO queue. A new job goes to the idle slot whose last
// conversation shares the longest prefix with it (as llama.cpp picks slots), so a request
// that extends a conversation lands where its KV cache is.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qwen3/pipeline.h"

namespace qwen3::server {

struct Job {
  std::string affinity;                // compared by common prefix with each slot's last job
  std::function<void(Pipeline&)> run;  // must not throw
  std::atomic<bool> cancelled{false};  // set by the HTTP side; a queued job is skipped
  std::function<void()> dropped;       // called instead of run() for a skipped job
};

class Scheduler {
 public:
  Scheduler(std::vector<std::unique_ptr<Pipeline>> pipelines, std::size_t max_queue);
  ~Scheduler();  // waits for running jobs, drops queued ones (they see cancelled)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts `job` on a free slot or queues it; false when the queue is full.
  bool submit(std::shared_ptr<Job> job);

  std::size_t slots() const { return slots_.size(); }
  std::size_t queued() const;
  std::size_t running() const;
  // For tokenizer / template calls, which are const and need no slot.
  const Pipeline& pipeline() const { return *slots_.front()->pipeline; }

 private:
  struct Slot {
    std::unique_ptr<Pipeline> pipeline;
    std::shared_ptr<Job> job;  // set = busy
    std::string last_affinity;
    std::condition_variable cv;
    std::thread worker;
  };
  void work(Slot& slot);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::size_t max_queue_;
  bool stopping_ = false;
};

}  // namespace qwen3::server
