// Regex -> GBNF by recursive descent (see regex_grammar.h).
#include "text/regex_grammar.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "text/char_escape.h"
#include "text/code_point_ranges.h"
#include "text/grammar.h"

namespace qwen3::text {
namespace {

using Ranges = CodePointRanges;

std::string hex8(std::uint32_t cp) {
  static const char* d = "0123456789ABCDEF";
  std::string s = "\\U";
  for (int k = 7; k >= 0; --k) s += d[(cp >> (4 * k)) & 15];
  return s;
}

const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}};

class RegexParser {
 public:
  RegexParser(std::string_view s, bool json, const RegexLimits& l) : s_(s), json_(json), l_(l) {}

  std::string run() {
    if (s_.size() > l_.max_bytes)
      fail("of " + std::to_string(s_.size()) + " bytes exceeds the limit of " +
           std::to_string(l_.max_bytes));
    if (!s_.empty() && s_[0] == '^') ++i_;
    std::string e = alternation(0);
    if (i_ < s_.size()) fail(s_[i_] == ')' ? "has an unmatched ')'" : "cannot be parsed");
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw GrammarError("regex " + what + " (at offset " + std::to_string(i_) + ")");
  }

  bool at_end_anchor() const { return i_ + 1 == s_.size() && s_[i_] == '$'; }

  std::string alternation(std::size_t depth) {
    std::vector<std::string> alts{sequence(depth)};
    while (i_ < s_.size() && s_[i_] == '|') {
      ++i_;
      alts.push_back(sequence(depth));
    }
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (std::size_t k = 0; k < alts.size(); ++k) out += (k ? " | " : "") + alts[k];
    return out + ")";
  }

  std::string sequence(std::size_t depth) {
    std::string out;
    while (i_ < s_.size() && s_[i_] != '|' && s_[i_] != ')') {
      if (at_end_anchor()) {
        ++i_;
        break;
      }
      std::string a = atom(depth);
      a = quantified(a);
      out += (out.empty() ? "" : " ") + a;
    }
    return out.empty() ? "\"\"" : "(" + out + ")";
  }

