// Where model weights come from: a name -> {type, dims, bytes} lookup using the GGUF
// tensor names (token_embd.weight, blk.N.attn_q.weight, ...). The GGUF file is one
// source; a Hugging Face safetensors folder is another. The source owns the memory
// the views point into and must outlive the model (the model keeps it alive).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_types.h"

namespace qwen3 {

struct TensorView {
  GgmlType type;
  std::vector<int64_t> dims;  // innermost first, as in GGUF (dims[0] = row length)
  const void* data;
  size_t nbytes;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // false if the source holds no tensor of that name.
  virtual bool find(std::string_view gguf_name, TensorView* out) const = 0;
  virtual std::vector<std::string> names() const = 0;
  virtual std::string describe() const = 0;  // for error messages (e.g. the file path)
  // The model no longer reads these bytes (it keeps a repacked copy). A mapped source
  // may drop the pages from memory; they are read back from the file if touched again.
  virtual void release(const void* /*data*/, size_t /*nbytes*/) const {}
};

}  // namespace qwen3
