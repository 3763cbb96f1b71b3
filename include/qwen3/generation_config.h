// Options for one generate() call: length, sampling, penalties, stops, thinking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/sampling.h"

namespace qwen3 {

// Constrained decoding, as OpenVINO GenAI's StructuredOutputConfig: at most one of
// json_schema / regex / grammar / json_object, or a tool-call constraint. The reply's
// content (after </think> when reasoning is on) then always matches; docs/structured-output.md.
struct StructuredOutputConfig {
  std::optional<std::string> json_schema;  // JSON Schema text (draft 2020-12 subset)
  std::optional<std::string> regex;        // the whole content matches it
  std::optional<std::string> grammar;      // GBNF (llama.cpp syntax), start rule `root`
  bool json_object = false;                // any JSON object

  // Tool calls: the OpenAI "tools" array as JSON text. kRequired: the reply is one or more
  // <tool_call> blocks (only `tool_name`'s if set) whose arguments match the function's
  // parameters schema; kAuto: free text, but a <tool_call> the model opens must be valid.
  enum class ToolMode { kNone, kAuto, kRequired };
  ToolMode tool_mode = ToolMode::kNone;
  std::string tools_json;
  std::string tool_name;
  bool parallel_tool_calls = true;

  bool empty() const {
    return !json_schema && !regex && !grammar && !json_object && tool_mode == ToolMode::kNone;
  }
};

struct GenerationConfig {
  // Upper bound on generated tokens (reasoning + content + tool calls).
  std::size_t max_new_tokens = 1024;

  // Sampling. Unset fields take the Qwen3 model-card defaults for the request's thinking
  // mode (see qwen3_defaults), so enable_thinking switches them. temperature 0 or top_k 1
  // means greedy. top_k 0 = off, top_p 1 = off, min_p 0 = off.
  std::optional<float> temperature;
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;

  // Penalties with llama.cpp semantics over the last `penalty_last_n` tokens of the
  // prompt + reply (-1 = the whole context, 0 = off): a logit l of a token seen c > 0
  // times becomes (l > 0 ? l / repetition : l * repetition) - c * frequency - presence.
  float repetition_penalty = 1.0f;  // 1 = off; > 1 discourages repeats
  float presence_penalty = 0.0f;    // model card: 0..2 against endless repetition
  float frequency_penalty = 0.0f;
  int penalty_last_n = 64;

  // Added to a token's logit before penalties and sampling (OpenAI's logit_bias): token id
  // -> bias in [-100, 100]; -100 in effect bans the token, 100 forces it. Ids must lie in
  // the tokenizer's vocabulary (generate() throws std::invalid_argument otherwise).
  std::map<std::int32_t, float> logit_bias;

  // Seed of the sampler's std::mt19937_64; unset = a fresh random seed per call.
  std::optional<std::uint64_t> seed;

  // Generation ends (finish reason "stop") when the visible content contains one of these;
  // the stop string itself is not returned.
  std::vector<std::string> stop;

  // Thinking mode of this request; unset = the model default (on for Qwen3). Off appends
  // the template's empty <think></think> block and switches sampling defaults.
  std::optional<bool> enable_thinking;

  // Constrained decoding of the content; unset = free text.
  std::optional<StructuredOutputConfig> structured_output;

  // Reasoning budget: with thinking on, the reasoning block (<think> to </think>, both
  // counted) holds at most this many tokens; when it is spent the runtime writes a short
  // closing sentence and </think> itself and the answer follows. 0 = no reasoning.
  std::optional<std::size_t> thinking_budget;
  // The same in wall-clock milliseconds (the closing is timed with the measured token
  // time so that </think> comes before the budget ends).
  std::optional<double> thinking_budget_ms;
  // Closes a reasoning block whose last 32+ tokens are one run of 1..64 tokens repeated
  // (at least 4 times), as the budget does (DecodedResult::reasoning_closed = "loop").
  bool reasoning_loop_guard = false;

  // false: the prompt string is fed to the model as is (no chat template).
  bool apply_chat_template = true;

  // Keep generating through <|im_end|> / <|endoftext|> (benchmarks only).
  bool ignore_eos = false;

  // Context budget: a turn only starts when at least this many tokens (or max_new_tokens
  // if smaller) are left for the reply; older turns are dropped to make room.
  std::size_t min_reply_tokens = 256;

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;

  // A copy with every unset sampling field filled from qwen3_defaults(thinking).
  GenerationConfig resolved(bool thinking) const;

  // The same, with the model's own defaults first. Fields set here always win. With
  // thinking on (the Qwen3 default mode), unset temperature / top_k / top_p / min_p come
  // from `model`, else from qwen3_defaults(true); the Qwen3 model card ties
  // generation_config.json to the thinking mode, so with thinking off they come from
  // qwen3_defaults(false). A model's repetition_penalty / presence_penalty apply in both
  // modes while this config leaves them neutral (1 and 0); penalty_last_n 0 turns them off.
  GenerationConfig resolved(bool thinking, const ModelSamplingDefaults& model) const;

  // The sampling numbers of a resolved config (every sampling optional set; unset ones
  // read as off); an unset seed draws one from std::random_device. The one conversion
  // the CPU sampler and the device backends share.
  SamplingValues sampling_values() const;

  bool is_greedy() const { return (temperature && *temperature <= 0.0f) || (top_k && *top_k == 1); }

  // The Qwen3 model card: thinking T=0.6 top_p=0.95 top_k=20 min_p=0 (never greedy);
  // non-thinking T=0.7 top_p=0.8 top_k=20 min_p=0.
  static GenerationConfig qwen3_defaults(bool thinking);
};

}  // namespace qwen3
