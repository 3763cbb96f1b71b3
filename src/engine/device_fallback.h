// Deployment tiers and the fallback chain: an ordered list of {device, profile,
// properties} attempts; select() tries each with a caller-supplied factory and returns the
// first backend that comes up, with the reason every earlier tier failed. Generic over
// the backend type so it depends on no particular backend interface.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "device/config_builder.h"
#include "device/device_types.h"
#include "device/finding.h"
#include "device/model_facts.h"

namespace qwen3::engine {

struct DeploymentTier {
  device::Device device = device::Device::CPU;
  device::ProfileLevel level = device::ProfileLevel::Balanced;
  nlohmann::json properties = nlohmann::json::object();
  std::vector<device::Finding> findings;  // the builder's validation of `properties`

  std::string name() const;  // "NPU balanced"
};

struct TierFailure {
  DeploymentTier tier;
  std::string reason;
};

template <class Backend>
struct TierSelection {
  std::unique_ptr<Backend> backend;
  DeploymentTier tier;
  size_t index = 0;                   // position of the serving tier in the chain
  std::vector<TierFailure> failures;  // the tiers tried before it, in order
};

// Every tier failed; what() lists each tier and its reason.
class NoTierAvailable : public std::runtime_error {
 public:
  explicit NoTierAvailable(std::vector<TierFailure> failures);
  const std::vector<TierFailure>& failures() const { return failures_; }

 private:
  std::vector<TierFailure> failures_;
};

// A tier with its properties built (and validated) for `model` by the device builder.
DeploymentTier make_tier(device::Device device, device::ProfileLevel level,
                         const std::optional<device::ModelFacts>& model = std::nullopt,
                         int hardware_threads = 0);

// --device AUTO: NPU balanced -> NPU conservative -> GPU balanced -> native CPU balanced.
std::vector<DeploymentTier> default_auto_chain(
    const std::optional<device::ModelFacts>& model = std::nullopt, int hardware_threads = 0);

// "NPU:balanced,NPU:conservative,GPU,CPU" (profile defaults to balanced). Throws
// std::invalid_argument naming the bad entry.
std::vector<DeploymentTier> parse_chain(
    const std::string& spec, const std::optional<device::ModelFacts>& model = std::nullopt,
    int hardware_threads = 0);

// One line per failed tier and the serving tier, for logs and `--verbose`.
std::string describe(const std::vector<TierFailure>& failures, const DeploymentTier* serving);

namespace detail {
// Why a tier is skipped without calling the factory (its properties have errors).
std::optional<std::string> precheck(const DeploymentTier& tier);
std::string exception_reason();  // the current exception's what(), inside a catch block
}  // namespace detail

// Tries each tier in order. The factory returns the backend or throws (a null result
// counts as a failure too). Tiers whose properties have validation errors are skipped.
template <class Backend>
TierSelection<Backend> select_tier(
    const std::vector<DeploymentTier>& chain,
    const std::function<std::unique_ptr<Backend>(const DeploymentTier&)>& factory) {
  std::vector<TierFailure> failures;
  for (size_t i = 0; i < chain.size(); ++i) {
    const DeploymentTier& tier = chain[i];
    if (auto skip = detail::precheck(tier)) {
      failures.push_back({tier, *skip});
      continue;
    }
    try {
      std::unique_ptr<Backend> b = factory(tier);
      if (b) return {std::move(b), tier, i, std::move(failures)};
      failures.push_back({tier, "the backend factory returned nothing"});
    } catch (...) {
      failures.push_back({tier, detail::exception_reason()});
    }
  }
  throw NoTierAvailable(std::move(failures));
}

}  // namespace qwen3::engine
