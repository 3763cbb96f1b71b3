// `qwen3 tokenize`: text (--text, or stdin) -> JSON array of ids; --batch FILE (a JSON
// array of strings) -> JSON array of id arrays, in order.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "command.h"
#include "model_option.h"
#include "options_command.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string model;
  std::optional<std::string> text;
  std::string batch;
  bool no_special = false;
};

int bad_input(const std::string& msg) {
  std::cerr << "qwen3 tokenize: " << msg << "\n";
  return kExitBadInput;
}

int run(const Opts& o) {
  if (o.text && !o.batch.empty()) return bad_input("--text and --batch cannot be combined");
  std::vector<std::string> texts;
  if (!o.batch.empty()) {
    std::ifstream in(o.batch, std::ios::binary);
    if (!in) return bad_input("cannot open batch file " + o.batch);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      return bad_input(o.batch + " is not valid JSON: " + e.what());
    }
    if (!j.is_array()) return bad_input(o.batch + " must hold a JSON array of strings");
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        return bad_input(o.batch + ": element " + std::to_string(i) + " is not a string");
      }
      texts.push_back(j[i].get<std::string>());
    }
  }
  Tokenizer tok;
  try {
    tok = Tokenizer::from_file(o.model);
  } catch (const std::exception& e) {
    return bad_input(e.what());
  }
  const bool special = !o.no_special;
  if (!o.batch.empty()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : texts) out.push_back(tok.encode(t, special));
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::string text;
  if (o.text) {
    text = *o.text;
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::cout << nlohmann::json(tok.encode(text, special)).dump() << "\n";
  return kExitOk;
}

void add_options(CLI::App& app, Opts& o) {
  add_tokenizer_source_option(app, o.model);
  app.add_option("--text", o.text, "Text to tokenize (default: stdin)");
  app.add_option("--batch", o.batch,
                 "JSON file holding an array of strings; prints an array of id "
                 "arrays");
  app.add_flag("--no-special", o.no_special,
               "Treat special-token text such as <|im_start|> as plain text");
}

Registrar reg(options_command<Opts>("tokenize", "Text -> token ids as a JSON array", add_options,
                                    run));

}  // namespace
}  // namespace qwen3::cli
