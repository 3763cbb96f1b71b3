// The native renderer of the official Qwen3 chat template (declared in chat_template.h):
// the template's branches written out in C++, byte-identical to @huggingface/jinja, with
// the byte ranges that came from messages and tools marked for the tokenizer.
#include "text/chat_template.h"

#include <cctype>
#include <stdexcept>
#include <string_view>

#include "text/jinja_value.h"
#include "text/json_limits.h"
#include "text/tojson.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kToolsHeader =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
constexpr std::string_view kToolsFooter =
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
    "<function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

// The template's .lstrip('\n') / .rstrip('\n') / .strip('\n'). Python's jinja2 strips
// only '\n'; @huggingface/jinja ignores the argument and trims JavaScript whitespace
// (the interpreter's own trim, jinja::js_trim_bounds). [begin, end) of `s` without the
// characters strip would remove.
std::pair<size_t, size_t> strip_bounds(std::string_view s, bool python) {
  if (python) {
    size_t b = s.find_first_not_of('\n');
    if (b == std::string_view::npos) return {s.size(), s.size()};
    return {b, s.find_last_not_of('\n') + 1};
  }
  return jinja::js_trim_bounds(s);
}

class Stripper {
 public:
  explicit Stripper(bool python) : python_(python) {}
  std::string lstrip(std::string_view s) const {
    return std::string(s.substr(strip_bounds(s, python_).first));
  }
  std::string rstrip(std::string_view s) const {
    auto [b, e] = strip_bounds(s, python_);
    return b == s.size() ? std::string() : std::string(s.substr(0, e));
  }
  std::string strip(std::string_view s) const {
    auto [b, e] = strip_bounds(s, python_);
    return std::string(s.substr(b, e - b));
  }

 private:
  bool python_;
};

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// s.split(sep)[0] and s.split(sep)[-1].
std::string_view before_first(std::string_view s, std::string_view sep) {
  size_t p = s.find(sep);
  return p == std::string_view::npos ? s : s.substr(0, p);
}
std::string_view after_last(std::string_view s, std::string_view sep) {
  size_t p = s.rfind(sep);
  return p == std::string_view::npos ? s : s.substr(p + sep.size());
}

class Renderer {
 public:
  Renderer(const std::vector<ChatMessage>& msgs, const TemplateOptions& opt)
      : msgs_(msgs), opt_(opt), strip_(opt.python_strip) {}

  // The message's content where the template concatenates it (null fails there).
  const std::string& content(size_t i) const {
    static const std::string kEmpty;
    const auto& c = msgs_[i].content;
    if (c) return *c;
    if (opt_.null_content_as_empty) return kEmpty;
    throw std::invalid_argument("message " + std::to_string(i) + " (" + msgs_[i].role +
                                "): content is null, which the Qwen3 template cannot render");
  }

  RenderedChat render(const ojson& tools) {
    const bool has_tools = tools.is_array() && !tools.empty();
    const bool first_is_system = !msgs_.empty() && msgs_[0].role == "system";
    if (has_tools) {
      out_ += "<|im_start|>system\n";
      if (first_is_system) {
        data(content(0));
        out_ += "\n\n";
      }
      out_ += kToolsHeader;
      for (const auto& tool : tools) {
        out_ += '\n';
        data(tojson(tool));
      }
      out_ += kToolsFooter;
    } else if (first_is_system) {
      out_ += "<|im_start|>system\n";
      data(content(0));
      out_ += "<|im_end|>\n";
    }
    const size_t n = msgs_.size();
    const long last_query = last_query_index();
    for (size_t i = 0; i < n; ++i) {
      const ChatMessage& m = msgs_[i];
      if (m.role == "user" || (m.role == "system" && i != 0)) {
        out_ += "<|im_start|>" + m.role + "\n";  // role: one of the four names
        data(content(i));
        out_ += "<|im_end|>\n";
      } else if (m.role == "assistant") {
        assistant(i, static_cast<long>(i) > last_query);
      } else if (m.role == "tool") {
        if (i == 0 || msgs_[i - 1].role != "tool") out_ += "<|im_start|>user";
        out_ += "\n<tool_response>\n";
        if (m.content) data(*m.content);  // jinja prints null as nothing here
        out_ += "\n</tool_response>";
        if (i + 1 == n || msgs_[i + 1].role != "tool") out_ += "<|im_end|>\n";
      }
    }
    if (opt_.add_generation_prompt) {
      out_ += "<|im_start|>assistant\n";
      if (opt_.enable_thinking.has_value() && !*opt_.enable_thinking) {
        out_ += "<think>\n\n</think>\n\n";
      }
    }
    return {std::move(out_), std::move(literal_)};
  }

 private:
  // The last user message that is not a pure <tool_response> (the multi_step_tool rule);
  // reasoning is kept only for assistant turns after it.
  long last_query_index() const {
    for (size_t k = msgs_.size(); k-- > 0;) {
      if (msgs_[k].role != "user") continue;
      const std::string& c = content(k);
      if (!(starts_with(c, "<tool_response>") && ends_with(c, "</tool_response>"))) {
        return static_cast<long>(k);
      }
    }
    return static_cast<long>(msgs_.size()) - 1;
  }

