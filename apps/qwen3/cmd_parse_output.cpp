// `qwen3 parse-output`: a raw completion (special tokens written as text) on stdin is
// tokenized, fed token by token through the stream parser, and printed as
// {"reasoning_content", "content", "tool_calls"}. The tool-call form (JSON or
// Qwen3-Coder's XML) follows the model's chat template, or --template FILE.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "command.h"
#include "common/file_bytes.h"
#include "model_option.h"
#include "options_command.h"
#include "text/json_limits.h"
#include "text/stream_parser.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string model;
  bool thinking_open = false;
  std::vector<std::string> stop;
  std::string template_file;
  std::string tools;
};

std::string slurp(const std::string& path) {
  std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw std::invalid_argument("cannot open " + path);
  return std::move(*bytes);
}

int run(const Opts& o) {
  Tokenizer tok = Tokenizer::from_file(o.model);
  std::string raw(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>{});
  text::StreamParserOptions po;
  po.starts_in_reasoning = o.thinking_open;
  po.stop_strings = o.stop;
  const std::string tmpl = o.template_file.empty() ? tok.chat_template() : slurp(o.template_file);
  po.tool_format = text::detect_family(tmpl).tool_calls;
  if (!o.tools.empty()) {
    try {
      po.tools = text::parse_json(slurp(o.tools));
    } catch (const text::JsonError& e) {
      throw std::invalid_argument(o.tools + ": " + e.what());
    }
  }
  const auto msg = text::parse_output_ids(tok, tok.encode(raw, /*parse_special=*/true), po);
  std::cout << msg.to_json().dump() << "\n";
  return kExitOk;
}

void add_options(CLI::App& app, Opts& o) {
  add_tokenizer_source_option(app, o.model);
  app.add_flag("--thinking-open", o.thinking_open,
               "The prompt ended with <think>: output starts inside reasoning");
  app.add_option("--stop", o.stop, "Stop string (repeatable)");
  app.add_option("--template", o.template_file,
                 "Chat template file whose tool-call form to parse (default: "
                 "the model's)");
  app.add_option("--tools", o.tools, "JSON file: the request's tools (types XML argument values)");
}

Registrar reg(options_command<Opts>(
    "parse-output", "Raw model output on stdin -> reasoning, content, tool calls (JSON)",
    add_options, run));

}  // namespace
}  // namespace qwen3::cli
