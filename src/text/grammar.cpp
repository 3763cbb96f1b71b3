// GBNF -> IR (a tree per rule) -> Thompson NFA over bytes -> one DFA per rule (subset
// construction; rule references are edges of their own). See grammar.h.
#include "text/grammar.h"

#include "text/char_escape.h"
#include "text/code_point_ranges.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>

namespace qwen3::text {
namespace {

constexpr std::size_t kInf = std::numeric_limits<std::size_t>::max();

using Ranges = CodePointRanges;

struct Node {
  enum Kind { kSeq, kAlt, kRepeat, kChars, kRef, kBytes };
  Kind kind = kSeq;
  std::vector<Node> kids;
  std::size_t min = 0, max = 0;  // kRepeat
  Ranges ranges;                 // kChars: sorted, disjoint code-point ranges
  std::string bytes;             // kBytes: an exact byte string (a special token)
  int ref = -1;                  // kRef
};

void encode_utf8(std::uint32_t cp, unsigned char* out, int& n) {
  if (cp < 0x80) {
    out[0] = static_cast<unsigned char>(cp);
    n = 1;
  } else if (cp < 0x800) {
    out[0] = static_cast<unsigned char>(0xC0 | (cp >> 6));
    out[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    out[0] = static_cast<unsigned char>(0xE0 | (cp >> 12));
    out[1] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    out[0] = static_cast<unsigned char>(0xF0 | (cp >> 18));
    out[1] = static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    n = 4;
  }
}

using ByteSeq = std::vector<std::pair<unsigned char, unsigned char>>;

// Code points lo..hi as sequences of byte ranges (the utf8-ranges splitting).
void utf8_sequences(std::uint32_t lo, std::uint32_t hi, std::vector<ByteSeq>& out) {
  if (lo > hi) return;
  if (lo <= 0xDFFF && hi >= 0xD800) {  // no surrogates
    if (lo < 0xD800) utf8_sequences(lo, 0xD7FF, out);
    if (hi > 0xDFFF) utf8_sequences(0xE000, hi, out);
    return;
  }
  for (std::uint32_t m : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= m && hi > m) {
      utf8_sequences(lo, m, out);
      utf8_sequences(m + 1, hi, out);
      return;
    }
  }
  if (hi <= 0x7F) {
    out.push_back({{static_cast<unsigned char>(lo), static_cast<unsigned char>(hi)}});
    return;
  }
  for (int i = 1; i <= 3; ++i) {
    const std::uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  unsigned char a[4], b[4];
  int na = 0, nb = 0;
  encode_utf8(lo, a, na);
  encode_utf8(hi, b, nb);
  ByteSeq seq;
  for (int k = 0; k < na; ++k) seq.emplace_back(a[k], b[k]);
  out.push_back(seq);
}

// ---------------------------------------------------------------------------------------
// GBNF parser

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  Parser(std::string_view s, const GrammarLimits& l) : s_(s), limits_(l) {}

  void parse() {
    if (s_.size() > limits_.max_text_bytes)
      fail("grammar of " + std::to_string(s_.size()) + " bytes exceeds the limit of " +
           std::to_string(limits_.max_text_bytes));
    space(true);
    while (i_ < s_.size()) {
      const std::size_t name_at = i_;
      std::string name = word();
      if (name.empty()) fail("expected a rule name");
      space(false);
      if (s_.substr(i_, 3) != "::=") fail("expected '::=' after rule name '" + name + "'");
      i_ += 3;
      space(true);
      const int id = rule_id(name);
      if (defined_[static_cast<std::size_t>(id)]) {
        i_ = name_at;
        fail("rule '" + name + "' is defined twice");
      }
      defs_[static_cast<std::size_t>(id)] = alternatives(false, 0);
      defined_[static_cast<std::size_t>(id)] = true;
      if (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') fail("expected the end of the line");
      space(true);
    }
    for (std::size_t r = 0; r < names_.size(); ++r)
      if (!defined_[r]) fail_at(first_use_line_[r], "rule '" + names_[r] + "' is not defined");
    if (!ids_.count("root")) throw GrammarError("grammar: no 'root' rule");
  }

  std::vector<Node> defs_;
  std::vector<std::string> names_;
  std::map<std::string, int> ids_;

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(line(), what); }
  [[noreturn]] static void fail_at(std::size_t line, const std::string& what) {
    throw GrammarError("grammar line " + std::to_string(line) + ": " + what);
  }
  std::size_t line() const {
    return 1 + static_cast<std::size_t>(
                   std::count(s_.begin(), s_.begin() + static_cast<std::ptrdiff_t>(i_), '\n'));
  }

  int rule_id(const std::string& name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    if (names_.size() >= limits_.max_rules)
      fail("more than " + std::to_string(limits_.max_rules) + " rules");
    const int id = static_cast<int>(names_.size());
    ids_[name] = id;
    names_.push_back(name);
    defs_.emplace_back();
    defined_.push_back(false);
    first_use_line_.push_back(line());
    return id;
  }

  void space(bool newlines) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
        ++i_;
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') ++i_;
      } else {
        break;
      }
    }
  }

  std::string word() {
    const std::size_t b = i_;
    while (i_ < s_.size() && is_word_char(s_[i_])) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  std::uint32_t hex(int digits) {
    std::uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (i_ >= s_.size()) fail("unfinished escape");
      const char c = s_[i_++];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) fail("bad hex digit in escape");
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    if (v > kMaxCodePoint) fail("code point beyond U+10FFFF");
    return v;
  }

  // One character of a literal or class: an escape or a UTF-8 code point.
  std::uint32_t character() {
    if (i_ >= s_.size()) fail("unexpected end of grammar");
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\\') {
      ++i_;
      if (i_ >= s_.size()) fail("unfinished escape");
      const char e = s_[i_++];
      switch (e) {
        case 'x':
          return hex(2);
        case 'u':
          return hex(4);
        case 'U':
          return hex(8);
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case 'n':
          return '\n';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^':
        case '/':
        case '\'':
          return static_cast<unsigned char>(e);
        default:
          fail(std::string("unknown escape '\\") + e + "'");
      }
    }
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i_ + static_cast<std::size_t>(len) > s_.size()) fail("invalid UTF-8");
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const unsigned char t = static_cast<unsigned char>(s_[i_ + static_cast<std::size_t>(k)]);
      if ((t & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (t & 0x3F);
    }
    i_ += static_cast<std::size_t>(len);
    return cp;
  }

  std::size_t number() {
    const std::size_t b = i_;
    std::size_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + static_cast<std::size_t>(s_[i_++] - '0');
      if (v > limits_.max_repeat)
        fail("repetition count above " + std::to_string(limits_.max_repeat));
    }
    if (i_ == b) fail("expected a number");
    return v;
  }

  Node alternatives(bool nested, std::size_t depth) {
    Node alt;
    alt.kind = Node::kAlt;
    alt.kids.push_back(sequence(nested, depth));
    while (i_ < s_.size() && s_[i_] == '|') {
      ++i_;
      space(true);
      alt.kids.push_back(sequence(nested, depth));
    }
    if (alt.kids.size() == 1) return std::move(alt.kids[0]);
    return alt;
  }

  Node sequence(bool nested, std::size_t depth) {
    Node seq;
    seq.kind = Node::kSeq;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        Node lit;
        lit.kind = Node::kSeq;
        while (true) {
          if (i_ >= s_.size()) fail("unterminated string literal");
          if (s_[i_] == '"') break;
          Node ch;
          ch.kind = Node::kChars;
          const std::uint32_t cp = character();
          ch.ranges = {{cp, cp}};
          lit.kids.push_back(std::move(ch));
        }
        ++i_;
        seq.kids.push_back(std::move(lit));
      } else if (c == '[') {
        ++i_;
        bool neg = false;
        if (i_ < s_.size() && s_[i_] == '^') {
          neg = true;
          ++i_;
        }
        Ranges r;
        while (true) {
          if (i_ >= s_.size()) fail("unterminated character class");
          if (s_[i_] == ']') break;
          const std::uint32_t lo = character();
          std::uint32_t hi = lo;
          if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
            ++i_;
            hi = character();
            if (hi < lo) fail("character range out of order");
          }
          r.emplace_back(lo, hi);
        }
        ++i_;
        Node ch;
        ch.kind = Node::kChars;
        ch.ranges = normalize_ranges(std::move(r));
        if (neg) ch.ranges = complement_ranges(ch.ranges);
        seq.kids.push_back(std::move(ch));
      } else if (c == '.') {
        ++i_;
        Node ch;
        ch.kind = Node::kChars;
        ch.ranges = {{0, kMaxCodePoint}};
        seq.kids.push_back(std::move(ch));
      } else if (is_word_char(c)) {
        Node ref;
        ref.kind = Node::kRef;
        ref.ref = rule_id(word());
        seq.kids.push_back(std::move(ref));
      } else if (c == '(') {
        if (depth + 1 > limits_.max_nesting)
          fail("parentheses nested deeper than " + std::to_string(limits_.max_nesting));
        ++i_;
        space(true);
        Node inner = alternatives(true, depth + 1);
        if (i_ >= s_.size() || s_[i_] != ')') fail("expected ')'");
        ++i_;
        seq.kids.push_back(std::move(inner));
      } else if (c == '<') {
        if (s_.substr(i_, 2) != "<[") fail("expected '<[ID]>' (a token id)");
        i_ += 2;
        const std::size_t b = i_;
        std::int64_t id = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - b < 9)
          id = id * 10 + (s_[i_++] - '0');
        if (i_ == b || s_.substr(i_, 2) != "]>") fail("expected '<[ID]>' (a token id)");
        i_ += 2;
        Node t;
        t.kind = Node::kBytes;
        t.bytes = special_token_bytes(static_cast<std::int32_t>(id));
        seq.kids.push_back(std::move(t));
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (seq.kids.empty()) fail(std::string("'") + c + "' without anything before it");
        ++i_;
        Node rep;
        rep.kind = Node::kRepeat;
        if (c == '*') {
          rep.min = 0, rep.max = kInf;
        } else if (c == '+') {
          rep.min = 1, rep.max = kInf;
        } else if (c == '?') {
          rep.min = 0, rep.max = 1;
        } else {
          space(false);
          rep.min = number();
          space(false);
          rep.max = rep.min;
          if (i_ < s_.size() && s_[i_] == ',') {
            ++i_;
            space(false);
            rep.max = i_ < s_.size() && s_[i_] == '}' ? kInf : number();
            space(false);
          }
          if (i_ >= s_.size() || s_[i_] != '}') fail("expected '}'");
          ++i_;
          if (rep.max < rep.min) fail("repetition {m,n} with n < m");
        }
        rep.kids.push_back(std::move(seq.kids.back()));
        seq.kids.back() = std::move(rep);
      } else {
        break;
      }
      space(nested);
    }
    if (seq.kids.size() == 1) return std::move(seq.kids[0]);
    return seq;
  }

  std::string_view s_;
  const GrammarLimits& limits_;
  std::size_t i_ = 0;
  std::vector<bool> defined_;
  std::vector<std::size_t> first_use_line_;
};

