// Test-only stand-in for OpenVINO's openvino/runtime/properties.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include <string>
#include <utility>
#include "openvino/core/any.hpp"
namespace ov {
enum class PropertyMutability { RO, RW, WO };
template <class T, PropertyMutability M = PropertyMutability::RW>
class Property {
  const char* name_;

 public:
  constexpr explicit Property(const char* n) : name_(n) {}
  const char* name() const { return name_; }
  operator std::string() const { return name_; }
  template <class... A>
  std::pair<std::string, Any> operator()(A&&... a) const {
    return {name_, Any(T(std::forward<A>(a)...))};
  }
};
namespace device {
static constexpr Property<std::string, PropertyMutability::RO> full_name{"FULL_DEVICE_NAME"};
}
}  // namespace ov
