// libFuzzer target: any config.json text (dense or Qwen3MoeForCausalLM, rope_scaling) must
// parse into a config the runtime accepts or give an HfConfigError / invalid_argument,
// never crash; a parsed config's runtime shape must validate or throw invalid_argument.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "model/hf_config.h"
#include "model/hf_model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const qwen3::hf::HfModelConfig c = qwen3::hf::parse_hf_config(text, "fuzz");
    qwen3::hf::to_qwen3_config(c, "fuzz").validate();
  } catch (const qwen3::hf::HfConfigError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
