// POST /v1/chat/completions body -> ChatRequest. Message validation is the text layer's
// (text::messages_from_json); this file adds the endpoint's fields and tool_choice.
#include <stdexcept>

#include "engine/chat_json.h"
#include "server/api_error.h"
#include "server/chat_images.h"
#include "server/request_limits.h"
#include "server/requests.h"

namespace qwen3::server {
namespace {

std::vector<ChatMessage> parse_messages(const JsonFields& f, const ImageSources& sources) {
  if (!f.has("messages")) throw invalid_request("'messages' is required", "messages", "missing");
  Json messages = *f.array("messages");
  if (messages.empty()) {
    throw invalid_request("'messages' must hold at least one message", "messages");
  }
  if (messages.size() > limits::kMaxMessages) {
    throw limit_exceeded("messages", "holds", messages.size(), "messages", limits::kMaxMessages);
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object()) {
      throw invalid_request("'messages[" + std::to_string(i) + "]' must be an object", "messages",
                            "invalid_type");
    }
  }
  // The shared converter (also the terminal chat's /load): "developer" and "reasoning"
  // spellings, validation by the text layer.
  // Image parts (Qwen3-VL) come out first: the text layer takes text parts only.
  std::vector<std::vector<ChatImage>> images = take_image_parts(messages, sources);
  std::vector<ChatMessage> out;
  try {
    out = engine::chat_messages_from_json(std::move(messages));
  } catch (const std::invalid_argument& e) {
    throw invalid_request(e.what(), "messages");
  }
  for (std::size_t i = 0; i < out.size() && i < images.size(); ++i)
    out[i].images = std::move(images[i]);
  return out;
}

Json parse_tools(const JsonFields& f) {
  const Json* tools = f.array("tools");
  if (!tools) return Json::array();
  if (tools->size() > limits::kMaxTools) {
    throw limit_exceeded("tools", "holds", tools->size(), "tools", limits::kMaxTools);
  }
  for (std::size_t i = 0; i < tools->size(); ++i) {
    const Json& t = (*tools)[i];
    std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) throw invalid_request("'" + where + "' must be an object", "tools");
    JsonFields tf(t, where + ".");
    auto type = tf.string("type");
    if (type && *type != "function") {
      throw invalid_request("'" + where + ".type' must be \"function\"", "tools");
    }
    const Json* fn = tf.object("function");
    if (!fn) throw invalid_request("'" + where + ".function' is required", "tools", "missing");
    JsonFields ff(*fn, where + ".function.");
    auto name = ff.string("name");
    if (!name || name->empty()) {
      throw invalid_request("'" + where + ".function.name' must be a non-empty string", "tools");
    }
    ff.string("description");
    ff.object("parameters");
  }
  return *tools;
}

std::string function_name(const Json& tool) {
  return tool["function"]["name"].get<std::string>();
}

// tool_choice: "none" leaves the tools out of the prompt; a named function leaves only that
// tool in; "required" keeps the tools. The constraint itself is set in parse_chat_request.
void apply_tool_choice(const JsonFields& f, ChatRequest& r, Json& tools) {
  if (!f.has("tool_choice")) return;
  const Json& tc = f.raw("tool_choice");
  if (tc.is_string()) {
    std::string s = tc.get<std::string>();
    if (s == "auto") return;
    if (s == "none") {
      r.tool_choice = ToolChoice::kNone;
      tools = Json::array();
      return;
    }
    if (s == "required") {
      if (tools.empty()) {
        throw invalid_request("tool_choice 'required' needs a non-empty 'tools'", "tool_choice");
      }
      r.tool_choice = ToolChoice::kRequired;
      return;
    }
    throw invalid_request("'tool_choice' must be \"auto\", \"none\", \"required\" or a function",
                          "tool_choice");
  }
  if (!tc.is_object()) {
    throw invalid_request("'tool_choice' must be a string or an object", "tool_choice",
                          "invalid_type");
  }
  JsonFields cf(tc, "tool_choice.");
  const Json* fn = cf.object("function");
  auto name = fn ? JsonFields(*fn, "tool_choice.function.").string("name") : std::nullopt;
  if (!name) {
    throw invalid_request("'tool_choice.function.name' is required", "tool_choice", "missing");
  }
  Json kept = Json::array();
  for (const auto& t : tools) {
    if (function_name(t) == *name) kept.push_back(t);
  }
  if (kept.empty()) {
    throw invalid_request("tool_choice names '" + *name + "', which is not in 'tools'",
                          "tool_choice");
  }
  tools = kept;
  r.tool_choice = ToolChoice::kNamed;
  r.named_tool = *name;
}

}  // namespace

ChatRequest parse_chat_request(const Json& body, std::size_t max_context,
                               const ImageSources& images) {
  JsonFields f(body, "");
  ChatRequest r;
  r.model = f.string("model").value_or("");
  r.history.messages = parse_messages(f, images);
  r.cache_key = f.raw("messages").dump();

  Json tools = parse_tools(f);
  apply_tool_choice(f, r, tools);
  if (!tools.empty()) r.history.tools_json = tools.dump();

  const bool parallel = f.boolean("parallel_tool_calls").value_or(true);
  parse_generation_fields(f, max_context, r.config, r.max_tokens_given);
  r.n = parse_choices(f);
  // Tool calls: "required" / named are forced; "auto" (with tools) keeps a started call valid
  // unless the request constrains its reply otherwise (response_format, grammar, ...).
  if (!tools.empty() && r.tool_choice != ToolChoice::kNone &&
      (!r.config.structured_output || r.config.structured_output->empty())) {
    StructuredOutputConfig so;
    so.tool_mode = r.tool_choice == ToolChoice::kAuto ? StructuredOutputConfig::ToolMode::kAuto
                                                      : StructuredOutputConfig::ToolMode::kRequired;
    so.tools_json = tools.dump();
    so.tool_name = r.named_tool;
    so.parallel_tool_calls = parallel;
    r.config.structured_output = so;
  }
  // With tool_choice "auto" the constraint is a safety net the client did not ask for: a
  // tool schema we cannot compile (an unsupported keyword, a malformed schema) leaves the
  // reply unconstrained instead of refusing the request. Required / named calls and
  // response_format must compile (400 naming the problem).
  if (r.config.structured_output &&
      r.config.structured_output->tool_mode == StructuredOutputConfig::ToolMode::kAuto) {
    try {
      check_structured_output(r.config, "tools");
    } catch (const std::exception&) {
      r.config.structured_output.reset();
    }
  }
  check_structured_output(r.config,
                          r.config.structured_output && r.config.structured_output->tool_mode !=
                                                            StructuredOutputConfig::ToolMode::kNone
                              ? "tools"
                              : "response_format");
  r.stream = f.boolean("stream").value_or(false);
  if (const Json* so = f.object("stream_options")) {
    r.include_usage = JsonFields(*so, "stream_options.").boolean("include_usage").value_or(false);
  }

  // enable_thinking: top level or in chat_template_kwargs (the latter wins, as the
  // template sees it); the other kwargs go to the template as extra context.
  std::optional<bool> thinking = f.boolean("enable_thinking");
  if (const Json* kw = f.object("chat_template_kwargs")) {
    JsonFields kf(*kw, "chat_template_kwargs.");
    if (auto t = kf.boolean("enable_thinking")) thinking = t;
    r.history.extra_context_json = kw->dump();
  }
  if (thinking) r.config.enable_thinking = thinking;
  return r;
}

}  // namespace qwen3::server