// ---------------------------------------------------------------------------------------
// NFA

struct Nfa {
  struct Edge {
    unsigned char lo, hi;
    int to;
  };
  std::vector<std::vector<int>> eps;
  std::vector<std::vector<Edge>> bytes;
  std::vector<std::vector<std::pair<int, int>>> refs;  // (rule, to)
  std::size_t limit = 0;

  int add() {
    if (eps.size() >= limit)
      throw GrammarError("grammar too large: more than " + std::to_string(limit) +
                         " automaton states (lower a repetition count)");
    eps.emplace_back();
    bytes.emplace_back();
    refs.emplace_back();
    return static_cast<int>(eps.size() - 1);
  }

  int build(const Node& n, int from) {
    switch (n.kind) {
      case Node::kSeq: {
        int cur = from;
        for (const auto& k : n.kids) cur = build(k, cur);
        return cur;
      }
      case Node::kAlt: {
        const int end = add();
        for (const auto& k : n.kids) {
          const int s = add();
          eps[static_cast<std::size_t>(from)].push_back(s);
          const int t = build(k, s);
          eps[static_cast<std::size_t>(t)].push_back(end);
        }
        return end;
      }
      case Node::kChars: {
        const int end = add();
        std::vector<ByteSeq> seqs;
        for (const auto& r : n.ranges) utf8_sequences(r.first, r.second, seqs);
        for (const auto& seq : seqs) {
          int cur = from;
          for (std::size_t k = 0; k < seq.size(); ++k) {
            const int to = k + 1 == seq.size() ? end : add();
            bytes[static_cast<std::size_t>(cur)].push_back({seq[k].first, seq[k].second, to});
            cur = to;
          }
        }
        return end;
      }
      case Node::kBytes: {
        int cur = from;
        for (unsigned char b : n.bytes) {
          const int to = add();
          bytes[static_cast<std::size_t>(cur)].push_back({b, b, to});
          cur = to;
        }
        return cur;
      }
      case Node::kRef: {
        const int end = add();
        refs[static_cast<std::size_t>(from)].emplace_back(n.ref, end);
        return end;
      }
      case Node::kRepeat: {
        const Node& k = n.kids[0];
        int cur = from;
        for (std::size_t i = 0; i < n.min; ++i) cur = build(k, cur);
        if (n.max == kInf) {
          const int head = add();
          eps[static_cast<std::size_t>(cur)].push_back(head);
          const int t = build(k, head);
          eps[static_cast<std::size_t>(t)].push_back(head);
          return head;
        }
        if (n.max == n.min) return cur;
        const int end = add();
        eps[static_cast<std::size_t>(cur)].push_back(end);
        for (std::size_t i = n.min; i < n.max; ++i) {
          cur = build(k, cur);
          eps[static_cast<std::size_t>(cur)].push_back(end);
        }
        return end;
      }
    }
    return from;
  }