  std::string quantified(const std::string& a) {
    if (i_ >= s_.size()) return a;
    const char c = s_[i_];
    std::string q;
    if (c == '*' || c == '+' || c == '?') {
      q = std::string(1, c);
      ++i_;
    } else if (c == '{' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
      ++i_;
      const std::size_t m = number();
      std::size_t n = m;
      bool open = false;
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        if (i_ < s_.size() && s_[i_] == '}')
          open = true;
        else
          n = number();
      }
      if (i_ >= s_.size() || s_[i_] != '}') fail("has an unterminated {m,n}");
      ++i_;
      if (!open && n < m) fail("has {m,n} with n < m");
      q = "{" + std::to_string(m) + (open ? "," : (n != m ? "," + std::to_string(n) : "")) + "}";
    } else {
      return a;
    }
    if (i_ < s_.size() && s_[i_] == '?') ++i_;  // lazy: same language
    if (i_ < s_.size() && (s_[i_] == '*' || s_[i_] == '+' || s_[i_] == '{'))
      fail("has a quantifier after a quantifier");
    return "(" + a + ")" + q;
  }

  std::size_t number() {
    const std::size_t b = i_;
    std::size_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + static_cast<std::size_t>(s_[i_++] - '0');
      if (v > l_.max_repeat) fail("repeats more than " + std::to_string(l_.max_repeat) + " times");
    }
    if (b == i_) fail("expects a number in {m,n}");
    return v;
  }

  std::uint32_t hex(int n) {
    std::uint32_t v = 0;
    for (int k = 0; k < n; ++k) {
      if (i_ >= s_.size()) fail("has an unfinished escape");
      const char c = s_[i_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) fail("has a bad hex digit");
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return v;
  }

  std::uint32_t utf8() {
    const auto c = static_cast<unsigned char>(s_[i_]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i_ + static_cast<std::size_t>(len) > s_.size()) fail("is not valid UTF-8");
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const auto t = static_cast<unsigned char>(s_[i_ + static_cast<std::size_t>(k)]);
      if ((t & 0xC0) != 0x80) fail("is not valid UTF-8");
      cp = (cp << 6) | (t & 0x3F);
    }
    i_ += static_cast<std::size_t>(len);
    return cp;
  }

  // After a backslash: a class escape (into `cls`, returns true) or one code point.
  bool escape(Ranges& cls, std::uint32_t& cp) {
    if (i_ >= s_.size()) fail("ends with a backslash");
    const char e = s_[i_++];
    switch (e) {
      case 'd':
        cls = kDigit;
        return true;
      case 'w':
        cls = kWord;
        return true;
      case 's':
        cls = kSpace;
        return true;
      case 'D':
        cls = complement_ranges(kDigit);
        return true;
      case 'W':
        cls = complement_ranges(kWord);
        return true;
      case 'S':
        cls = complement_ranges(normalize_ranges(kSpace));
        return true;
      case 'n':
        cp = '\n';
        return false;
      case 't':
        cp = '\t';
        return false;
      case 'r':
        cp = '\r';
        return false;
      case 'f':
        cp = '\f';
        return false;
      case 'v':
        cp = '\v';
        return false;
      case '0':
        cp = 0;
        return false;
      case 'x':
        cp = hex(2);
        return false;
      case 'u':
        cp = hex(4);
        return false;
      case 'b':
      case 'B':
        fail("uses a word boundary (\\b), which is not supported");
      default:
        if (e >= '1' && e <= '9') fail("uses a back reference, which is not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
          fail(std::string("uses the unknown escape \\") + e);
        cp = static_cast<unsigned char>(e);
        if (cp >= 0x80) {
          --i_;
          cp = utf8();
        }
        return false;
    }
  }

  std::string chars(Ranges r) {
    r = normalize_ranges(std::move(r));
    if (json_) r = subtract_ranges(r, {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}});
    if (l_.classes_without_lt) r = subtract_ranges(r, {{'<', '<'}});
    if (r.empty()) fail("has a character class that matches nothing here");
    std::string out = "[";
    for (const auto& p : r)
      out += hex8(p.first) + (p.first != p.second ? "-" + hex8(p.second) : "");
    return out + "]";
  }

  std::string literal(std::uint32_t cp) {
    if (json_ && (cp < 0x20 || cp == '"' || cp == '\\')) {
      std::string esc;
      append_escaped(esc, std::string(1, static_cast<char>(cp)), kJsonEscapeStyle);
      return gbnf_literal(esc);
    }
    return "[" + hex8(cp) + "]";
  }

  std::string atom(std::size_t depth) {
    const char c = s_[i_];
    if (c == '(') {
      if (depth + 1 > l_.max_nesting)
        fail("nests groups deeper than " + std::to_string(l_.max_nesting));
      ++i_;
      if (i_ < s_.size() && s_[i_] == '?') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == ':') {
          i_ += 2;
        } else if (i_ + 1 < s_.size() && s_[i_ + 1] == '<' && i_ + 2 < s_.size() &&
                   s_[i_ + 2] != '=' && s_[i_ + 2] != '!') {
          while (i_ < s_.size() && s_[i_] != '>') ++i_;  // named group: the name is dropped
          if (i_ >= s_.size()) fail("has an unterminated group name");
          ++i_;
        } else {
          fail("uses a lookaround or group flag, which is not supported");
        }
      }
      std::string inner = alternation(depth + 1);
      if (i_ >= s_.size() || s_[i_] != ')') fail("has an unclosed '('");
      ++i_;
      return "(" + inner + ")";
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++i_;
      return chars(complement_ranges({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
    }
    if (c == '\\') {
      ++i_;
      Ranges cls;
      std::uint32_t cp = 0;
      if (escape(cls, cp)) return chars(cls);
      return literal(cp);
    }
    if (c == '*' || c == '+' || c == '?')
      fail(std::string("has '") + c + "' with nothing to repeat");
    if (c == '^') fail("has '^' in the middle, which is not supported");
    if (c == '$') fail("has '$' in the middle, which is not supported");
    if (c == '{' || c == '}' || c == ']') {
      ++i_;
      return literal(static_cast<unsigned char>(c));
    }
    return literal(utf8());
  }

  std::string char_class() {
    ++i_;
    bool neg = false;
    if (i_ < s_.size() && s_[i_] == '^') neg = true, ++i_;
    Ranges r;
    bool first = true;
    while (true) {
      if (i_ >= s_.size()) fail("has an unterminated character class");
      if (s_[i_] == ']' && !first) break;
      first = false;
      std::uint32_t lo;
      if (s_[i_] == '\\') {
        ++i_;
        Ranges cls;
        if (escape(cls, lo)) {
          r.insert(r.end(), cls.begin(), cls.end());
          continue;
        }
      } else if (s_[i_] == '[' && i_ + 1 < s_.size() && s_[i_ + 1] == ':') {
        fail("uses a POSIX class, which is not supported");
      } else {
        lo = utf8();
      }
      std::uint32_t hi = lo;
      if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        if (s_[i_] == '\\') {
          ++i_;
          Ranges cls;
          if (escape(cls, hi)) fail("has a class escape as a range end");
        } else {
          hi = utf8();
        }
        if (hi < lo) fail("has a character range out of order");
      }
      r.emplace_back(lo, hi);
    }
    ++i_;
    r = normalize_ranges(std::move(r));
    if (neg) r = complement_ranges(r);
    return chars(r);
  }

  std::string_view s_;
  bool json_;
  const RegexLimits& l_;
  std::size_t i_ = 0;
};

}  // namespace

std::string regex_to_gbnf(std::string_view re, bool json_string, const RegexLimits& limits) {
  return RegexParser(re, json_string, limits).run();
}

}  // namespace qwen3::text
