#include "model/gguf_tensor_source.h"

namespace qwen3 {

bool GgufTensorSource::find(std::string_view gguf_name, TensorView* out) const {
  const gguf::TensorInfo* t = file_->tensor(gguf_name);
  if (!t) return false;
  *out = TensorView{t->type, t->dims, t->data, t->nbytes};
  return true;
}

std::vector<std::string> GgufTensorSource::names() const {
  std::vector<std::string> out;
  for (const auto& t : file_->tensors()) out.push_back(t.name);
  return out;
}

}  // namespace qwen3
