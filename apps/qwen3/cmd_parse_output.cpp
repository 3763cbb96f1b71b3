// `qwen3 parse-output`: a raw completion (special tokens written as text) on stdin is
// tokenized, fed token by token through the stream parser, and printed as
// {"reasoning_content", "content", "tool_calls"}.
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "text/stream_parser.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string model;
  bool thinking_open = false;
  std::vector<std::string> stop;
};

int run(const Opts& o) {
  Tokenizer tok = Tokenizer::from_file(o.model);
  std::string raw(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>{});
  text::StreamParserOptions po;
  po.starts_in_reasoning = o.thinking_open;
  po.stop_strings = o.stop;
  const auto msg = text::parse_output_ids(tok, tok.encode(raw, /*parse_special=*/true), po);
  std::cout << msg.to_json().dump() << "\n";
  return kExitOk;
}

Registrar reg({"parse-output", "Raw model output on stdin -> reasoning, content, tool calls (JSON)",
               [](CLI::App& app) {
                 auto opts = std::make_shared<Opts>();
                 app.add_option("-m,--model", opts->model,
                                "GGUF file, model folder, or tokenizer.json")
                     ->required();
                 app.add_flag("--thinking-open", opts->thinking_open,
                              "The prompt ended with <think>: output starts inside reasoning");
                 app.add_option("--stop", opts->stop, "Stop string (repeatable)");
                 return [opts]() { return run(*opts); };
               }});

}  // namespace
}  // namespace qwen3::cli
