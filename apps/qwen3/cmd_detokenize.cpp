// `qwen3 detokenize --ids 1,2,3`: token ids -> the text, written as is (no newline added).
#include <cstdint>
#include <iostream>
#include <memory>

#include "command.h"
#include "model_option.h"
#include "options_command.h"
#include "text/tokenizer.h"
#include "whole_int.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string model;
  std::string ids;
  bool skip_special = false;
};

int bad_input(const std::string& msg) {
  std::cerr << "qwen3 detokenize: " << msg << "\n";
  return kExitBadInput;
}

// "1,2,3" (spaces and surrounding [] allowed) -> ids; false on anything else.
bool parse_ids(std::string s, std::vector<int32_t>& ids, std::string& err) {
  for (char& c : s) {
    if (c == '[' || c == ']') c = ' ';
  }
  std::string item;
  auto flush = [&]() -> bool {
    const size_t b = item.find_first_not_of(" \t\n");
    if (b == std::string::npos) {
      err = "empty id in list";
      return false;
    }
    const std::string t = item.substr(b, item.find_last_not_of(" \t\n") - b + 1);
    const std::optional<long long> v = whole_int(t);
    if (!v || *v < INT32_MIN || *v > INT32_MAX) {
      err = "'" + t + "' is not a token id";
      return false;
    }
    ids.push_back(static_cast<int32_t>(*v));
    item.clear();
    return true;
  };
  if (s.find_first_not_of(" \t\n") == std::string::npos) return true;  // no ids: empty text
  for (char c : s) {
    if (c == ',') {
      if (!flush()) return false;
    } else {
      item.push_back(c);
    }
  }
  return flush();
}

int run(const Opts& o) {
  std::vector<int32_t> ids;
  std::string err;
  if (!parse_ids(o.ids, ids, err)) return bad_input("--ids: " + err);
  Tokenizer tok;
  try {
    tok = Tokenizer::from_file(o.model);
  } catch (const std::exception& e) {
    return bad_input(e.what());
  }
  std::string text;
  try {
    text = tok.decode(ids, o.skip_special);
  } catch (const std::exception& e) {
    return bad_input(e.what());
  }
  std::cout << text;
  std::cout.flush();
  return kExitOk;
}

void add_options(CLI::App& app, Opts& o) {
  add_tokenizer_source_option(app, o.model);
  app.add_option("--ids", o.ids, "Comma-separated token ids, e.g. 9707,1879")->required();
  app.add_flag("--skip-special", o.skip_special, "Leave out control tokens such as <|im_end|>");
}

Registrar reg(options_command<Opts>("detokenize", "Token ids -> text", add_options, run));

}  // namespace
}  // namespace qwen3::cli
