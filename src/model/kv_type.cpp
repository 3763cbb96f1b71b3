// The names of the KV cache element types (see kv_type.h): one table, which the name,
// the parser, the option help text and the error message all read.
#include "model/kv_type.h"

#include <stdexcept>

namespace qwen3 {
namespace {

struct Named {
  KvType type;
  const char* name;
};
// In the order the help text lists them (the default first).
constexpr Named kNames[] = {{KvType::F16, "f16"}, {KvType::Q8_0, "q8_0"}, {KvType::F32, "f32"}};

std::string joined(const char* sep) {
  std::string s;
  for (const Named& n : kNames) s += (s.empty() ? "" : sep) + std::string(n.name);
  return s;
}

}  // namespace

const char* kv_type_name(KvType t) {
  for (const Named& n : kNames)
    if (n.type == t) return n.name;
  return "?";
}

const char* kv_type_names() {
  static const std::string names = joined("|");
  return names.c_str();
}

KvType parse_kv_type(const std::string& name) {
  for (const Named& n : kNames)
    if (name == n.name) return n.type;
  throw std::invalid_argument("unknown KV cache type '" + name + "' (valid: " + joined(", ") + ")");
}

}  // namespace qwen3
