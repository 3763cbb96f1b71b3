#include "device/profiles.h"

namespace qwen3::device {

const ProfileSetting* Profile::find(const std::string& key) const {
  for (const auto& s : settings)
    if (s.key == key) return &s;
  return nullptr;
}

Profile make_profile(Device device, ProfileLevel level, int hardware_threads) {
  switch (device) {
    case Device::NPU:
      return npu_profile(level);
    case Device::GPU:
      return gpu_profile(level);
    case Device::CPU:
      return cpu_profile(level, hardware_threads);
  }
  return cpu_profile(level, hardware_threads);
}

ValidateOptions profile_validate_options(Device device, ProfileLevel level,
                                         const std::optional<ModelFacts>& model,
                                         int hardware_threads) {
  ValidateOptions vo;
  vo.device = device;
  vo.model = model;
  const Profile p = make_profile(device, level, hardware_threads);
  if (p.kv_budget_bytes > 0) vo.kv_budget_bytes = p.kv_budget_bytes;
  vo.budget_source =
      "the " + std::string(to_string(level)) + " " + std::string(to_string(device)) + " profile";
  vo.hardware_threads = hardware_threads;
  return vo;
}

int kv_bytes_per_element(Device device, const nlohmann::json& properties) {
  if (device != Device::CPU) return 2;
  auto it = properties.find("KV_CACHE_PRECISION");
  if (it != properties.end() && it->is_string() && *it == "f32") return 4;
  return 2;
}

}  // namespace qwen3::device
