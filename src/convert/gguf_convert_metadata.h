// The GGUF metadata of a converted Qwen3 checkpoint, key for key as llama.cpp's
// convert_hf_to_gguf.py writes it (general.*, qwen3.*, tokenizer.ggml.*,
// tokenizer.chat_template, general.sampling.*).
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_writer.h"
#include "model/hf_config.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::hf {

// general.architecture/type/name/file_type/quantization_version and the qwen3.* shape
// keys, plus qwen3.rope.scaling.* when config.json asks for YaRN.
void set_model_metadata(gguf::GgufWriter& w, const HfModelConfig& c, const std::string& name,
                        uint32_t file_type);

// tokenizer.ggml.* (model gpt2, pre qwen2, tokens padded to n_vocab with "[PADi]" of type
// UNUSED, token types, merges, bos/eos/padding ids, add_bos_token false) and the chat
// template. Special ids come from tokenizer_config.json (eos_token, pad_token) and
// config.json (bos_token_id), as gguf-py's SpecialVocab reads them.
void set_tokenizer_metadata(gguf::GgufWriter& w, const Tokenizer& tok, int64_t n_vocab,
                            const std::string& tokenizer_config_json, const HfModelConfig& c);

// general.sampling.{temp, top_p, top_k, min_p, penalty_repeat} from generation_config.json.
void set_sampling_metadata(gguf::GgufWriter& w, const HfGenerationDefaults& g);

}  // namespace qwen3::hf
