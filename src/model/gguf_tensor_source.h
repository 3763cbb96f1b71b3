// The tensors of a mapped GGUF file as a TensorSource (zero-copy views into the mapping).
#pragma once

#include <memory>

#include "gguf/gguf_reader.h"
#include "model/tensor_source.h"

namespace qwen3 {

class GgufTensorSource : public TensorSource {
 public:
  explicit GgufTensorSource(std::shared_ptr<const gguf::GgufFile> file) : file_(std::move(file)) {}
  bool find(std::string_view gguf_name, TensorView* out) const override;
  std::vector<std::string> names() const override;
  std::string describe() const override { return file_->path(); }
  void release(const void* data, size_t nbytes) const override;
  const gguf::GgufFile& file() const { return *file_; }

 private:
  std::shared_ptr<const gguf::GgufFile> file_;
};

}  // namespace qwen3
