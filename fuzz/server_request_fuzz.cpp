// libFuzzer target for the server's request path without a model: raw body bytes -> the
// request JSON parser (with its limits) -> parse_chat_request / parse_completion_request
// -> chat template render and tokenization, as a slot would do before running the model.
// Every input must end in a result or an error the server answers with a 4xx; an
// exception that would become a 500, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "engine/prompt_builder.h"
#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/requests.h"
#include "text/tokenizer.h"

namespace {

using namespace qwen3;

constexpr std::size_t kContext = 40960;  // Qwen3's native context in config.json

const Tokenizer& tokenizer() {
  static const Tokenizer tok =
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  return tok;
}

void fail_if_server_error(const std::exception& e) {
  server::ApiError api = server::from_exception(e);
  if (api.status() >= 500) {
    std::fprintf(stderr, "request path gave HTTP %d: %s\n", api.status(), e.what());
    std::abort();
  }
}

void chat(const server::Json& body) {
  server::ChatRequest r = server::parse_chat_request(body, kContext);
  server::check_model(r.model, "qwen3", {"alias"});
  engine::BuiltPrompt p =
      engine::build_chat_prompt(r.history, r.config.enable_thinking, tokenizer(), {kContext, 0});
  if (p.ids.empty()) std::abort();  // the template always writes at least one turn
}

void completion(const server::Json& body) {
  server::CompletionRequest r = server::parse_completion_request(body, kContext);
  if (!r.prompt_ids.empty()) r.prompt = tokenizer().decode(r.prompt_ids);
  engine::build_raw_prompt(r.prompt, tokenizer(), {kContext, 0});
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizer();  // loaded once, outside the timed inputs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  server::Json body;
  try {
    body = server::parse_json_object(bytes);
  } catch (const std::exception& e) {
    fail_if_server_error(e);
    return 0;
  }
  // Both endpoints see every body: a chat body is a bad completion and vice versa.
  for (auto* endpoint : {&chat, &completion}) {
    try {
      endpoint(body);
    } catch (const std::exception& e) {
      fail_if_server_error(e);
    }
  }
  return 0;
}
