// AdapterConfig (include/qwen3/adapter_config.h): the adapter list, the "PATH[:SCALE]"
// syntax of --lora and the "lora" Pipeline property.
#include "qwen3/adapter_config.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "common/split.h"

namespace qwen3 {

AdapterConfig& AdapterConfig::add(const std::string& path, float alpha) {
  if (path.empty()) throw std::invalid_argument("LoRA adapter: empty path");
  if (!std::isfinite(alpha))
    throw std::invalid_argument("LoRA adapter " + path + ": scale must be finite");
  adapters.push_back({path, alpha});
  return *this;
}

AdapterConfig& AdapterConfig::set_alpha(const std::string& path, float alpha) {
  for (auto& a : adapters)
    if (a.path == path) {
      a.alpha = alpha;
      return *this;
    }
  throw std::invalid_argument("LoRA adapter " + path + " is not in the adapter config");
}

AdapterConfig::Adapter AdapterConfig::parse(const std::string& spec) {
  Adapter a{spec, 1.0f};
  const size_t colon = spec.rfind(':');
  if (colon != std::string::npos) {
    const std::string tail = spec.substr(colon + 1);
    char* end = nullptr;
    const float v = std::strtof(tail.c_str(), &end);
    if (!tail.empty() && end == tail.c_str() + tail.size()) {
      if (!std::isfinite(v))
        throw std::invalid_argument("--lora " + spec + ": the scale must be a finite number");
      a.path = spec.substr(0, colon);
      a.alpha = v;
    }
  }
  if (a.path.empty()) throw std::invalid_argument("--lora '" + spec + "': no adapter path");
  return a;
}

std::string AdapterConfig::to_property() const {
  std::string out;
  for (const auto& a : adapters) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(a.alpha));
    out += (out.empty() ? "" : "\n") + a.path + ":" + buf;
  }
  return out;
}

AdapterConfig AdapterConfig::from_property(const std::string& value) {
  AdapterConfig c;
  for (const std::string& line : split_on(value, '\n')) {
    if (line.empty()) continue;
    const Adapter a = parse(line);
    c.add(a.path, a.alpha);
  }
  return c;
}

}  // namespace qwen3
