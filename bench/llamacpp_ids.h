// The token-id files the llama.cpp reference drivers (llamacpp_logits, llamacpp_mtmd) read:
// ids separated by commas or white space, as the tests and crosscheck scripts write them.
// One reader for both drivers.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llama.h"

// The ids of `path` into `ids` (appended); false when the file cannot be opened.
inline bool read_token_ids(const std::string& path, std::vector<llama_token>& ids) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  for (char& ch : text)
    if (ch == ',') ch = ' ';
  std::istringstream is(text);
  for (long v; is >> v;) ids.push_back(static_cast<llama_token>(v));
  return true;
}
