#include "engine/device_fallback.h"

#include <exception>

#include "common/split.h"

namespace qwen3::engine {

std::string DeploymentTier::name() const {
  return std::string(device::to_string(device)) + " " + std::string(device::to_string(level));
}

namespace {
std::string failure_list(const std::vector<TierFailure>& failures) {
  if (failures.empty()) return "the deployment chain is empty";
  std::string out = "no deployment tier could start:";
  for (const auto& f : failures) out += "\n  " + f.tier.name() + ": " + f.reason;
  return out;
}
}  // namespace

NoTierAvailable::NoTierAvailable(std::vector<TierFailure> failures)
    : std::runtime_error(failure_list(failures)), failures_(std::move(failures)) {}

DeploymentTier make_tier(device::Device dev, device::ProfileLevel level,
                         const std::optional<device::ModelFacts>& model, int hardware_threads) {
  device::BuildRequest req;
  req.device = dev;
  req.level = level;
  req.model = model;
  req.hardware_threads = hardware_threads;
  device::BuildResult built = device::build_config(req);
  DeploymentTier t;
  t.device = dev;
  t.level = level;
  t.properties = std::move(built.properties);
  t.findings = std::move(built.findings);
  return t;
}

std::vector<DeploymentTier> default_auto_chain(const std::optional<device::ModelFacts>& model,
                                               int hardware_threads) {
  using device::Device;
  using device::ProfileLevel;
  return {make_tier(Device::NPU, ProfileLevel::Balanced, model, hardware_threads),
          make_tier(Device::NPU, ProfileLevel::Conservative, model, hardware_threads),
          make_tier(Device::GPU, ProfileLevel::Balanced, model, hardware_threads),
          make_tier(Device::CPU, ProfileLevel::Balanced, model, hardware_threads)};
}

std::vector<DeploymentTier> parse_chain(const std::string& spec,
                                        const std::optional<device::ModelFacts>& model,
                                        int hardware_threads) {
  std::vector<DeploymentTier> chain;
  for (const std::string& entry : split_on(spec, ',')) {
    const size_t colon = entry.find(':');
    const std::string dev_text = entry.substr(0, colon);
    const auto dev = device::parse_device(dev_text);
    if (!dev)
      throw std::invalid_argument("deployment chain: unknown device '" + dev_text +
                                  "' (known: NPU, GPU, CPU)");
    auto level = device::ProfileLevel::Balanced;
    if (colon != std::string::npos) {
      const std::string level_text = entry.substr(colon + 1);
      const auto parsed = device::parse_profile_level(level_text);
      if (!parsed)
        throw std::invalid_argument("deployment chain: unknown profile '" + level_text +
                                    "' (known: conservative, balanced, aggressive)");
      level = *parsed;
    }
    chain.push_back(make_tier(*dev, level, model, hardware_threads));
  }
  return chain;
}

std::string describe(const std::vector<TierFailure>& failures, const DeploymentTier* serving) {
  std::string out;
  for (const auto& f : failures) out += f.tier.name() + ": failed: " + f.reason + "\n";
  if (serving) out += serving->name() + ": serving\n";
  return out;
}

namespace detail {

std::optional<std::string> precheck(const DeploymentTier& tier) {
  for (const auto& f : tier.findings)
    if (f.severity == device::Severity::Error)
      return "invalid properties: " + (f.key.empty() ? "" : f.key + ": ") + f.message;
  return std::nullopt;
}

std::string exception_reason() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace detail
}  // namespace qwen3::engine
