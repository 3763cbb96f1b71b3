// POST /v1/completions body -> CompletionRequest: a raw prompt (no chat template), or a
// fill-in-the-middle prompt when `suffix` is given.
#include "server/api_error.h"
#include "server/requests.h"
#include "text/chat_template.h"

namespace qwen3::server {
namespace {

// A prompt is a string, token ids, or a one-element array of either (OpenAI batches are
// not supported: one prompt per request).
void parse_prompt(const JsonFields& f, CompletionRequest& r) {
  if (!f.has("prompt")) throw invalid_request("'prompt' is required", "prompt", "missing");
  const Json* p = &f.raw("prompt");
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) {
    p = &(*p)[0];
  }
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
    return;
  }
  if (p->is_array() && !p->empty()) {
    for (const auto& id : *p) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
          id.get<std::int64_t>() > INT32_MAX) {
        throw invalid_request("'prompt' must be a string or an array of token ids", "prompt",
                              "invalid_type");
      }
      r.prompt_ids.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
    }
    return;
  }
  if (p->is_array() && p->empty()) throw invalid_request("'prompt' must not be empty", "prompt");
  throw invalid_request(
      "'prompt' must be a string or an array of token ids (one prompt per "
      "request)",
      "prompt", "invalid_type");
}

}  // namespace

CompletionRequest parse_completion_request(const Json& body, std::size_t max_context) {
  JsonFields f(body, "");
  CompletionRequest r;
  r.model = f.string("model").value_or("");
  parse_prompt(f, r);
  if (auto suffix = f.string("suffix")) {
    if (!r.prompt_ids.empty()) {
      throw invalid_request("'suffix' needs a text prompt", "suffix");
    }
    r.prompt = text::render_fim(r.prompt, *suffix);
  }
  parse_generation_fields(f, max_context, r.config, r.max_tokens_given);
  r.n = parse_choices(f);
  check_structured_output(r.config, "response_format");
  r.config.apply_chat_template = false;
  r.stream = f.boolean("stream").value_or(false);
  r.echo = f.boolean("echo").value_or(false);
  if (const Json* so = f.object("stream_options")) {
    r.include_usage = JsonFields(*so, "stream_options.").boolean("include_usage").value_or(false);
  }
  return r;
}

}  // namespace qwen3::server