  std::vector<int> closure(std::vector<int> set) const {
    std::vector<int> stack;
    std::vector<int> out;
    // Generation stamps: no clearing of a state-sized array per closure.
    if (seen_.size() != eps.size()) seen_.assign(eps.size(), 0);
    if (++stamp_ == 0) {
      std::fill(seen_.begin(), seen_.end(), 0);
      stamp_ = 1;
    }
    for (int s : set)
      if (seen_[static_cast<std::size_t>(s)] != stamp_) {
        seen_[static_cast<std::size_t>(s)] = stamp_;
        stack.push_back(s);
      }
    while (!stack.empty()) {
      const int s = stack.back();
      stack.pop_back();
      out.push_back(s);
      for (int t : eps[static_cast<std::size_t>(s)])
        if (seen_[static_cast<std::size_t>(t)] != stamp_) {
          seen_[static_cast<std::size_t>(t)] = stamp_;
          stack.push_back(t);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  mutable std::vector<unsigned> seen_;
  mutable unsigned stamp_ = 0;
};

}  // namespace

std::string special_token_bytes(std::int32_t id) {
  if (id < 0 || id >= (1 << 24))
    throw GrammarError("token id " + std::to_string(id) + " out of range");
  std::string s(4, '\0');
  s[0] = static_cast<char>(kSpecialTokenByte);
  s[1] = static_cast<char>((id >> 16) & 0xFF);
  s[2] = static_cast<char>((id >> 8) & 0xFF);
  s[3] = static_cast<char>(id & 0xFF);
  return s;
}

std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  append_escaped(out, text, kGbnfEscapeStyle);
  return out + "\"";
}

CompiledGrammar compile_gbnf(std::string_view gbnf, const GrammarLimits& limits) {
  Parser p(gbnf, limits);
  p.parse();
  const std::size_t n_rules = p.names_.size();

  Nfa nfa;
  nfa.limit = limits.max_nfa_states;
  std::vector<int> nfa_start(n_rules), nfa_final(n_rules);
  for (std::size_t r = 0; r < n_rules; ++r) {
    nfa_start[r] = nfa.add();
    nfa_final[r] = nfa.build(p.defs_[r], nfa_start[r]);
  }

  CompiledGrammar g;
  g.rule_names = p.names_;
  g.rule_start.resize(n_rules);
  std::vector<std::vector<std::pair<int, int>>> refs;  // per global state: (rule, ret)
  std::vector<std::vector<int>> bucket(256);
  for (std::size_t r = 0; r < n_rules; ++r) {
    std::map<std::vector<int>, std::int32_t> ids;
    std::vector<std::vector<int>> work;
    auto id_of = [&](std::vector<int> set) -> std::int32_t {
      set = nfa.closure(std::move(set));
      auto it = ids.find(set);
      if (it != ids.end()) return it->second;
      if (g.accepting.size() >= limits.max_dfa_states)
        throw GrammarError("grammar too large: more than " + std::to_string(limits.max_dfa_states) +
                           " states (lower a repetition count)");
      const auto id = static_cast<std::int32_t>(g.accepting.size());
      ids.emplace(set, id);
      g.accepting.push_back(std::binary_search(set.begin(), set.end(), nfa_final[r]) ? 1 : 0);
      g.has_bytes.push_back(0);
      g.state_rule.push_back(static_cast<std::int32_t>(r));
      g.trans.resize(g.trans.size() + 256, CompiledGrammar::kNone);
      refs.emplace_back();
      work.push_back(std::move(set));
      return id;
    };
    const std::int32_t first = static_cast<std::int32_t>(g.accepting.size());
    g.rule_start[r] = id_of({nfa_start[r]});
    for (std::size_t w = 0; w < work.size(); ++w) {
      const std::int32_t d = first + static_cast<std::int32_t>(w);
      const std::vector<int> set = work[w];  // copy: id_of grows `work`
      for (auto& b : bucket) b.clear();
      std::map<int, std::vector<int>> by_rule;
      for (int s : set) {
        for (const auto& e : nfa.bytes[static_cast<std::size_t>(s)])
          for (int b = e.lo; b <= e.hi; ++b) bucket[static_cast<std::size_t>(b)].push_back(e.to);
        for (const auto& rf : nfa.refs[static_cast<std::size_t>(s)])
          by_rule[rf.first].push_back(rf.second);
      }
      std::int32_t prev_id = CompiledGrammar::kNone;
      for (int b = 0; b < 256; ++b) {
        auto& bk = bucket[static_cast<std::size_t>(b)];
        if (bk.empty()) continue;
        std::sort(bk.begin(), bk.end());
        bk.erase(std::unique(bk.begin(), bk.end()), bk.end());
        std::int32_t t;
        if (b > 0 && prev_id != CompiledGrammar::kNone &&
            bk == bucket[static_cast<std::size_t>(b - 1)])
          t = prev_id;
        else
          t = id_of(bk);
        prev_id = t;
        g.trans[static_cast<std::size_t>(d) * 256 + static_cast<std::size_t>(b)] = t;
        g.has_bytes[static_cast<std::size_t>(d)] = 1;
      }
      for (auto& [rule, targets] : by_rule) {
        const std::int32_t t = id_of(targets);
        refs[static_cast<std::size_t>(d)].emplace_back(rule, t);
      }
    }
  }
  g.ref_begin.assign(g.accepting.size() + 1, 0);
  for (std::size_t s = 0; s < refs.size(); ++s) {
    g.ref_begin[s] = static_cast<std::uint32_t>(g.refs.size());
    for (const auto& [rule, ret] : refs[s])
      g.refs.push_back({g.rule_start[static_cast<std::size_t>(rule)], ret});
  }
  g.ref_begin[refs.size()] = static_cast<std::uint32_t>(g.refs.size());
  g.root = g.rule_start[static_cast<std::size_t>(p.ids_.at("root"))];

  // Nullable rules (can match nothing), then left recursion: a rule reaching itself
  // before any byte, which a pushdown matcher would expand forever.
  std::vector<char> nullable(n_rules, 0);
  auto reach_without_bytes = [&](std::size_t r, std::vector<std::int32_t>* rules_seen) {
    std::vector<std::int32_t> stack{g.rule_start[r]};
    std::vector<char> seen(g.n_states(), 0);
    seen[static_cast<std::size_t>(g.rule_start[r])] = 1;
    bool reaches_end = false;
    while (!stack.empty()) {
      const std::int32_t s = stack.back();
      stack.pop_back();
      if (g.accepting[static_cast<std::size_t>(s)]) reaches_end = true;
      for (auto k = g.ref_begin[static_cast<std::size_t>(s)];
           k < g.ref_begin[static_cast<std::size_t>(s) + 1]; ++k) {
        const auto& e = g.refs[k];
        const auto callee =
            static_cast<std::size_t>(g.state_rule[static_cast<std::size_t>(e.start)]);
        if (rules_seen) rules_seen->push_back(static_cast<std::int32_t>(callee));
        if (nullable[callee] && !seen[static_cast<std::size_t>(e.ret)]) {
          seen[static_cast<std::size_t>(e.ret)] = 1;
          stack.push_back(e.ret);
        }
      }
    }
    return reaches_end;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t r = 0; r < n_rules; ++r)
      if (!nullable[r] && reach_without_bytes(r, nullptr)) nullable[r] = 1, changed = true;
  }
  std::vector<std::vector<std::int32_t>> left(n_rules);
  for (std::size_t r = 0; r < n_rules; ++r) reach_without_bytes(r, &left[r]);
  std::vector<char> color(n_rules, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<std::size_t, std::size_t>> path;
  for (std::size_t r0 = 0; r0 < n_rules; ++r0) {
    if (color[r0]) continue;
    path.push_back({r0, 0});
    color[r0] = 1;
    while (!path.empty()) {
      auto& [r, k] = path.back();
      if (k == left[r].size()) {
        color[r] = 2;
        path.pop_back();
        continue;
      }
      const auto next = static_cast<std::size_t>(left[r][k++]);
      if (color[next] == 1)
        throw GrammarError("grammar: rule '" + g.rule_names[next] +
                           "' is left-recursive (it can reach itself before matching anything)");
      if (color[next] == 0) {
        color[next] = 1;
        path.push_back({next, 0});
      }
    }
  }
  return g;
}

namespace {

// Longest paths to an accepting state, memoised per state (-2 unvisited, -3 in progress,
// -1 unbounded, else bytes); recursion deeper than kMaxDepth gives up (unbounded).
struct LongestPath {
  const CompiledGrammar& g;
  std::vector<std::int64_t> memo;
  static constexpr std::int64_t kUnvisited = -2, kBusy = -3, kUnbounded = -1, kDead = -4;
  static constexpr int kMaxDepth = 8000;

