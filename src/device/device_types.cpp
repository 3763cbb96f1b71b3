#include "device/device_types.h"

#include <algorithm>
#include <cctype>

namespace qwen3::device {
namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
}  // namespace

std::string_view to_string(Device d) {
  switch (d) {
    case Device::NPU:
      return "NPU";
    case Device::GPU:
      return "GPU";
    case Device::CPU:
      return "CPU";
  }
  return "?";
}

std::string_view to_string(ProfileLevel p) {
  switch (p) {
    case ProfileLevel::Conservative:
      return "conservative";
    case ProfileLevel::Balanced:
      return "balanced";
    case ProfileLevel::Aggressive:
      return "aggressive";
  }
  return "?";
}

std::optional<Device> parse_device(std::string_view s) {
  const std::string u = upper(s);
  for (Device d : kAllDevices)
    if (u == to_string(d)) return d;
  return std::nullopt;
}

std::optional<ProfileLevel> parse_profile_level(std::string_view s) {
  const std::string u = upper(s);
  for (ProfileLevel p : kAllProfileLevels)
    if (u == upper(to_string(p))) return p;
  return std::nullopt;
}

}  // namespace qwen3::device