  void assistant(size_t i, bool after_last_query) {
    const ChatMessage& m = msgs_[i];
    std::string body = content(i);
    std::string reasoning;
    if (m.reasoning_content) {
      reasoning = *m.reasoning_content;
    } else if (body.find("</think>") != std::string::npos) {
      reasoning =
          strip_.lstrip(after_last(strip_.rstrip(before_first(body, "</think>")), "<think>"));
      body = strip_.lstrip(after_last(body, "</think>"));
    }
    out_ += "<|im_start|>assistant\n";
    if (after_last_query && (i + 1 == msgs_.size() || !reasoning.empty())) {
      out_ += "<think>\n";
      data(strip_.strip(reasoning));
      out_ += "\n</think>\n\n";
      data(strip_.lstrip(body));
    } else {
      data(body);
    }
    if (m.tool_calls.is_array()) {
      for (size_t k = 0; k < m.tool_calls.size(); ++k) {
        if (k > 0 || !body.empty()) out_ += '\n';
        tool_call(m.tool_calls[k]);
      }
    }
    out_ += "<|im_end|>\n";
  }

  void tool_call(const ojson& tc) {
    const ojson* call = &tc;
    auto fn = tc.find("function");
    if (fn != tc.end() && fn->is_object() && !fn->empty()) call = &*fn;
    out_ += "<tool_call>\n{\"name\": \"";
    data(call->at("name").get_ref<const std::string&>());
    out_ += "\", \"arguments\": ";
    auto args = call->find("arguments");
    if (args == call->end()) {
      out_ += "null";  // jinja: undefined | tojson
    } else if (args->is_string()) {
      data(args->get_ref<const std::string&>());
    } else {
      data(tojson(*args));
    }
    out_ += "}\n</tool_call>";
  }

  // Appends text that came from the messages or tools (never template text) and records
  // where it went; adjacent pieces make one range.
  void data(std::string_view s) {
    if (s.empty()) return;
    const size_t b = out_.size();
    out_ += s;
    if (!literal_.empty() && literal_.back().end == b)
      literal_.back().end = out_.size();
    else
      literal_.push_back({b, out_.size()});
  }

  const std::vector<ChatMessage>& msgs_;
  const TemplateOptions& opt_;
  Stripper strip_;
  std::string out_;
  TextRanges literal_;
};

std::string without_space(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

}  // namespace

RenderedChat render_chat_marked(const std::vector<ChatMessage>& messages, const ojson& tools,
                                const TemplateOptions& options) {
  if (!tools.is_null() && !tools.is_array()) {
    throw std::invalid_argument(std::string("tools must be a JSON array, not ") +
                                tools.type_name());
  }
  for (size_t i = 0; i < messages.size(); ++i) validate(messages[i], i);
  return Renderer(messages, options).render(tools);
}

std::string render_chat(const std::vector<ChatMessage>& messages, const ojson& tools,
                        const TemplateOptions& options) {
  return render_chat_marked(messages, tools, options).text;
}

std::string render_chat(const qwen3::ChatHistory& history, const TemplateOptions& options) {
  return render_chat_marked(history, options).text;
}

HistoryContext history_context(const qwen3::ChatHistory& history, const TemplateOptions& options) {
  HistoryContext c;
  c.options = options;
  if (!history.tools_json.empty()) {
    try {
      c.tools = parse_json(history.tools_json);
    } catch (const JsonError& e) {
      throw std::invalid_argument(std::string("tools_json: ") + e.what());
    }
  }
  if (history.extra_context_json.empty()) return c;
  try {
    c.extra = parse_json(history.extra_context_json);
  } catch (const JsonError& e) {
    throw std::invalid_argument(std::string("extra_context_json: ") + e.what());
  }
  if (!c.extra.is_object()) throw std::invalid_argument("extra_context_json must be an object");
  if (auto it = c.extra.find("enable_thinking"); it != c.extra.end() && it->is_boolean()) {
    if (!c.options.enable_thinking) c.options.enable_thinking = it->get<bool>();
    c.extra.erase(it);
  }
  if (auto it = c.extra.find("add_generation_prompt"); it != c.extra.end() && it->is_boolean()) {
    c.options.add_generation_prompt = it->get<bool>();
    c.extra.erase(it);
  }
  return c;
}

RenderedChat render_chat_marked(const qwen3::ChatHistory& history, const TemplateOptions& options) {
  const HistoryContext c = history_context(history, options);
  return render_chat_marked(from_public(history.messages), c.tools, c.options);
}

std::string render_fim(const std::string& prefix, const std::string& suffix) {
  return "<|fim_prefix|>" + prefix + "<|fim_suffix|>" + suffix + "<|fim_middle|>";
}

bool is_official_qwen3_template(const std::string& tmpl) {
  static const std::string kOfficial = without_space(official_qwen3_template());
  return without_space(tmpl) == kOfficial;
}

}  // namespace qwen3::text
