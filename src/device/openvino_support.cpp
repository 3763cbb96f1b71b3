// The build without OpenVINO; src/device/openvino/openvino_info.cc defines openvino_info()
// when CMake found OpenVINO GenAI and set QWEN3_HAVE_OPENVINO.
#include "device/openvino_support.h"

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
