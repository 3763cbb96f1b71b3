// SlotPool: slot workers and the FIFO queue (see slot_pool.h).
#include "engine/slot_pool.h"

#include <algorithm>
#include <stdexcept>

namespace qwen3::engine {
namespace {

std::size_t common_prefix(const std::string& a, const std::string& b) {
  std::size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

SlotPool::SlotPool(SharedPipelines pipelines, std::size_t max_queue)
    : engine_(std::move(pipelines.engine)), max_queue_(max_queue) {
  if (pipelines.pipelines.empty()) throw std::invalid_argument("SlotPool: no pipelines");
  for (auto& p : pipelines.pipelines) {
    auto slot = std::make_unique<Slot>();
    slot->index = static_cast<int>(slots_.size());
    slot->pipeline = std::move(p);
    slots_.push_back(std::move(slot));
  }
  for (auto& slot : slots_) {
    Slot* s = slot.get();
    s->worker = std::thread([this, s] { work(*s); });
  }
}

SlotPool::~SlotPool() {
  std::deque<std::shared_ptr<SlotJob>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  for (auto& job : dropped) {
    job->cancelled = true;
    if (job->dropped) job->dropped();
  }
  for (auto& slot : slots_) slot->cv.notify_all();
  for (auto& slot : slots_) slot->worker.join();
}

bool SlotPool::submit(std::shared_ptr<SlotJob> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  Slot* best = nullptr;
  std::size_t best_len = 0;
  for (auto& slot : slots_) {
    if (slot->job) continue;
    std::size_t len = common_prefix(slot->last_affinity, job->affinity);
    if (!best || len > best_len) {
      best = slot.get();
      best_len = len;
    }
  }
  // A slot takes it even when the KV pool is full: the engine holds its first eval until
  // the pool has room for its prompt (BatchEngine::waiting), first come first served.
  if (best) {
    best->job = std::move(job);
    best->cv.notify_one();
    return true;
  }
  if (queue_.size() >= max_queue_) return false;
  queue_.push_back(std::move(job));
  return true;
}

std::size_t SlotPool::waiting_for_kv() const {
  return engine_ ? static_cast<std::size_t>(engine_->waiting()) : 0;
}

std::size_t SlotPool::queued() const {
  const std::size_t in_slots = waiting_for_kv();
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + in_slots;
}

std::size_t SlotPool::running() const {
  const std::size_t waiting = waiting_for_kv();
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& slot : slots_) n += slot->job ? 1 : 0;
  return n - std::min(n, waiting);
}

void SlotPool::work(Slot& slot) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    slot.cv.wait(lock, [&] { return stopping_ || slot.job; });
    if (!slot.job) return;  // stopping with nothing to do
    std::shared_ptr<SlotJob> job = slot.job;
    lock.unlock();
    if (!job->cancelled) {
      if (engine_) engine_->watch_cancel(slot.index, &job->cancelled);
      job->run(*slot.pipeline);
      if (engine_) engine_->watch_cancel(slot.index, nullptr);
    } else if (job->dropped) {
      job->dropped();
    }
    // The slot's sequence has no eval coming: batches stop waiting for it.
    if (engine_) engine_->release(slot.index);
    // Pipeline::session_metrics keeps the raw timings of every call (each token interval)
    // until start_chat(): a slot serving requests for good would grow by ~0.5 KB per
    // request. Nobody reads a slot's session metrics, so they restart with each job.
    slot.pipeline->start_chat();
    slot.pipeline->finish_chat();
    lock.lock();
    slot.last_affinity = job->affinity;
    slot.job.reset();
    while (!queue_.empty() && !slot.job) {
      auto next = std::move(queue_.front());
      queue_.pop_front();
      if (!next->cancelled) {
        slot.job = std::move(next);
      } else if (next->dropped) {
        lock.unlock();
        next->dropped();
        lock.lock();
      }
    }
    if (stopping_ && !slot.job) return;
  }
}

}  // namespace qwen3::engine
