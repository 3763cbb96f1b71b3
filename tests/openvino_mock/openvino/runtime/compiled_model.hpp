// Test-only stand-in for OpenVINO's openvino/runtime/compiled_model.hpp: just enough declarations
// for OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include "openvino/core/any.hpp"
#include "openvino/runtime/tensor.hpp"
namespace ov {
class Model;
class CompiledModel {
 public:
  Any get_property(const std::string&) const;
};
}  // namespace ov
