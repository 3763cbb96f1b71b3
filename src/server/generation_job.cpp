#include "server/generation_job.h"

#include "server/responses.h"

namespace qwen3::server {

class Generation::Streamer : public StreamerBase {
 public:
  explicit Streamer(Generation& g) : g_(g) {}

  StreamingStatus on_token(std::int32_t) override { return status(); }
  StreamingStatus on_reasoning(std::string_view d) override {
    g_.push({GenEvent::Kind::kReasoning, std::string(d), 0, {}});
    return status();
  }
  StreamingStatus on_content(std::string_view d) override {
    g_.push({GenEvent::Kind::kContent, std::string(d), 0, {}});
    return status();
  }
  StreamingStatus on_tool_call_begin(int index, const ToolCall& call) override {
    ToolCall c = call;
    c.id = g_.tool_id(index);
    g_.push({GenEvent::Kind::kToolCallBegin, {}, index, c});
    return status();
  }
  StreamingStatus on_tool_call_arguments(int index, std::string_view d) override {
    g_.push({GenEvent::Kind::kToolCallArguments, std::string(d), index, {}});
    return status();
  }
  StreamingStatus on_tool_call(int index, const ToolCall& call) override {
    ToolCall c = call;
    c.id = g_.tool_id(index);
    g_.push({GenEvent::Kind::kToolCall, {}, index, c});
    return status();
  }

 private:
  StreamingStatus status() const {
    return g_.cancelled() ? StreamingStatus::kStop : StreamingStatus::kContinue;
  }
  Generation& g_;
};

std::shared_ptr<Generation> Generation::start(Scheduler& scheduler, std::string affinity, Body body,
                                              const std::atomic<bool>* stop_all) {
  auto g = std::make_shared<Generation>();
  g->stop_all_ = stop_all;
  g->job_ = std::make_shared<Job>();
  g->job_->affinity = std::move(affinity);
  std::weak_ptr<Generation> weak = g;
  // Weak: a handler that gave up (client gone) frees the generation; the job then skips.
  g->job_->run = [weak, body = std::move(body)](Pipeline& p) {
    if (auto self = weak.lock()) self->run(p, body);
  };
  g->job_->dropped = [weak] {
    if (auto self = weak.lock()) self->end(unavailable("the request was dropped"));
  };
  if (!scheduler.submit(g->job_)) return nullptr;
  return g;
}

void Generation::run(Pipeline& p, const Body& body) {
  Streamer streamer(*this);
  try {
    DecodedResult r = body(p, streamer);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (std::size_t i = 0; i < r.tool_calls.size() && i < tool_ids_.size(); ++i) {
        if (!tool_ids_[i].empty()) r.tool_calls[i].id = tool_ids_[i];
      }
      for (auto& c : r.tool_calls) {
        if (c.id.empty()) c.id = new_tool_call_id();
      }
      result_ = std::move(r);
    }
    end(std::nullopt);
  } catch (const std::exception& e) {
    end(from_exception(e));
  } catch (...) {
    end(internal_error("generation failed"));
  }
}

std::string Generation::tool_id(int index) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto i = static_cast<std::size_t>(index);
  if (tool_ids_.size() <= i) tool_ids_.resize(i + 1);
  // unique across requests, unlike the engine's ids
  if (tool_ids_[i].empty()) tool_ids_[i] = new_tool_call_id();
  return tool_ids_[i];
}

void Generation::push(GenEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

void Generation::end(std::optional<ApiError> error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    error_ = std::move(error);
    done_ = true;
  }
  cv_.notify_all();
}

std::vector<GenEvent> Generation::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || done_; });
  std::vector<GenEvent> out(std::make_move_iterator(events_.begin()),
                            std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

bool Generation::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_ && events_.empty();
}

bool Generation::wait_news(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return !events_.empty() || done_; });
}

bool Generation::has_news() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_ || !events_.empty();
}

void Generation::cancel() {
  job_->cancelled = true;
}

bool Generation::cancelled() const {
  return job_->cancelled.load() || (stop_all_ && stop_all_->load());
}

}  // namespace qwen3::server