  std::int64_t state(std::int32_t s, int depth) {
    std::int64_t& m = memo[static_cast<std::size_t>(s)];
    if (m == kBusy || depth > kMaxDepth) return kUnbounded;
    if (m != kUnvisited) return m;
    m = kBusy;
    std::int64_t best = g.accepting[static_cast<std::size_t>(s)] ? 0 : kDead;
    auto take = [&](std::int64_t add, std::int64_t rest) {
      if (best == kUnbounded) return;
      if (add == kUnbounded || rest == kUnbounded) {
        best = kUnbounded;
      } else if (add >= 0 && rest >= 0) {
        best = std::max(best, add + rest);
      }
    };
    for (int b = 0; b < 256 && best != kUnbounded; ++b) {
      const std::int32_t t = g.next(s, static_cast<unsigned char>(b));
      if (t != CompiledGrammar::kNone) take(1, state(t, depth + 1));
    }
    for (std::uint32_t k = g.ref_begin[static_cast<std::size_t>(s)];
         k < g.ref_begin[static_cast<std::size_t>(s) + 1] && best != kUnbounded; ++k) {
      const auto& e = g.refs[k];
      take(state(e.start, depth + 1), state(e.ret, depth + 1));
    }
    memo[static_cast<std::size_t>(s)] = best;
    return best;
  }
};

}  // namespace

std::optional<std::size_t> max_rule_bytes(const CompiledGrammar& g, const std::string& rule) {
  for (std::size_t r = 0; r < g.rule_names.size(); ++r) {
    if (g.rule_names[r] != rule) continue;
    LongestPath lp{g, std::vector<std::int64_t>(g.n_states(), LongestPath::kUnvisited)};
    const std::int64_t n = lp.state(g.rule_start[r], 0);
    if (n < 0) return std::nullopt;
    return static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

}  // namespace qwen3::text
