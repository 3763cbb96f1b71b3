// Running a command line as a user would (the built `qwen3`, node, a shell pipeline) and
// capturing what it printed, for the tests that drive programs from outside: its standard
// output and exit status (-1 when it did not exit normally), or with a given standard input
// and its standard error apart; and the bytes of a file, and writing one. One copy of the
// popen loop.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace qwen3::test {

struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;  // only from run_with_input
};

// Runs `cmd` with /bin/sh; `out` is its standard output (add 2>&1 to the command for both).
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The standard output of `cmd` alone.
inline std::string run_capture(const std::string& cmd) {
  return run_command(cmd).out;
}

// The bytes of a file; "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Writes `text` to a file (binary), replacing it.
inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Runs `cmd` with `input` as its standard input; its standard output and standard error
// apart. The input and the error stream go through the files `scratch`.stdin / .stderr.
inline CommandResult run_with_input(const std::string& cmd, const std::string& input,
                                    const std::string& scratch) {
  const std::string in = scratch + ".stdin", err = scratch + ".stderr";
  write_file(in, input);
  CommandResult r = run_command(cmd + " < '" + in + "' 2> '" + err + "'");
  r.err = read_file(err);
  return r;
}

}  // namespace qwen3::test
