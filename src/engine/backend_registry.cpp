// Backends by name, so tests can plug in a replay backend without touching Pipeline.
#include <map>
#include <mutex>
#include <stdexcept>

#include "engine/backend.h"
#include "engine/native_backend.h"
#include "engine/openvino_backend.h"

namespace qwen3::engine {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

Registry& registry() {
  // "native" is added here rather than by a static registrar in native_backend.cpp: the
  // linker drops unreferenced objects of a static library.
  static Registry r;
  static const bool with_native = [] {
    r.factories["native"] = make_native_backend;
#ifdef QWEN3_HAVE_OPENVINO
    r.factories["openvino"] = make_openvino_backend;  // builds with OpenVINO GenAI only
#endif
    return true;
  }();
  (void)with_native;
  return r;
}

}  // namespace

void register_backend(const std::string& name, BackendFactory factory) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> backend_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& kv : r.factories) names.push_back(kv.first);
  return names;
}

void TokenBackend::set_adapters(const AdapterConfig& adapters) {
  if (!adapters.empty())
    throw std::invalid_argument("backend '" + capabilities().name +
                                "' does not run LoRA adapters (the native CPU engine does)");
}

std::unique_ptr<Backend> create_backend(const std::string& name, const BackendOptions& opts) {
  BackendFactory f;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) f = it->second;
  }
  if (!f) {
    std::string known;
    for (const auto& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown backend '" + name + "' (known: " + known + ")");
  }
  return f(opts);
}

}  // namespace qwen3::engine
