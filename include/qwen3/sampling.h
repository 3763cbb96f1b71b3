// The sampling settings, one type per stage, the others derived from them:
//   SamplingDefaults<Real, Int>  what a model ships (unset = says nothing): a Hugging Face
//                                generation_config.json (HfGenerationDefaults, doubles as
//                                JSON holds them) and ModelSamplingDefaults (float, int);
//   GenerationConfig             what a request asks (generation_config.h), resolved
//                                against the model's defaults and the Qwen3 model card;
//   SamplingValues               the resolved numbers one generation runs with: the CPU
//                                sampler's SamplerParams and the OpenVINO backend's
//                                GenerateOptions both derive from it, and
//                                GenerationConfig::sampling_values() is the one conversion.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

namespace qwen3 {

template <class Real, class Int>
struct SamplingDefaults {
  std::optional<Real> temperature;
  std::optional<Int> top_k;
  std::optional<Real> top_p;
  std::optional<Real> min_p;
  std::optional<Real> repetition_penalty;
  std::optional<Real> presence_penalty;

  bool empty() const {
    return !temperature && !top_k && !top_p && !min_p && !repetition_penalty && !presence_penalty;
  }

  // The same values in other number types (a JSON file's doubles -> the engine's floats).
  template <class Out>
  Out as() const {
    Out o;
    auto copy = [](auto& to, const auto& from) {
      using T = typename std::remove_reference_t<decltype(to)>::value_type;
      if (from) to = static_cast<T>(*from);
    };
    copy(o.temperature, temperature);
    copy(o.top_k, top_k);
    copy(o.top_p, top_p);
    copy(o.min_p, min_p);
    copy(o.repetition_penalty, repetition_penalty);
    copy(o.presence_penalty, presence_penalty);
    return o;
  }
};

// Sampling defaults a model ships: a Hugging Face folder's generation_config.json
// (do_sample false reads as temperature 0), or a GGUF's general.sampling.* metadata
// (temp, top_k, top_p, min_p, penalty_repeat) as `qwen3 convert` and llama.cpp's converter
// write them. Unset = the model says nothing; Pipeline::model_defaults() returns them.
struct ModelSamplingDefaults : SamplingDefaults<float, int> {};

// One generation's resolved sampling numbers (every field set). Defaults: greedy, no
// filters, no penalties.
struct SamplingValues {
  float temperature = 0.0f;  // 0 = greedy
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_last_n = 64;  // -1 = every accepted token, 0 = no penalties
  std::uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0f || top_k == 1; }
};

}  // namespace qwen3
