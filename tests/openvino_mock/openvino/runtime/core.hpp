// Test-only stand-in for OpenVINO's openvino/runtime/core.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include <string>
#include <vector>
#include "openvino/core/any.hpp"
#include "openvino/runtime/compiled_model.hpp"
#include "openvino/runtime/properties.hpp"
namespace ov {
class Core {
 public:
  Core();
  std::vector<std::string> get_available_devices() const;
  template <class T, PropertyMutability M>
  T get_property(const std::string&, const Property<T, M>&) const;
};
struct Version {
  const char* buildNumber;
  const char* description;
};
const Version& get_openvino_version();
}  // namespace ov
