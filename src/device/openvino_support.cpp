// The wording of OpenVINO tier failures, and openvino_info() for the build without
// OpenVINO (src/device/openvino/openvino_info.cc defines it when CMake found OpenVINO GenAI
// and set QWEN3_HAVE_OPENVINO).
#include "device/openvino_support.h"

namespace qwen3::device {

std::string device_not_found_reason(const std::string& device,
                                    const std::vector<std::string>& visible) {
  std::string seen;
  for (const auto& d : visible) seen += (seen.empty() ? "" : ", ") + d;
  if (seen.empty()) seen = "none";
  if (device == "NPU")
    return "NPU driver not found: OpenVINO sees no NPU (devices: " + seen +
           "); install the Intel NPU driver (Linux: github.com/intel/linux-npu-driver, "
           "/dev/accel/accel0 readable by this user; Windows: the Intel NPU driver package)";
  if (device == "GPU")
    return "no GPU visible to OpenVINO (devices: " + seen +
           "); install the Intel GPU compute runtime (intel-opencl-icd / level-zero)";
  return device + " not visible to OpenVINO (devices: " + seen + ")";
}

std::string compile_failed_reason(const std::string& device, const std::string& profile,
                                  const std::string& openvino_message) {
  std::string hint;
  if (profile == "conservative")
    hint = device == "NPU" ? "; check the NPU driver version, or run on the CPU" : "";
  else if (profile == "file")
    hint =
        "; check the properties with `qwen3 device-config --validate FILE`, or try "
        "--profile conservative";
  else
    hint = "; try --profile conservative";
  return "compile failed on " + device + ": " + openvino_message + hint;
}

}  // namespace qwen3::device

#ifndef QWEN3_HAVE_OPENVINO
namespace qwen3::device {

OpenVinoInfo openvino_info() {
  OpenVinoInfo info;
  info.error =
      "not compiled in: configure with OpenVINO GenAI installed "
      "(-DQWEN3_WITH_OPENVINO=ON) to get the NPU and GPU backends";
  return info;
}

}  // namespace qwen3::device
#endif
