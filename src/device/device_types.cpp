#include "device/device_types.h"

#include <algorithm>
#include <cctype>

#include "common/enum_names.h"
namespace qwen3::device {
namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
}  // namespace

constexpr NamedValue<Device> kDeviceNames[] = {
    {Device::NPU, "NPU"}, {Device::GPU, "GPU"}, {Device::CPU, "CPU"}};

std::string_view to_string(Device d) {
  return name_of(kDeviceNames, d, "?");
}

constexpr NamedValue<ProfileLevel> kProfileLevelNames[] = {
    {ProfileLevel::Conservative, "conservative"},
    {ProfileLevel::Balanced, "balanced"},
    {ProfileLevel::Aggressive, "aggressive"}};

std::string_view to_string(ProfileLevel p) {
  return name_of(kProfileLevelNames, p, "?");
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
