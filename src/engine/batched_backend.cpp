// BatchedSequenceBackend: a TokenBackend over one BatchEngine sequence (see the header).
#include "engine/batched_backend.h"

#include <algorithm>
#include <stdexcept>

#include "text/tokenizer.h"

namespace qwen3::engine {

BatchedSequenceBackend::BatchedSequenceBackend(std::shared_ptr<BatchEngine> engine, int seq)
    : engine_(std::move(engine)), seq_(seq) {
  if (!engine_ || seq < 0 || seq >= engine_->max_seqs())
    throw std::invalid_argument("BatchedSequenceBackend: no such sequence");
  n_vocab_ = std::min(engine_->n_vocab(), engine_->model().tokenizer().n_vocab());
}

BackendCapabilities BatchedSequenceBackend::capabilities() const {
  return {"native", "CPU", true, static_cast<std::size_t>(engine_->n_ctx())};
}

}  // namespace qwen3::engine
