// One sequence of a BatchEngine as a TokenBackend, so a Pipeline (and its Generator:
// prefix reuse, sampling, stop strings, tool calls) runs on it unchanged while its
// forward passes are batched with those of the engine's other sequences.
#pragma once

#include <memory>

#include "engine/backend.h"
#include "engine/batch_engine.h"
#include "engine/vl_encoder.h"

namespace qwen3::engine {

class BatchedSequenceBackend : public TokenBackend {
 public:
  // vision: the served Qwen3-VL model's encoder (nullptr: the model takes no images).
  BatchedSequenceBackend(std::shared_ptr<BatchEngine> engine, int seq,
                         std::shared_ptr<VlEncoder> vision = nullptr);

  BackendCapabilities capabilities() const override;
  const Tokenizer& tokenizer() const override { return engine_->model().tokenizer(); }
  double load_ms() const override { return engine_->model().load_ms(); }
  int n_ctx() const override { return engine_->n_ctx(); }
  int n_past() const override { return engine_->n_past(seq_); }
  int n_vocab() const override { return n_vocab_; }
  void truncate(int n_past) override { engine_->truncate(seq_, n_past); }
  const float* eval(const std::int32_t* ids, int n) override { return engine_->eval(seq_, ids, n); }
  // The sequence's adapters (BatchEngine::set_lora): its cached tokens are dropped only
  // when the adapters or their scales change, so a slot keeps its conversation across
  // requests with the same adapters.
  void set_adapters(const AdapterConfig& adapters) override;
  // Encodes the images (VlEncoder) and hands them to the sequence (BatchEngine::set_images).
  std::vector<std::vector<std::int32_t>> prepare_images(
      const std::vector<const std::string*>& images) override;

  int seq() const { return seq_; }
  BatchEngine& engine() const { return *engine_; }

 private:
  std::shared_ptr<BatchEngine> engine_;
  int seq_;
  int n_vocab_;
  std::shared_ptr<VlEncoder> vision_;
};

}  // namespace qwen3::engine
