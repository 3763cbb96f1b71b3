// Incremental parser of one <tool_call> block's body, so that a call's name and its
// arguments can be streamed while the model writes them (as OpenAI streams
// `function.arguments` in pieces). The argument text it produces piece by piece IS the
// call's final `arguments`: their concatenation equals it byte for byte.
//
// JSON form ({"name": "fn", "arguments": {...}}): once the text up to the `{` of the
// arguments object has arrived (name first, "arguments" or "parameters" second), the call
// has begun; the object's bytes follow as written, minus the whitespace outside strings
// (compact JSON, the model's own number and escape spellings). Any other shape (arguments
// before the name, arguments as a string, ...) is parsed whole at the end of the block.
//
// XML form (Qwen3-Coder: <function=NAME><parameter=P>value</parameter>...</function>):
// the call begins at `<function=NAME>`; the argument text opens with `{`, each parameter
// adds `"P":` and its value, converted to JSON as it arrives: string values (and values of
// parameters the tools do not declare) are escaped and streamed, other declared types
// (integer, number, boolean, object, array) are converted when their value is complete;
// `}` closes at the end of the block. A parameter named twice keeps its first value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "qwen3/chat.h"
#include "text/chat_template.h"
#include "text/tool_call.h"

namespace qwen3::text {

class ToolCallStream {
 public:
  // tools: the request's OpenAI tools array (types XML values); may be null.
  ToolCallStream(ToolCallFormat format, const nlohmann::ordered_json* tools);

  // More of the body, in order, cut anywhere (whole UTF-8 sequences). Argument text that
  // is final appends to `args`.
  void push(std::string_view text, std::string& args);
  // The end of the block: appends the last argument text and returns the call (id left
  // empty), or nullopt when the body is not a call (never after started()).
  std::optional<qwen3::ToolCall> finish(std::string& args);

  // The name is known and the arguments stream from here on.
  bool started() const { return started_; }
  const std::string& name() const { return name_; }
  // Everything pushed, as written (shown as content when the block is not a call).
  const std::string& body() const { return body_; }

 private:
  void step(bool final, std::string& args);
  void json_head(bool final, std::string& args);
  void json_args(std::string& args);
  void xml_step(bool final, std::string& args);
  bool xml_value(bool final, std::string& args);  // true when the value ended
  void xml_end_value(std::string_view value, std::string& args);
  void emit(std::string_view s, std::string& args);

  enum class Phase { kHead, kArgs, kTail, kWhole, kNotCall, kBetween, kParamName, kValue, kDone };
  ToolCallFormat format_;
  const nlohmann::ordered_json* tools_;
  Phase phase_ = Phase::kHead;
  bool started_ = false;
  std::string name_;
  std::string body_;
  std::string buf_;        // text not consumed yet
  size_t scanned_ = 0;     // buf_ before this holds no terminator (kParamName, kValue)
  std::string arguments_;  // everything emitted
  // JSON arguments scanner
  int depth_ = 0;
  bool in_string_ = false, escape_ = false;
  // XML
  std::vector<std::string> seen_params_;
  bool skip_param_ = false;     // a repeated name: its value is dropped
  XmlParamType param_type_;     // the declared type ("" = undeclared)
  bool value_started_ = false;  // the first byte of the value (framing '\n') was looked at
  bool quote_open_ = false;     // a string value's opening quote was emitted
  std::string value_held_;      // a typed value (or a string value that may be "null")
};

}  // namespace qwen3::text
