// Finds stop strings in streamed text without ever releasing part of one: text that could
// be the start of a stop string is held back until the next delta decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qwen3::engine {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Appends `delta`; returns the text that is now certain not to belong to a stop string.
  // Once a stop string is complete, returns the text before it and stopped() turns true;
  // later calls return "".
  std::string push(std::string_view delta);
  // End of generation: releases whatever was held back (nothing after a stop).
  std::string flush();
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }  // the stop string found

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace qwen3::engine
