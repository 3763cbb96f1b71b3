// Chat templates: ChatTemplate renders the template a model ships with the Jinja
// interpreter (text/jinja_template.h), or, for the official Qwen3 template byte for byte,
// with the native renderer below, and tells the template's family (thinking switch,
// JSON or XML tool calls) to the prompt builder and the output parser.
//
// Native renderer of the official Qwen3 chat template: byte-identical to
// @huggingface/jinja running tokenizer_config.json's `chat_template`, branch for branch
// (tools block, last_query_index / multi-step tool rule, reasoning kept only after the
// last real user query, inline <think> splitting, merged tool responses, generation
// prompt with the empty think block when enable_thinking is false). Not a Jinja engine.
// render_chat_marked also tells which bytes came from messages and tools, so that only
// the template's own special tokens are tokenized as special (no injection by content).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "text/chat_message.h"
#include "text/text_range.h"

namespace qwen3::text {

struct TemplateOptions {
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;  // nullopt = not defined in the template context
  // The reference template fails on a null content (except for tool messages, where it
  // prints nothing), and so does render_chat by default. Set this to render null as ""
  // instead, as later Qwen3 templates do; OpenAI clients send null content on assistant
  // messages that only carry tool_calls.
  bool null_content_as_empty = false;
  // The template strips reasoning and content with .strip('\n') / .lstrip('\n').
  // @huggingface/jinja (our reference, the default) ignores the argument and trims all
  // JavaScript whitespace (spaces, tabs, \r, U+2028, ...); Python's jinja2, as used by
  // transformers, strips only '\n'. They differ only when such whitespace borders the
  // reasoning or the content of an assistant turn.
  bool python_strip = false;
};

// A rendered prompt and the byte ranges of it that hold text copied from the messages
// and tools: content (system, user, tool, assistant, text parts), reasoning, tool-call
// names and arguments, and each tool's JSON. Everything else is template text: the only
// place special tokens may come from (Tokenizer::encode_with_literals).
struct RenderedChat {
  std::string text;
  TextRanges literal;  // sorted, non-overlapping, adjacent pieces merged
};

// Throws std::invalid_argument (unknown role, tools not an array, null content where
// the template cannot take it, a tool call without a string name).
std::string render_chat(const std::vector<ChatMessage>& messages,
                        const nlohmann::ordered_json& tools, const TemplateOptions& options);
RenderedChat render_chat_marked(const std::vector<ChatMessage>& messages,
                                const nlohmann::ordered_json& tools,
                                const TemplateOptions& options);

// Same from the public API types. history.tools_json is parsed keeping key order;
// history.extra_context_json may set enable_thinking / add_generation_prompt, and
// options.enable_thinking, when set, wins over it. Null content does not exist there.
std::string render_chat(const qwen3::ChatHistory& history, const TemplateOptions& options);
RenderedChat render_chat_marked(const qwen3::ChatHistory& history, const TemplateOptions& options);

// What a ChatHistory adds to a render: its tools, the options after extra_context_json's
// enable_thinking / add_generation_prompt, and the rest of extra_context_json (an object;
// the two keys taken out). Throws std::invalid_argument for bad JSON in either field.
struct HistoryContext {
  nlohmann::ordered_json tools;
  TemplateOptions options;
  nlohmann::ordered_json extra;
};
HistoryContext history_context(const qwen3::ChatHistory& history, const TemplateOptions& options);

// Fill-in-the-middle prompt: <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>.
// A raw prompt (/v1/completions with `suffix`): its author writes the special tokens.
std::string render_fim(const std::string& prefix, const std::string& suffix);

// The template text we implement (for reference and detection).
const std::string& official_qwen3_template();

namespace jinja {
class Template;
}

enum class ToolCallFormat {
  kJson,  // <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call> (Qwen3, QwQ, 2507)
  kXml,   // <tool_call>\n<function=NAME>\n<parameter=P>\nvalue\n</parameter>... (Qwen3-Coder)
};

// What a template does, read from its text.
struct TemplateFamily {
  std::string name;              // "qwen3" (official, native), "qwen3-coder", "qwq", "jinja"
  bool native = false;           // rendered by the native renderer (byte-identical template)
  bool thinking_switch = false;  // the template reads enable_thinking
  ToolCallFormat tool_calls = ToolCallFormat::kJson;
  bool arguments_as_object = false;  // tool-call arguments must be objects (iterated by items)
};
TemplateFamily detect_family(const std::string& source);

// A model's chat template, parsed once. Rendering throws std::invalid_argument
// (jinja::TemplateError) naming the template construct and position on failure.
class ChatTemplate {
 public:
  // source: the model's template; empty = the official Qwen3 template. Throws
  // jinja::TemplateError for a template we cannot parse.
  explicit ChatTemplate(const std::string& source);
  // Parsed templates are cached by their text (models are loaded once; prompts are many).
  static std::shared_ptr<const ChatTemplate> for_source(const std::string& source);

  const TemplateFamily& family() const { return family_; }
  RenderedChat render(const std::vector<ChatMessage>& messages, const nlohmann::ordered_json& tools,
                      const TemplateOptions& options,
                      const nlohmann::ordered_json& extra_context = nlohmann::ordered_json()) const;
  RenderedChat render(const qwen3::ChatHistory& history, const TemplateOptions& options) const;

 private:
  TemplateFamily family_;
  std::shared_ptr<const jinja::Template> jinja_;  // null for the native renderer
};

// The note to show when a thinking switch is asked of a template that has none
// (enable_thinking given, or /think, /no_think in the last user message); empty if
// nothing is ignored.
std::string thinking_switch_note(const TemplateFamily& family, std::optional<bool> enable_thinking,
                                 const std::string& last_user_text = "");

// True if `tmpl` is the official template up to whitespace, i.e. render_chat gives the
// prompt this model was trained with. Callers warn and still render with ours otherwise.
bool is_official_qwen3_template(const std::string& tmpl);

}  // namespace qwen3::text
