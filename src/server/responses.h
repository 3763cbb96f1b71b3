// The JSON objects the server sends back: chat.completion(.chunk), text_completion,
// usage and llama.cpp-style timings. Pure functions of a few plain structs, so the
// response shapes are tested without a model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qwen3/chat.h"
#include "qwen3/pipeline.h"

namespace qwen3::server {

using OJson = nlohmann::ordered_json;

// What every chunk / response of one request repeats.
struct ResponseIds {
  std::string id;     // "chatcmpl-..." or "cmpl-..."
  std::string model;  // the served model's name
  std::int64_t created = 0;
};

// A fresh id with `prefix`, e.g. "chatcmpl-5f1c...". Unique within the process.
std::string new_response_id(const std::string& prefix);
std::string new_tool_call_id();
std::int64_t unix_time_now();

// "stop", "length", "tool_calls" (a cancelled reply reports "stop": nobody reads it).
const char* finish_reason_name(FinishReason r);

OJson usage_json(const DecodedResult& r);
// llama.cpp's timings: prompt_n/ms/per_token_ms/per_second, predicted_*, cache_n; and
// dropped_turns when the prompt left old turns out to fit the context.
OJson timings_json(const DecodedResult& r);

// Non-streaming replies. A chat reply with DecodedResult::note carries it as a top-level
// "warnings": [note] (also on the final streaming chunk), e.g. "enable_thinking=false
// ignored: this model's chat template has no thinking switch".
OJson chat_completion_json(const ResponseIds& ids, const DecodedResult& r);
OJson text_completion_json(const ResponseIds& ids, const std::string& text, const DecodedResult& r);

// Streaming chunks of a chat reply.
OJson chat_chunk(const ResponseIds& ids, OJson delta, const OJson& finish_reason = nullptr);
OJson role_delta();
OJson content_delta(const std::string& text);
OJson reasoning_delta(const std::string& text);  // as reasoning_content and reasoning
// A tool call streams as two deltas: the header (id, type, name, empty arguments), then
// the arguments.
OJson tool_call_header_delta(int index, const ToolCall& call);
OJson tool_call_arguments_delta(int index, const std::string& arguments);
// The last chunk: empty delta, finish_reason and the timings.
OJson chat_final_chunk(const ResponseIds& ids, const DecodedResult& r);
// stream_options.include_usage: a chunk with no choices and the usage.
OJson usage_chunk(const ResponseIds& ids, const std::string& object, const DecodedResult& r);

// Streaming chunks of a text completion.
OJson text_chunk(const ResponseIds& ids, const std::string& text,
                 const OJson& finish_reason = nullptr);

}  // namespace qwen3::server
