// GPU profile for OpenVINO's GPU plugin, used as a fallback tier. The stateful GPU
// pipeline grows its KV cache as needed, so there is no context dial and the levels
// differ only in the cache blob kind.
#include "device/profiles.h"

namespace qwen3::device {

Profile gpu_profile(ProfileLevel level) {
  Profile p;
  p.device = Device::GPU;
  p.level = level;
  p.budget_rationale = "the GPU plugin allocates its KV cache itself";
  auto set = [&p](std::string key, nlohmann::json value, std::string why) {
    p.settings.push_back({std::move(key), std::move(value), std::move(why)});
  };
  set("PERFORMANCE_HINT", "LATENCY", "one chat at a time: optimise for time per token");
  set("INFERENCE_PRECISION_HINT", "f16", "f16 activations: the GPU plugin's fast path");
  set("KV_CACHE_PRECISION", "f16", "f16 halves KV memory against f32 with no visible loss");
  set("CACHE_DIR", ".ovcache", "GPU kernel compilation is cached across starts");
  if (level == ProfileLevel::Conservative)
    set("CACHE_MODE", "OPTIMIZE_SIZE", "weightless blob: no second copy of the weights on disk");
  else
    set("CACHE_MODE", "OPTIMIZE_SPEED", "blob with weights: fastest load");
  return p;
}

}  // namespace qwen3::device
