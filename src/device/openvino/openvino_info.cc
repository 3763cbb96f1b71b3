// openvino_info() for builds with OpenVINO GenAI (QWEN3_HAVE_OPENVINO). Compiled only
// there: the .cc extension keeps it out of the src/<layer> glob.
#include <openvino/openvino.hpp>

#include "device/openvino_support.h"

namespace qwen3::device {

OpenVinoInfo openvino_info() {
  OpenVinoInfo info;
  info.compiled = true;
  try {
    info.version = ov::get_openvino_version().buildNumber;
    ov::Core core;
    for (const std::string& d : core.get_available_devices()) {
      std::string name = d;
      try {
        name += " (" + core.get_property(d, ov::device::full_name) + ")";
      } catch (const std::exception&) {
        // Some plugins cannot report a name without hardware; the id is enough.
      }
      info.devices.push_back(name);
    }
  } catch (const std::exception& e) {
    info.error = e.what();
  }
  return info;
}

}  // namespace qwen3::device
