// BatchedSequenceBackend: a TokenBackend over one BatchEngine sequence (see the header).
#include "engine/batched_backend.h"

#include <algorithm>
#include <stdexcept>

#include "model/lora_adapter.h"
#include "text/tokenizer.h"

namespace qwen3::engine {

BatchedSequenceBackend::BatchedSequenceBackend(std::shared_ptr<BatchEngine> engine, int seq,
                                               std::shared_ptr<VlEncoder> vision)
    : engine_(std::move(engine)), seq_(seq), vision_(std::move(vision)) {
  if (!engine_ || seq < 0 || seq >= engine_->max_seqs())
    throw std::invalid_argument("BatchedSequenceBackend: no such sequence");
  n_vocab_ = std::min(engine_->n_vocab(), engine_->model().tokenizer().n_vocab());
}

BackendCapabilities BatchedSequenceBackend::capabilities() const {
  return {"native", "CPU", true, static_cast<std::size_t>(engine_->n_ctx())};
}

void BatchedSequenceBackend::set_adapters(const AdapterConfig& adapters) {
  std::vector<std::pair<std::string, float>> list;
  for (const auto& a : adapters.adapters) list.emplace_back(a.path, a.alpha);
  engine_->set_lora(seq_, list.empty() ? nullptr : load_lora_set(list, engine_->model().config()));
}

std::vector<std::vector<std::int32_t>> BatchedSequenceBackend::prepare_images(
    const std::vector<const std::string*>& images) {
  if (!vision_) return TokenBackend::prepare_images(images);
  auto set = std::make_shared<VlImageSet>();
  std::vector<std::vector<std::int32_t>> runs;
  for (std::size_t i = 0; i < images.size(); ++i) {
    try {
      set->push_back(vision_->encode(*images[i]));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("image " + std::to_string(i + 1) +
                                  " of the conversation: " + e.what());
    }
    runs.push_back(set->back()->ids);
  }
  engine_->set_images(seq_, std::move(set));
  return runs;
}

}  // namespace qwen3::engine
