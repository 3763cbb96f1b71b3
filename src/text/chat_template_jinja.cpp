// ChatTemplate: the model's own chat template, rendered by the Jinja interpreter, or by
// the native Qwen3 renderer when the template is the official one byte for byte; the
// family detection (thinking switch, tool-call form) and the thinking-switch note.
#include <mutex>
#include <unordered_map>

#include "text/chat_template.h"
#include "text/jinja_template.h"
#include "text/json_limits.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

bool contains(const std::string& s, const char* what) {
  return s.find(what) != std::string::npos;
}

bool is_exact_official(const std::string& source) {
  const std::string& o = official_qwen3_template();
  return source.empty() || source == o || source == o + "\n";
}

// tool_calls[].function.arguments given as JSON text, parsed into an object for
// templates that iterate the arguments (Qwen3-Coder: `arguments|items`). Text that is
// not a JSON object is left as it is (the template then decides).
ojson arguments_as_objects(ojson calls) {
  if (!calls.is_array()) return calls;
  for (auto& c : calls) {
    if (!c.is_object()) continue;
    ojson* fn = &c;
    if (auto f = c.find("function"); f != c.end() && f->is_object()) fn = &*f;
    auto a = fn->find("arguments");
    if (a == fn->end() || !a->is_string()) continue;
    try {
      ojson parsed = parse_json(a->get_ref<const std::string&>());
      if (parsed.is_object()) *a = std::move(parsed);
    } catch (const JsonError&) {
    }
  }
  return calls;
}

}  // namespace

TemplateFamily detect_family(const std::string& source) {
  TemplateFamily f;
  f.native = is_exact_official(source);
  const std::string& s = source.empty() ? official_qwen3_template() : source;
  f.thinking_switch = contains(s, "enable_thinking");
  f.tool_calls = contains(s, "<function=") ? ToolCallFormat::kXml : ToolCallFormat::kJson;
  f.arguments_as_object = contains(s, "arguments|items") || contains(s, "arguments | items");
  if (f.native)
    f.name = "qwen3";
  else if (f.tool_calls == ToolCallFormat::kXml)
    f.name = "qwen3-coder";
  else if (contains(s, "<|im_start|>assistant\\n<think>\\n"))
    f.name = "thinking";  // QwQ, Qwen3-2507 Thinking: the generation prompt opens <think>
  else
    f.name = "jinja";
  return f;
}

ChatTemplate::ChatTemplate(const std::string& source) : family_(detect_family(source)) {
  if (!family_.native) jinja_ = std::make_shared<const jinja::Template>(source);
}

std::shared_ptr<const ChatTemplate> ChatTemplate::for_source(const std::string& source) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const ChatTemplate>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(source);
  if (it != cache.end()) return it->second;
  auto t = std::make_shared<const ChatTemplate>(source);
  if (cache.size() >= 16) cache.clear();  // a handful of models per process
  cache.emplace(source, t);
  return t;
}

RenderedChat ChatTemplate::render(const std::vector<ChatMessage>& messages, const ojson& tools,
                                  const TemplateOptions& options,
                                  const ojson& extra_context) const {
  if (!tools.is_null() && !tools.is_array())
    throw std::invalid_argument(std::string("tools must be a JSON array, not ") +
                                tools.type_name());
  if (family_.native) return render_chat_marked(messages, tools, options);
  ojson ctx = ojson::object();
  if (extra_context.is_object())
    for (auto it = extra_context.begin(); it != extra_context.end(); ++it)
      ctx[it.key()] = it.value();
  ojson msgs = ojson::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    validate(messages[i], i);
    ojson m = to_json(messages[i]);
    if (!messages[i].content && options.null_content_as_empty) m["content"] = "";
    if (family_.arguments_as_object && m.contains("tool_calls"))
      m["tool_calls"] = arguments_as_objects(std::move(m["tool_calls"]));
    msgs.push_back(std::move(m));
  }
  ctx["messages"] = std::move(msgs);
  if (!tools.is_null()) ctx["tools"] = tools;
  ctx["add_generation_prompt"] = options.add_generation_prompt;
  if (options.enable_thinking) ctx["enable_thinking"] = *options.enable_thinking;
  if (!ctx.contains("bos_token")) ctx["bos_token"] = "";
  if (!ctx.contains("eos_token")) ctx["eos_token"] = "<|im_end|>";
  jinja::Str out = jinja_->render(ctx);
  return {std::move(out.s), std::move(out.data)};
}

RenderedChat ChatTemplate::render(const qwen3::ChatHistory& history,
                                  const TemplateOptions& options) const {
  if (family_.native) return render_chat_marked(history, options);
  const HistoryContext c = history_context(history, options);
  return render(from_public(history.messages), c.tools, c.options, c.extra);
}

std::string thinking_switch_note(const TemplateFamily& family, std::optional<bool> enable_thinking,
                                 const std::string& last_user_text) {
  if (family.thinking_switch) return "";
  std::string what;
  if (enable_thinking)
    what = std::string("enable_thinking=") + (*enable_thinking ? "true" : "false");
  for (const char* sw : {"/no_think", "/think"}) {
    if (last_user_text.find(sw) != std::string::npos) {
      what += what.empty() ? sw : std::string(" and ") + sw;
      break;
    }
  }
  if (what.empty()) return "";
  return what + " ignored: this model's chat template has no thinking switch";
}

}  // namespace qwen3::text
