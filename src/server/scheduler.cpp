// Scheduler: the server's slots, built on engine::SlotPool (see scheduler.h).
#include "server/scheduler.h"

namespace qwen3::server {
namespace {

engine::SharedPipelines own(std::vector<std::unique_ptr<Pipeline>> pipelines) {
  engine::SharedPipelines s;
  s.pipelines = std::move(pipelines);
  return s;
}

}  // namespace

Scheduler::Scheduler(const std::string& model_path, const std::string& device,
                     const Properties& props, int parallel, std::size_t max_queue, int batch_tokens,
                     const engine::KvPoolOptions& kv)
    : pool_(engine::make_shared_pipelines(model_path, device, props, parallel, batch_tokens, kv),
            max_queue) {}

Scheduler::Scheduler(std::vector<std::unique_ptr<Pipeline>> pipelines, std::size_t max_queue)
    : pool_(own(std::move(pipelines)), max_queue) {}

}  // namespace qwen3::server
