// The devices a deployment can target and the three profile levels, with their names
// as the command line and the property files spell them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qwen3::device {

// NPU and GPU are OpenVINO devices; CPU is this project's native engine.
enum class Device { NPU, GPU, CPU };

enum class ProfileLevel { Conservative, Balanced, Aggressive };

std::string_view to_string(Device d);
std::string_view to_string(ProfileLevel p);

// Case-insensitive; nullopt for anything else.
std::optional<Device> parse_device(std::string_view s);
std::optional<ProfileLevel> parse_profile_level(std::string_view s);

inline constexpr Device kAllDevices[] = {Device::NPU, Device::GPU, Device::CPU};
inline constexpr ProfileLevel kAllProfileLevels[] = {
    ProfileLevel::Conservative, ProfileLevel::Balanced, ProfileLevel::Aggressive};

}  // namespace qwen3::device
