// Whether this build carries the OpenVINO GenAI backend, and which OpenVINO devices it
// sees. Without OpenVINO (QWEN3_HAVE_OPENVINO undefined) the answer is "not compiled in".
#pragma once

#include <string>
#include <vector>

namespace qwen3::device {

struct OpenVinoInfo {
  bool compiled = false;             // the backend is part of this build
  std::string version;               // OpenVINO runtime build number
  std::vector<std::string> devices;  // "NPU (Intel(R) AI Boost)", ...
  std::string error;                 // why devices could not be listed, if so
};

OpenVinoInfo openvino_info();

}  // namespace qwen3::device
