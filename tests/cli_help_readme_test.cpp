// Keeps the README's command reference true: every subcommand `qwen3 --help` lists has a
// row in README.md's "Command-line reference" table, every flag its `--help` lists is
// named in that row (or in the section's text below the table), and every flag a row
// names exists in that command's `--help`. Runs the real binary; no model needed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"

namespace {

std::string capture(const std::string& args) {
  return qwen3::test::run_capture(std::string(QWEN3_BIN) + " " + args + " 2>&1 </dev/null");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The subcommands of `qwen3 --help` (CLI11: a "Subcommands:" block of "  name  help").
std::vector<std::string> subcommands() {
  std::vector<std::string> out;
  bool in_block = false;
  for (const auto& l : lines_of(capture("--help"))) {
    if (l.rfind("SUBCOMMANDS:", 0) == 0 || l.rfind("Subcommands:", 0) == 0) {
      in_block = true;
      continue;
    }
    if (!in_block || l.size() < 3 || l[0] != ' ') continue;
    std::string name;
    for (std::size_t i = 2; i < l.size() && !std::isspace(static_cast<unsigned char>(l[i])); ++i)
      name += l[i];
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

// The names of each option of `qwen3 CMD --help`, e.g. {"-m", "--model"}; without -h/--help.
std::vector<std::vector<std::string>> options_of(const std::string& cmd) {
  std::vector<std::vector<std::string>> out;
  for (const auto& l : lines_of(capture(cmd + " --help"))) {
    std::size_t i = l.find_first_not_of(' ');
    if (i == std::string::npos || i == 0 || l[i] != '-') continue;
    std::size_t end = l.find(' ', i);
    std::string spec = l.substr(i, end == std::string::npos ? std::string::npos : end - i);
    std::vector<std::string> names;
    std::stringstream ss(spec);
    for (std::string n; std::getline(ss, n, ',');) {
      if (!n.empty() && n[0] == '-') names.push_back(n);
    }
    if (names.empty() || names.back() == "--help") continue;
    out.push_back(names);
  }
  return out;
}

// The README's command reference: the section's table rows by command, and its other text.
struct Reference {
  std::map<std::string, std::string> rows;  // "run" -> the whole row
  std::string text;                         // the section without the table
};

Reference readme_reference() {
  std::ifstream in(std::string(QWEN3_SOURCE_DIR) + "/README.md");
  Reference ref;
  bool in_section = false;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("## ", 0) == 0) {
      in_section = l == "## Command-line reference";
      continue;
    }
    if (!in_section) continue;
    const std::string lead = "| `qwen3 ";
    if (l.rfind(lead, 0) == 0) {
      std::size_t end = l.find_first_of(" `", lead.size());
      ref.rows[l.substr(lead.size(), end - lead.size())] += l + "\n";
    } else {
      ref.text += l + "\n";
    }
  }
  return ref;
}

// `flag` occurs in `text` as a whole flag (not as the start of a longer one).
bool names_flag(const std::string& text, const std::string& flag) {
  auto part = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  };
  for (std::size_t at = text.find(flag); at != std::string::npos; at = text.find(flag, at + 1)) {
    const bool left = at == 0 || !part(text[at - 1]);
    const std::size_t e = at + flag.size();
    const bool right = e >= text.size() || !part(text[e]);
    if (left && right) return true;
  }
  return false;
}

// Every --long-flag (and -x short flag) written in a README row.
std::set<std::string> flags_in(const std::string& row) {
  std::set<std::string> out;
  for (std::size_t i = 0; i + 1 < row.size(); ++i) {
    if (row[i] != '-' || (i > 0 && (std::isalnum(static_cast<unsigned char>(row[i - 1])) ||
                                    row[i - 1] == '-' || row[i - 1] == '>' || row[i - 1] == '_')))
      continue;
    std::size_t j = i + 1;
    if (row[j] == '-') ++j;
    if (j >= row.size() || !std::isalpha(static_cast<unsigned char>(row[j]))) continue;
    std::size_t e = j;
    while (e < row.size() && (std::isalnum(static_cast<unsigned char>(row[e])) || row[e] == '-'))
      ++e;
    std::string flag = row.substr(i, e - i);
    if (flag.back() == '-') continue;
    const bool short_flag = flag[1] != '-';
    // Short flags are one or two letters (-m, -p, -hf); longer single-dash words are prose.
    if (short_flag && flag.size() > 3) continue;
    out.insert(flag);
    i = e;
  }
  return out;
}

TEST(CliHelpReadme, EveryCommandAndFlagIsInTheReadme) {
  const Reference ref = readme_reference();
  ASSERT_FALSE(ref.rows.empty()) << "no '## Command-line reference' table in README.md";
  const auto cmds = subcommands();
  ASSERT_GT(cmds.size(), 10u);
  std::string missing;
  for (const auto& cmd : cmds) {
    auto row = ref.rows.find(cmd);
    std::string where = row == ref.rows.end() ? "" : row->second;
    // "[the sampling flags of run]" brings run's row in.
    if (where.find("flags of run") != std::string::npos)
      where += ref.rows.count("run") ? ref.rows.at("run") : "";
    // Some commands share a row ("qwen3 list" in pull's row).
    for (const auto& [other, text] : ref.rows)
      if (text.find("`qwen3 " + cmd + " ") != std::string::npos ||
          text.find("`qwen3 " + cmd + "`") != std::string::npos)
        where += text;
    if (where.empty()) {
      missing += "no README row for `qwen3 " + cmd + "`\n";
      continue;
    }
    where += ref.text;
    for (const auto& names : options_of(cmd)) {
      bool found = false;
      for (const auto& n : names) found = found || names_flag(where, n);
      if (!found) missing += "qwen3 " + cmd + ": " + names.back() + " is not in the README\n";
    }
  }
  EXPECT_TRUE(missing.empty()) << missing;
}

TEST(CliHelpReadme, EveryFlagInTheReadmeExists) {
  const Reference ref = readme_reference();
  const auto cmds = subcommands();
  const std::set<std::string> known(cmds.begin(), cmds.end());
  std::string wrong;
  for (const auto& [cmd, row] : ref.rows) {
    if (!known.count(cmd)) {
      wrong += "README row for `qwen3 " + cmd + "`, which is not a command\n";
      continue;
    }
    std::set<std::string> flags;
    for (const auto& names : options_of(cmd)) flags.insert(names.begin(), names.end());
    // A row may also show the commands it mentions (`qwen3 list [--json]` in pull's row).
    for (const auto& other : cmds) {
      if (other != cmd && row.find("`qwen3 " + other) != std::string::npos)
        for (const auto& names : options_of(other)) flags.insert(names.begin(), names.end());
    }
    if (row.find("flags of run") != std::string::npos)
      for (const auto& names : options_of("run")) flags.insert(names.begin(), names.end());
    flags.insert({"--help", "-h"});
    for (const auto& f : flags_in(row)) {
      if (!flags.count(f))
        wrong += "qwen3 " + cmd + ": the README names " + f + ", --help does not\n";
    }
  }
  EXPECT_TRUE(wrong.empty()) << wrong;
}

}  // namespace
