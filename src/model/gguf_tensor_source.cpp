#include "model/gguf_tensor_source.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace qwen3 {

bool GgufTensorSource::find(std::string_view gguf_name, TensorView* out) const {
  const gguf::TensorInfo* t = file_->tensor(gguf_name);
  if (!t) return false;
  *out = TensorView{t->type, t->dims, t->data, t->nbytes};
  return true;
}

void GgufTensorSource::release(const void* data, size_t nbytes) const {
  // Whole pages strictly inside the range only, so neighbouring tensors stay resident.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t lo = reinterpret_cast<uintptr_t>(data), hi = lo + nbytes;
  lo = (lo + page - 1) / page * page;
  hi = hi / page * page;
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

std::vector<std::string> GgufTensorSource::names() const {
  std::vector<std::string> out;
  for (const auto& t : file_->tensors()) out.push_back(t.name);
  return out;
}

}  // namespace qwen3
