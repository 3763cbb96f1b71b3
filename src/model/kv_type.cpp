// The names of the KV cache element types (see kv_type.h).
#include "model/kv_type.h"

#include <stdexcept>

namespace qwen3 {

const char* kv_type_name(KvType t) {
  switch (t) {
    case KvType::F16:
      return "f16";
    case KvType::F32:
      return "f32";
    case KvType::Q8_0:
      return "q8_0";
  }
  return "?";
}

const char* kv_type_names() {
  return "f16|q8_0|f32";
}

KvType parse_kv_type(const std::string& name) {
  for (KvType t : {KvType::F16, KvType::Q8_0, KvType::F32})
    if (name == kv_type_name(t)) return t;
  throw std::invalid_argument("unknown KV cache type '" + name + "' (valid: f16, q8_0, f32)");
}

}  // namespace qwen3
