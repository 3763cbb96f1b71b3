// NPU profiles for OpenVINO GenAI's static-shape NPU pipeline. The KV capacity is
// MAX_PROMPT_LEN + MIN_RESPONSE_LEN, and every chat turn re-prefills the whole templated
// history into MAX_PROMPT_LEN, so the prompt length is the main dial.
#include "device/profiles.h"

namespace qwen3::device {

Profile npu_profile(ProfileLevel level) {
  Profile p;
  p.device = Device::NPU;
  p.level = level;
  auto set = [&p](std::string key, nlohmann::json value, std::string why) {
    p.settings.push_back({std::move(key), std::move(value), std::move(why)});
  };
  const std::string cache_why =
      "NPU compilation of an LLM takes minutes; the cache makes every later start a load";
  switch (level) {
    case ProfileLevel::Conservative:
      p.kv_budget_bytes = 512 * kMiB;
      p.budget_rationale =
          "the NPU shares system memory; 512 MiB of f16 KV leaves room for an 8B INT4 model "
          "(~5 GB) on a 16 GB laptop";
      set("MAX_PROMPT_LEN", 1024,
          "GenAI's default: the smallest prefill model, the one every driver compiles");
      set("MIN_RESPONSE_LEN", 256,
          "twice GenAI's 128 so a short answer is not cut, still a small KV cache");
      set("GENERATE_HINT", "FAST_COMPILE", "GenAI's default: shortest, most robust compile");
      set("PREFILL_HINT", "DYNAMIC",
          "GenAI's default since 2025.3: a short prompt costs only its own chunks");
      set("NPUW_LLM_PREFILL_CHUNK_SIZE", 256,
          "small chunks bound the prefill activation memory (peak RSS) at some TTFT cost");
      set("CACHE_DIR", ".npucache", cache_why);
      set("CACHE_MODE", "OPTIMIZE_SIZE",
          "weightless blob: the cache does not hold a second copy of the weights");
      break;
    case ProfileLevel::Balanced:
      p.kv_budget_bytes = 1024 * kMiB;
      p.budget_rationale =
          "1 GiB of f16 KV: 2.5k tokens of context keep an 8B model well "
          "inside 16 GB of shared memory";
      set("MAX_PROMPT_LEN", 2048,
          "a few chat turns of history plus a system prompt fit before the prompt limit");
      set("MIN_RESPONSE_LEN", 512, "room for a Qwen3 answer with a short reasoning block");
      set("GENERATE_HINT", "BEST_PERF",
          "faster decoding (~10%); the longer compile is paid once thanks to CACHE_DIR");
      set("PREFILL_HINT", "DYNAMIC", "prompts shorter than MAX_PROMPT_LEN prefill faster");
      set("NPUW_LLM_PREFILL_CHUNK_SIZE", 512,
          "half the plugin default: lower peak memory, still few NPU submissions");
      set("CACHE_DIR", ".npucache", cache_why);
      set("CACHE_MODE", "OPTIMIZE_SPEED",
          "blob with weights: fastest load, recommended for group-quantized models");
      break;
    case ProfileLevel::Aggressive:
      p.kv_budget_bytes = 2048 * kMiB;
      p.budget_rationale = "2 GiB of f16 KV: long chats on machines with 32 GB or more";
      set("MAX_PROMPT_LEN", 4096, "long multi-turn chats before the history must be trimmed");
      set("MIN_RESPONSE_LEN", 1024, "room for Qwen3's thinking mode before the answer");
      set("GENERATE_HINT", "BEST_PERF", "fastest decoding; compile cost is paid once");
      set("PREFILL_HINT", "DYNAMIC", "prompts shorter than MAX_PROMPT_LEN prefill faster");
      set("NPUW_LLM_PREFILL_CHUNK_SIZE", 1024,
          "the plugin default: fewest NPU submissions, best time to first token");
      set("CACHE_DIR", ".npucache", cache_why);
      set("CACHE_MODE", "OPTIMIZE_SPEED", "blob with weights: fastest load");
      set("NPUW_LLM_ENABLE_PREFIX_CACHING", "YES",
          "the chat history is re-prefilled each turn; reusing its KV blocks cuts TTFT "
          "(needs a plugin recent enough to know the key)");
      break;
  }
  return p;
}

}  // namespace qwen3::device
