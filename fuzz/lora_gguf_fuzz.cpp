// libFuzzer target for the llama.cpp LoRA GGUF loader: any bytes must load or give a
// std::runtime_error (GgufError included), never crash or hang; a loaded adapter's
// matrices must have the sizes their shapes say, and the base-model check against the
// tiny preset must also end in a clean error or pass. Seeds: fuzz/corpus/lora_gguf/
// (written by `qwen3 gen-lora` for a 2-layer, 16-wide tiny base).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "model/lora_adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qwen3;
  try {
    const gguf::GgufFile f = gguf::GgufFile::from_bytes(data, size, "fuzz.gguf");
    const auto a = parse_gguf_adapter(f, "fuzz.gguf");
    for (int l = 0; l < a->n_layers(); ++l)
      for (int t = 0; t < kNumLoraTargets; ++t)
        if (const LoraMatrices* m = a->find(l, static_cast<LoraTarget>(t))) {
          if (m->rank <= 0 || m->a.size() != static_cast<size_t>(m->rank) * m->in ||
              m->b.size() != static_cast<size_t>(m->out) * m->rank)
            std::abort();
          volatile float sink = m->a.front() + m->b.back() + m->scale;
          (void)sink;
        }
    static const Qwen3Config tiny = Qwen3Config::tiny();
    try {
      a->check_base(tiny);
    } catch (const std::runtime_error&) {
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
