// What both LoRA loader fuzzers (lora_peft_fuzz, lora_gguf_fuzz) check of an adapter
// that loaded: every matrix has the sizes its shape says (abort otherwise, so libFuzzer
// reports it), its values are readable, and the base-model check against the tiny preset
// ends in a clean error or passes.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <stdexcept>

#include "model/lora_adapter.h"

namespace qwen3::fuzz {

inline void check_loaded_adapter(const LoraAdapter& a) {
  for (int l = 0; l < a.n_layers(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t)
      if (const LoraMatrices* m = a.find(l, static_cast<LoraTarget>(t))) {
        if (m->rank <= 0 || m->a.size() != static_cast<size_t>(m->rank) * m->in ||
            m->b.size() != static_cast<size_t>(m->out) * m->rank)
          std::abort();
        volatile float sink = m->a.front() + m->b.back() + m->scale;
        (void)sink;
      }
  static const Qwen3Config tiny = Qwen3Config::tiny();
  try {
    a.check_base(tiny);
  } catch (const std::runtime_error&) {
  }
}

}  // namespace qwen3::fuzz
