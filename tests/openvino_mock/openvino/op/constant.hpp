// Test-only stand-in for OpenVINO's openvino/op/constant.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
namespace ov {
namespace op {
namespace v0 {
class Constant;
}
}  // namespace op
}  // namespace ov
