// Deployment profiles: for each device, conservative / balanced / aggressive property
// values, each with the reason it has that value, and the KV-cache memory budget the
// builder sizes the context against.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device/config_validator.h"
#include "device/device_types.h"
#include "device/model_facts.h"

namespace qwen3::device {

struct ProfileSetting {
  std::string key;
  nlohmann::json value;
  std::string rationale;
};

struct Profile {
  Device device = Device::CPU;
  ProfileLevel level = ProfileLevel::Balanced;
  // Bytes the KV cache may take; 0 when the device sizes its cache itself (GPU).
  uint64_t kv_budget_bytes = 0;
  std::string budget_rationale;
  std::vector<ProfileSetting> settings;

  const ProfileSetting* find(const std::string& key) const;
};

// hardware_threads: logical CPUs of the host (only the CPU profile uses it; <= 0 -> 1).
Profile make_profile(Device device, ProfileLevel level, int hardware_threads);

// How to validate a property map meant for `level` on `device`: the profile's KV budget
// (named in the messages), the model when known, the host's threads (0 = skip that rule).
ValidateOptions profile_validate_options(Device device, ProfileLevel level,
                                         const std::optional<ModelFacts>& model,
                                         int hardware_threads);

Profile npu_profile(ProfileLevel level);
Profile gpu_profile(ProfileLevel level);
Profile cpu_profile(ProfileLevel level, int hardware_threads);

// Bytes per KV element the device stores: NPU and GPU keep f16; the native CPU engine
// follows KV_CACHE_PRECISION (f32 -> 4, anything else -> 2).
int kv_bytes_per_element(Device device, const nlohmann::json& properties);

constexpr uint64_t kMiB = 1024ull * 1024ull;

}  // namespace qwen3::device
