// Rules for the native CPU engine's own keys.
#include "device/profiles.h"
#include "device/validator_rules.h"

namespace qwen3::device::rules {

void cpu_rules(const nlohmann::json& p, const ValidateOptions& o, std::vector<Finding>& out) {
  const auto threads = int_value(p, "NUM_THREADS");
  if (threads && o.hardware_threads > 0 && *threads > o.hardware_threads) {
    out.push_back({Severity::Warning, "NUM_THREADS",
                   std::to_string(*threads) + " threads on " + std::to_string(o.hardware_threads) +
                       " logical CPUs: threads wait on each other and decoding slows down",
                   "use at most " + std::to_string(o.hardware_threads)});
  }
  const auto ctx = int_value(p, "CONTEXT_LENGTH");
  if (ctx) capacity_rules("CONTEXT_LENGTH", *ctx, kv_bytes_per_element(Device::CPU, p), o, out);
  const auto batch = int_value(p, "PROMPT_BATCH_SIZE");
  if (batch && ctx && *batch > *ctx) {
    out.push_back({Severity::Warning, "PROMPT_BATCH_SIZE",
                   "a prefill batch of " + std::to_string(*batch) +
                       " exceeds CONTEXT_LENGTH=" + std::to_string(*ctx),
                   "use at most " + std::to_string(*ctx)});
  }
  if (!o.model && ctx) {
    out.push_back({Severity::Note, "", "no model given: the context and memory rules were skipped",
                   "pass -m MODEL or --model-preset 8b"});
  }
}

}  // namespace qwen3::device::rules
