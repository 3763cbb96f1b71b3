// Plain structs for the OpenAI-style requests, parsed and validated from JSON bodies.
// Parsing throws ApiError (400) naming the offending field.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "qwen3/generation_config.h"
#include "server/image_sources.h"
#include "server/json_fields.h"

namespace qwen3::server {

// How tool_choice changed the request: "required" and a named function are enforced by
// constrained decoding (a well-formed call with valid arguments), "auto" lets the model
// choose but keeps a call it starts valid, "none" drops the tools.
enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

struct ChatRequest {
  std::string model;
  ChatHistory history;  // messages, tools (after tool_choice), template kwargs
  GenerationConfig config;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string named_tool;  // kNamed: the function the client asked for
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool max_tokens_given = false;
  int n = 1;  // choices, each generated as its own sequence over the prompt's shared blocks
  // The messages as sent, compact; requests that extend the same conversation share a
  // prefix of it, which picks the slot whose KV cache can be reused.
  std::string cache_key;
};

struct CompletionRequest {
  std::string model;
  std::string prompt;       // raw text (or the fill-in-the-middle prompt built from suffix)
  GenerationConfig config;  // apply_chat_template = false
  bool stream = false;
  bool include_usage = false;
  bool echo = false;
  bool max_tokens_given = false;
  int n = 1;  // choices
  // A token-id prompt is decoded by the caller: parse leaves ids here and prompt empty.
  std::vector<std::int32_t> prompt_ids;
};

// max_context bounds max_tokens (a request can never generate more than the context).
ChatRequest parse_chat_request(const Json& body, std::size_t max_context,
                               const ImageSources& images = {});
CompletionRequest parse_completion_request(const Json& body, std::size_t max_context);

// 404 model_not_found unless `model` is empty (not given: accepted, as OpenAI-compatible
// servers do), the served id or one of its aliases.
void check_model(const std::string& model, const std::string& served_id,
                 const std::vector<std::string>& aliases);

// "n": how many choices (1..kMaxChoices; 400 otherwise). A seeded request's choice i
// samples with seed + i, so the choices differ and each is reproducible.
constexpr int kMaxChoices = 16;
int parse_choices(const JsonFields& f);

// Compiles the request's output constraint (cached for its generation): a bad schema,
// grammar or regex becomes a 400 naming `field` and the problem.
void check_structured_output(const GenerationConfig& c, const std::string& field);

// The sampling / length / stop fields shared by both endpoints.
void parse_generation_fields(const JsonFields& f, std::size_t max_context, GenerationConfig& c,
                             bool& max_tokens_given);

}  // namespace qwen3::server
