// `qwen3 template`: renders a conversation with the model's own chat template (or
// --template FILE), byte-exact, to stdout (no newline added); --batch FILE renders many
// cases into a JSON array.
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "command.h"
#include "common/file_bytes.h"
#include "model_option.h"
#include "options_command.h"
#include "text/chat_template.h"
#include "text/json_limits.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct Opts {
  std::string model;
  std::string messages;
  std::string tools;
  std::string batch;
  std::string template_file;
  bool no_think = false;
  bool no_generation_prompt = false;
};

std::string slurp(const std::string& path) {
  std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw std::invalid_argument("cannot open " + path);
  return std::move(*bytes);
}

// ordered_json keeps the key order of tool schemas, which the prompt reproduces. The
// server's depth limit applies (nothing renders deeper JSON); sizes are the file's own.
ojson read_json(const std::string& path) {
  const std::string text = slurp(path);
  text::JsonLimits limits;
  limits.max_string_bytes = limits.max_array_items = limits.max_object_members = limits.max_values =
      static_cast<std::size_t>(-1);
  try {
    return text::parse_json(text, limits);
  } catch (const text::JsonError& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

std::string render_case(const text::ChatTemplate& tmpl, const ojson& c, const std::string& where) {
  if (!c.is_object() || !c.contains("messages")) {
    throw std::invalid_argument(where + " must be an object with \"messages\"");
  }
  text::TemplateOptions o;
  if (auto it = c.find("add_generation_prompt"); it != c.end()) {
    if (!it->is_boolean())
      throw std::invalid_argument(where + ".add_generation_prompt must be a boolean");
    o.add_generation_prompt = it->get<bool>();
  }
  if (auto it = c.find("enable_thinking"); it != c.end() && !it->is_null()) {
    if (!it->is_boolean())
      throw std::invalid_argument(where + ".enable_thinking must be a boolean");
    o.enable_thinking = it->get<bool>();
  }
  ojson tools = c.contains("tools") ? c["tools"] : ojson();
  try {
    return tmpl.render(text::messages_from_json(c["messages"]), tools, o).text;
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
}

int run(const Opts& o) {
  if (o.batch.empty() == o.messages.empty()) {
    throw std::invalid_argument("give exactly one of --messages and --batch");
  }
  std::string source;
  if (o.template_file.empty()) {
    source = Tokenizer::from_file(o.model).chat_template();
  } else {
    source = slurp(o.template_file);
  }
  const text::ChatTemplate tmpl(source);
  if (!o.batch.empty()) {
    ojson cases = read_json(o.batch);
    if (!cases.is_array())
      throw std::invalid_argument(o.batch + " must hold a JSON array of cases");
    ojson out = ojson::array();
    for (size_t i = 0; i < cases.size(); ++i) {
      out.push_back(render_case(tmpl, cases[i], o.batch + ": case " + std::to_string(i)));
    }
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  // --messages holds an array of messages, or a case object {"messages", "tools"?, ...}.
  ojson msgs = read_json(o.messages);
  ojson c = msgs.is_object() ? msgs : ojson{{"messages", msgs}};
  if (!o.tools.empty()) c["tools"] = read_json(o.tools);
  if (o.no_think) c["enable_thinking"] = false;
  if (o.no_generation_prompt) c["add_generation_prompt"] = false;
  if (o.no_think) {
    const std::string note = text::thinking_switch_note(tmpl.family(), false);
    if (!note.empty()) std::cerr << "qwen3 template: note: " << note << "\n";
  }
  std::cout << render_case(tmpl, c, o.messages);
  std::cout.flush();
  return kExitOk;
}

void add_options(CLI::App& app, Opts& o) {
  add_tokenizer_source_option(app, o.model);
  app.add_option("--messages", o.messages, "JSON file: an array of OpenAI-style messages");
  app.add_option("--tools", o.tools, "JSON file: an array of tool definitions");
  app.add_option("--template", o.template_file,
                 "Jinja chat template file to render with instead of the model's");
  app.add_option("--batch", o.batch,
                 "JSON file: an array of {messages, tools?, enable_thinking?, "
                 "add_generation_prompt?}; prints a JSON array of prompts");
  app.add_flag("--no-think", o.no_think, "enable_thinking=false: append an empty think block");
  app.add_flag("--no-generation-prompt", o.no_generation_prompt,
               "Do not open an assistant turn at the end");
}

Registrar reg(options_command<Opts>("template",
                                    "Render a conversation with the model's chat template",
                                    add_options, run));

}  // namespace
}  // namespace qwen3::cli
