// Profiles for this project's native CPU engine. Decoding is memory-bound, so threads
// past the core count buy little; the KV cache precision and context length set memory.
#include <algorithm>

#include "device/profiles.h"

namespace qwen3::device {

Profile cpu_profile(ProfileLevel level, int hardware_threads) {
  const int hw = std::max(1, hardware_threads);
  Profile p;
  p.device = Device::CPU;
  p.level = level;
  auto set = [&p](std::string key, nlohmann::json value, std::string why) {
    p.settings.push_back({std::move(key), std::move(value), std::move(why)});
  };
  switch (level) {
    case ProfileLevel::Conservative:
      p.kv_budget_bytes = 1024 * kMiB;
      p.budget_rationale = "1 GiB of KV: runs beside other applications";
      set("NUM_THREADS", std::max(1, hw / 2), "half the CPUs: the machine stays responsive");
      set("CONTEXT_LENGTH", 4096, "a few turns of chat; small KV cache");
      set("KV_CACHE_PRECISION", "f16", "half the KV memory of f32");
      set("PROMPT_BATCH_SIZE", 64, "small prefill batches keep activation memory low");
      break;
    case ProfileLevel::Balanced:
      p.kv_budget_bytes = 4096 * kMiB;
      p.budget_rationale = "4 GiB of KV: long chats on a 16 GB machine";
      set("NUM_THREADS", std::max(1, hw - 1),
          "all CPUs but one, which keeps the terminal or HTTP server streaming smoothly");
      set("CONTEXT_LENGTH", 8192, "long chats with reasoning; KV stays a fraction of RAM");
      set("KV_CACHE_PRECISION", "f16", "half the KV memory of f32");
      set("PROMPT_BATCH_SIZE", 256, "large enough for matmul efficiency in prefill");
      break;
    case ProfileLevel::Aggressive:
      p.kv_budget_bytes = 8192 * kMiB;
      p.budget_rationale = "8 GiB of KV: a dedicated machine with 24 GB or more";
      set("NUM_THREADS", hw, "every CPU: fastest prefill and decode");
      set("CONTEXT_LENGTH", 32768, "Qwen3's native context");
      set("KV_CACHE_PRECISION", "f32", "full-precision attention, no f16 conversions");
      set("PROMPT_BATCH_SIZE", 512, "fewest prefill passes for long prompts");
      break;
  }
  return p;
}

}  // namespace qwen3::device
