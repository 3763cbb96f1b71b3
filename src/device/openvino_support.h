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

// The reasons an OpenVINO tier fails, worded so a user knows what to do; shared by the
// real backend and the test fake so both speak alike.
// `visible`: the devices OpenVINO lists ("CPU", "GPU.0", ...).
std::string device_not_found_reason(const std::string& device,
                                    const std::vector<std::string>& visible);
// `profile`: the profile the properties came from ("balanced", ...; "file" for a
// device_config file); OpenVINO's own message is kept whole.
std::string compile_failed_reason(const std::string& device, const std::string& profile,
                                  const std::string& openvino_message);

}  // namespace qwen3::device
