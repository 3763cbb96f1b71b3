// A test-only stand-in for the OpenVINO GenAI backend, so the AUTO chain, the failure
// reasons, the live NPU -> CPU hand-off and the front doors can be tested on machines
// without OpenVINO. It is a whole-generation backend like the real one and registers
// under the real one's name, "openvino", so the device logic picks it up unchanged.
//
// -m is a tokenizer source (a GGUF, tokenizer.json or a folder holding one). Pipeline
// properties:
//   "fake_reply"           the reply, special tokens as text (default "Hello from the
//                          fake device.<|im_end|>"); streamed token by token
//   "fake_max_prompt_len"  the prompt cap (default: MAX_PROMPT_LEN of the device
//                          properties, as the NPU profile sets it; else none); longer
//                          prompts throw GenAI's length error
//   "fake_fail"            tiers that fail to start, comma-separated, each DEVICE or
//                          DEVICE:PROFILE with an optional =driver or =compile (default
//                          compile), e.g. "NPU:balanced=compile,NPU:conservative=driver"
//   "fake_fail_generate"   "1": generate() throws before its first token
// The device is busy while fake_openvino_set_busy(true) (process-wide, like a real NPU
// shared by several conversations).
#pragma once

namespace qwen3::engine {

// Registers the fake under the name "openvino" (replacing any other). Idempotent.
void register_fake_openvino_backend();
void fake_openvino_set_busy(bool busy);

}  // namespace qwen3::engine
