// Lexer and recursive-descent parser of chat templates (see jinja_ast.h), written to
// accept exactly what @huggingface/jinja accepts for the constructs chat templates use.
#include <cstdlib>

#include "text/jinja_ast.h"
#include "text/jinja_value.h"
#include "text/utf8.h"

namespace qwen3::text::jinja {
namespace {

[[noreturn]] void fail(std::string_view source, size_t pos, const std::string& msg) {
  throw TemplateError("chat template " + position_text(source, pos) + ": " + msg);
}

// The preprocessed template and, per byte, its offset in the original.
struct Source {
  std::string s;
  std::vector<uint32_t> orig;
  void push(char c, size_t o) {
    s += c;
    orig.push_back(static_cast<uint32_t>(o));
  }
  size_t at(size_t i) const {
    return i < orig.size() ? orig[i] : (orig.empty() ? 0 : orig.back() + 1);
  }
};

bool is_line_start(const Source& in, size_t i) {
  if (i == 0) return true;
  const std::string& s = in.s;
  const char p = s[i - 1];
  if (p == '\n' || p == '\r') return true;
  // U+2028 / U+2029 (E2 80 A8 / A9) end lines too for JavaScript's multiline ^.
  return i >= 3 && static_cast<unsigned char>(s[i - 3]) == 0xE2 &&
         static_cast<unsigned char>(s[i - 2]) == 0x80 &&
         (static_cast<unsigned char>(p) == 0xA8 || static_cast<unsigned char>(p) == 0xA9);
}

Source preprocess(std::string_view tmpl) {
  Source a;
  size_t n = tmpl.size();
  if (n > 0 && tmpl[n - 1] == '\n') --n;
  for (size_t i = 0; i < n; ++i) a.push(tmpl[i], i);
  // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"
  Source b;
  for (size_t i = 0; i < a.s.size();) {
    if (is_line_start(a, i)) {
      size_t j = i;
      while (j < a.s.size() && (a.s[j] == ' ' || a.s[j] == '\t')) ++j;
      if (j > i && j + 1 < a.s.size() && a.s[j] == '{' &&
          (a.s[j + 1] == '#' || a.s[j + 1] == '%' || a.s[j + 1] == '-')) {
        i = j;
      }
    }
    b.push(a.s[i], a.orig[i]);
    ++i;
  }
  // trim_blocks: /([#%-]})\n/g -> "$1"
  Source c;
  for (size_t i = 0; i < b.s.size();) {
    const char ch = b.s[i];
    if ((ch == '#' || ch == '%' || ch == '-') && i + 2 < b.s.size() && b.s[i + 1] == '}' &&
        b.s[i + 2] == '\n') {
      c.push(ch, b.orig[i]);
      c.push('}', b.orig[i + 1]);
      i += 3;
      continue;
    }
    c.push(ch, b.orig[i]);
    ++i;
  }
  // /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs: (lstrip ? "" : before) + (rstrip ? "" :
  // after)
  if (c.s.find("generation") == std::string::npos) return c;
  Source d;
  const std::string& s = c.s;
  size_t i = 0;
  while (i < s.size()) {
    // Try a match starting at i: whitespace run, then the tag.
    size_t j = i;
    while (size_t w = js_space_at(s, j)) j += w;
    size_t k = j;
    bool match = false;
    bool lstrip = false, rstrip = false;
    size_t end = 0;
    if (s.compare(k, 2, "{%") == 0) {
      k += 2;
      if (k < s.size() && s[k] == '-') {
        lstrip = true;
        ++k;
      }
      while (size_t w = js_space_at(s, k)) k += w;
      if (s.compare(k, 3, "end") == 0 && s.compare(k + 3, 10, "generation") == 0) k += 3;
      if (s.compare(k, 10, "generation") == 0) {
        k += 10;
        while (size_t w = js_space_at(s, k)) k += w;
        if (k < s.size() && s[k] == '-') {
          rstrip = true;
          ++k;
        }
        if (s.compare(k, 2, "%}") == 0) {
          k += 2;
          match = true;
          end = k;
          while (size_t w = js_space_at(s, end)) end += w;
        }
      }
    }
    if (!match) {
      d.push(s[i], c.orig[i]);
      ++i;
      continue;
    }
    if (!lstrip)
      for (size_t t = i; t < j; ++t) d.push(s[t], c.orig[t]);
    if (!rstrip)
      for (size_t t = k; t < end; ++t) d.push(s[t], c.orig[t]);
    i = end;
  }
  return d;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

class Lexer {
 public:
  Lexer(std::string_view original, Source src) : orig_(original), src_(std::move(src)) {}

  std::vector<Token> run() {
    const std::string& s = src_.s;
    while (i_ < s.size()) {
      const Tok* last = tokens_.empty() ? nullptr : &tokens_.back().type;
      if (!last || *last == Tok::kCloseStmt || *last == Tok::kCloseExpr || *last == Tok::kComment) {
        const size_t start = i_;
        while (i_ < s.size() && !(s[i_] == '{' && i_ + 1 < s.size() &&
                                  (s[i_ + 1] == '%' || s[i_ + 1] == '{' || s[i_ + 1] == '#')))
          ++i_;
        if (i_ > start) {
          push(Tok::kText, s.substr(start, i_ - start), start);
          continue;
        }
      }
      if (s.compare(i_, 2, "{#") == 0) {
        const size_t start = i_;
        i_ += 2;
        const bool strip_before = i_ < s.size() && s[i_] == '-';
        if (strip_before) ++i_;
        std::string comment;
        while (!(i_ + 1 < s.size() && s[i_] == '#' && s[i_ + 1] == '}')) {
          if (i_ + 2 >= s.size()) fail_at(start, "missing end of comment tag");
          comment += s[i_++];
        }
        const bool strip_after = !comment.empty() && comment.back() == '-';
        if (strip_after) comment.pop_back();
        if (strip_before) strip_trailing();
        push(Tok::kComment, comment, start);
        i_ += 2;
        if (strip_after) skip_space();
        continue;
      }
      if (s.compare(i_, 3, "{%-") == 0) {
        strip_trailing();
        push(Tok::kOpenStmt, "{%", i_);
        i_ += 3;
        continue;
      }
      if (s.compare(i_, 3, "{{-") == 0) {
        strip_trailing();
        push(Tok::kOpenExpr, "{{", i_);
        curly_ = 0;
        i_ += 3;
        continue;
      }
      consume_space();
      if (s.compare(i_, 3, "-%}") == 0) {
        push(Tok::kCloseStmt, "%}", i_);
        i_ += 3;
        skip_space();
        continue;
      }
      if (s.compare(i_, 3, "-}}") == 0) {
        push(Tok::kCloseExpr, "}}", i_);
        i_ += 3;
        skip_space();
        continue;
      }
      if (i_ >= s.size()) break;  // unreachable: consume_space throws at the end
      const char ch = s[i_];
      if (ch == '-' || ch == '+') {
        if (tokens_.empty() || tokens_.back().type == Tok::kText)
          fail_at(i_, std::string("unexpected character: ") + ch);
        switch (tokens_.back().type) {
          case Tok::kIdent:
          case Tok::kNumber:
          case Tok::kString:
          case Tok::kCloseParen:
          case Tok::kCloseSquare:
            break;
          default: {
            const size_t start = i_++;
            std::string num = consume_digits();
            if (!num.empty() && i_ + 1 < s.size() && s[i_] == '.' && is_digit(s[i_ + 1])) {
              ++i_;
              num += "." + consume_digits();
            }
            push(num.empty() ? Tok::kUnary : Tok::kNumber, std::string(1, ch) + num, start);
            continue;
          }
        }
      }
      if (match_operator()) continue;
      if (ch == '\'' || ch == '"') {
        const size_t start = i_++;
        std::string str = consume_string(ch);
        push(Tok::kString, str, start);
        ++i_;
        continue;
      }
      if (is_digit(ch)) {
        const size_t start = i_;
        std::string num = consume_digits();
        if ((tokens_.empty() || tokens_.back().type != Tok::kDot) && i_ + 1 < s.size() &&
            s[i_] == '.' && is_digit(s[i_ + 1])) {
          ++i_;
          num += "." + consume_digits();
        }
        push(Tok::kNumber, num, start);
        continue;
      }
      if (is_word(ch)) {
        const size_t start = i_;
        while (is_word(s[i_])) {
          ++i_;
          if (i_ >= s.size()) fail_at(start, "unexpected end of template");
        }
        push(Tok::kIdent, s.substr(start, i_ - start), start);
        continue;
      }
      fail_at(i_, "unexpected character: " + printable(i_));
    }
    return std::move(tokens_);
  }

 private:
  std::string printable(size_t i) const {
    const auto c = static_cast<unsigned char>(src_.s[i]);
    if (c >= 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }
  [[noreturn]] void fail_at(size_t i, const std::string& msg) const {
    fail(orig_, src_.at(i), msg);
  }

  void push(Tok t, std::string v, size_t at) { tokens_.push_back({t, std::move(v), src_.at(at)}); }

  void strip_trailing() {
    if (tokens_.empty() || tokens_.back().type != Tok::kText) return;
    std::string& v = tokens_.back().value;
    auto [b, e] = js_trim_bounds(v);
    v.resize(b == v.size() ? 0 : e);
    if (v.empty()) tokens_.pop_back();
  }
  void skip_space() {
    while (size_t n = js_space_at(src_.s, i_)) i_ += n;
  }
  // consumeWhile(isWhitespace): reaching the end inside a tag is an error.
  void consume_space() {
    const size_t start = i_;
    while (size_t n = js_space_at(src_.s, i_)) {
      i_ += n;
      if (i_ >= src_.s.size()) fail_at(start, "unexpected end of template");
    }
  }
  std::string consume_digits() {
    const size_t start = i_;
    while (i_ < src_.s.size() && is_digit(src_.s[i_])) {
      ++i_;
      if (i_ >= src_.s.size()) fail_at(start, "unexpected end of template");
    }
    return src_.s.substr(start, i_ - start);
  }
  std::string consume_string(char quote) {
    const std::string& s = src_.s;
    const size_t start = i_ - 1;
    std::string out;
    char16_t high = 0;  // a pending high surrogate from \u escapes
    auto flush_high = [&] {
      if (high) utf8::append(out, 0xFFFD);
      high = 0;
    };
    while (i_ < s.size() && s[i_] != quote) {
      if (s[i_] == '\\') {
        ++i_;
        if (i_ >= s.size()) fail_at(start, "unexpected end of template in a string");
        const char e = s[i_++];
        if (e == 'x' || e == 'u') {
          const size_t len = e == 'x' ? 2 : 4;
          if (i_ + len > s.size()) fail_at(start, "invalid hexadecimal escape sequence");
          unsigned v = 0;
          for (size_t k = 0; k < len; ++k) {
            const char h = s[i_ + k];
            int d = is_digit(h)              ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) fail_at(start, "invalid hexadecimal escape sequence");
            v = v * 16 + static_cast<unsigned>(d);
          }
          i_ += len;
          if (v >= 0xD800 && v < 0xDC00) {
            flush_high();
            high = static_cast<char16_t>(v);
          } else if (v >= 0xDC00 && v < 0xE000) {
            if (high) {
              utf8::append(out,
                           0x10000 + ((static_cast<char32_t>(high) - 0xD800) << 10) + (v - 0xDC00));
              high = 0;
            } else {
              utf8::append(out, 0xFFFD);
            }
          } else {
            flush_high();
            utf8::append(out, v);
          }
          continue;
        }
        flush_high();
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'v':
            out += '\v';
            break;
          case '\'':
            out += '\'';
            break;
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          default:
            fail_at(i_ - 2, std::string("unexpected escaped character: ") + e);
        }
        continue;
      }
      flush_high();
      out += s[i_++];
      if (i_ >= s.size()) fail_at(start, "unexpected end of template in a string");
    }
    flush_high();
    if (i_ >= s.size()) fail_at(start, "unexpected end of template in a string");
    return out;
  }

  bool match_operator() {
    static const struct {
      const char* seq;
      Tok type;
    } kOps[] = {{"{%", Tok::kOpenStmt},      {"%}", Tok::kCloseStmt},
                {"{{", Tok::kOpenExpr},      {"}}", Tok::kCloseExpr},
                {"(", Tok::kOpenParen},      {")", Tok::kCloseParen},
                {"{", Tok::kOpenCurly},      {"}", Tok::kCloseCurly},
                {"[", Tok::kOpenSquare},     {"]", Tok::kCloseSquare},
                {",", Tok::kComma},          {".", Tok::kDot},
                {":", Tok::kColon},          {"|", Tok::kPipe},
                {"<=", Tok::kComparison},    {">=", Tok::kComparison},
                {"==", Tok::kComparison},    {"!=", Tok::kComparison},
                {"<", Tok::kComparison},     {">", Tok::kComparison},
                {"+", Tok::kAdditive},       {"-", Tok::kAdditive},
                {"~", Tok::kAdditive},       {"**", Tok::kPower},
                {"*", Tok::kMultiplicative}, {"//", Tok::kMultiplicative},
                {"/", Tok::kMultiplicative}, {"%", Tok::kMultiplicative},
                {"=", Tok::kEquals}};
    for (const auto& op : kOps) {
      if (op.type == Tok::kCloseExpr && curly_ > 0) continue;
      const size_t len = std::char_traits<char>::length(op.seq);
      if (src_.s.compare(i_, len, op.seq) != 0) continue;
      push(op.type, op.seq, i_);
      if (op.type == Tok::kOpenExpr)
        curly_ = 0;
      else if (op.type == Tok::kOpenCurly)
        ++curly_;
      else if (op.type == Tok::kCloseCurly)
        --curly_;
      i_ += len;
      return true;
    }
    return false;
  }

  std::string_view orig_;
  Source src_;
  size_t i_ = 0;
  long curly_ = 0;
  std::vector<Token> tokens_;
};

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens, const ParseLimits& limits)
      : src_(source), t_(std::move(tokens)), limits_(limits) {}

  std::vector<NodePtr> run() {
    std::vector<NodePtr> body;
    while (cur_ < t_.size()) body.push_back(any());
    return body;
  }

 private:
  struct Depth {
    Parser& p;
    explicit Depth(Parser& parser, size_t pos) : p(parser) {
      if (++p.depth_ > p.limits_.max_depth)
        p.fail_pos(pos, "nesting deeper than " + std::to_string(p.limits_.max_depth) + " levels");
    }
    ~Depth() { --p.depth_; }
  };

  [[noreturn]] void fail_pos(size_t pos, const std::string& msg) const { fail(src_, pos, msg); }
  [[noreturn]] void fail_here(const std::string& msg) const {
    fail_pos(cur_ < t_.size() ? t_[cur_].pos : src_.size(), msg);
  }
  const Token& peek(size_t k = 0) const {
    if (cur_ + k >= t_.size()) fail_here("unexpected end of template");
    return t_[cur_ + k];
  }
  bool is(Tok a) const { return cur_ < t_.size() && t_[cur_].type == a; }
  bool is2(Tok a, Tok b) const {
    return cur_ + 1 < t_.size() && t_[cur_].type == a && t_[cur_ + 1].type == b;
  }
  bool is_ident(std::string_view name, size_t k = 0) const {
    return cur_ + k < t_.size() && t_[cur_ + k].type == Tok::kIdent && t_[cur_ + k].value == name;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!(cur_ + 1 < t_.size() && t_[cur_].type == Tok::kOpenStmt &&
          t_[cur_ + 1].type == Tok::kIdent))
      return false;
    for (auto n : names)
      if (t_[cur_ + 1].value == n) return true;
    return false;
  }
  const Token& expect(Tok type, const char* what) {
    if (cur_ >= t_.size()) fail_here(std::string("unexpected end of template, expected ") + what);
    if (t_[cur_].type != type)
      fail_here(std::string("expected ") + what + ", got \"" + t_[cur_].value + "\"");
    return t_[cur_++];
  }
  void expect_ident(std::string_view name) {
    if (!is_ident(name)) fail_here("expected " + std::string(name));
    ++cur_;
  }
  NodePtr node(NodeType type, size_t pos) {
    auto n = std::make_unique<Node>();
    n->type = type;
    n->pos = pos;
    return n;
  }
  // Block bodies: stop at one of `ends`; reaching the end of the template is an error
  // naming the block that is not closed.
  std::vector<NodePtr> body_until(std::initializer_list<std::string_view> ends, const char* block,
                                  size_t pos) {
    std::vector<NodePtr> body;
    while (!is_statement(ends)) {
      if (cur_ >= t_.size()) fail_pos(pos, std::string("{% ") + block + " %} is not closed");
      body.push_back(any());
    }
    return body;
  }
  // `{% end %}`, the tag that closes a block.
  void expect_end_tag(std::string_view end) {
    expect(Tok::kOpenStmt, "{%");
    expect_ident(end);
    expect(Tok::kCloseStmt, "%}");
  }
  // The `%}` of a block's opening tag, its body and its closing `{% end %}`.
  std::vector<NodePtr> closed_body(std::string_view end, const char* block, size_t pos) {
    expect(Tok::kCloseStmt, "%}");
    std::vector<NodePtr> body = body_until({end}, block, pos);
    expect_end_tag(end);
    return body;
  }

  NodePtr any() {
    const Token& tk = peek();
    switch (tk.type) {
      case Tok::kComment: {
        auto n = node(NodeType::kComment, tk.pos);
        ++cur_;
        return n;
      }
      case Tok::kText: {
        auto n = node(NodeType::kText, tk.pos);
        n->text = tk.value;
        ++cur_;
        return n;
      }
      case Tok::kOpenStmt:
        return statement();
      case Tok::kOpenExpr: {
        ++cur_;
        auto e = expression();
        expect(Tok::kCloseExpr, "}}");
        return e;
      }
      default:
        fail_here("unexpected \"" + tk.value + "\"");
    }
  }

  NodePtr statement() {
    const size_t pos = peek().pos;
    Depth d(*this, pos);
    expect(Tok::kOpenStmt, "{%");
    if (!is(Tok::kIdent)) fail_here("expected a statement name");
    const std::string name = t_[cur_].value;
    NodePtr result;
    if (name == "set") {
      ++cur_;
      result = set_statement(pos);
    } else if (name == "if") {
      ++cur_;
      result = if_statement(pos);
      expect_end_tag("endif");
    } else if (name == "macro") {
      ++cur_;
      result = node(NodeType::kMacro, pos);
      auto n = primary();
      if (n->type != NodeType::kIdent) fail_pos(n->pos, "expected a name after macro");
      result->text = n->text;
      result->c = args(true);
      result->a = closed_body("endmacro", "macro", pos);
    } else if (name == "for") {
      ++cur_;
      result = for_statement(pos);
      expect_end_tag("endfor");
    } else if (name == "call") {
      ++cur_;
      result = node(NodeType::kCallBlock, pos);
      if (is(Tok::kOpenParen)) result->c = args(true);
      auto callee = primary();
      if (callee->type != NodeType::kIdent)
        fail_pos(callee->pos, "expected a macro name after call");
      auto call = node(NodeType::kCall, callee->pos);
      call->x = std::move(callee);
      call->a = args(false);
      result->x = std::move(call);
      result->a = closed_body("endcall", "call", pos);
    } else if (name == "break" || name == "continue") {
      ++cur_;
      expect(Tok::kCloseStmt, "%}");
      result = node(name == "break" ? NodeType::kBreak : NodeType::kContinue, pos);
    } else if (name == "filter") {
      ++cur_;
      result = node(NodeType::kFilterBlock, pos);
      auto f = primary();
      if (f->type == NodeType::kIdent && is(Tok::kOpenParen)) f = call_expression(std::move(f));
      result->y = std::move(f);
      result->a = closed_body("endfilter", "filter", pos);
    } else {
      fail_pos(t_[cur_].pos, "unknown statement {% " + name + " %} (unsupported)");
    }
    return result;
  }

  NodePtr set_statement(size_t pos) {
    auto n = node(NodeType::kSet, pos);
    n->x = expression_sequence(false);
    if (is(Tok::kEquals)) {
      ++cur_;
      n->y = expression_sequence(false);
      expect(Tok::kCloseStmt, "%}");
    } else {
      n->a = closed_body("endset", "set", pos);
    }
    return n;
  }

  NodePtr if_statement(size_t pos) {
    Depth d(*this, pos);
    auto n = node(NodeType::kIf, pos);
    n->x = expression();
    expect(Tok::kCloseStmt, "%}");
    n->a = body_until({"elif", "else", "endif"}, "if", pos);
    if (is_statement({"elif"})) {
      const size_t epos = t_[cur_].pos;
      cur_ += 2;
      n->b.push_back(if_statement(epos));
    } else if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::kCloseStmt, "%}");
      n->b = body_until({"endif"}, "if", pos);
    }
    return n;
  }

  NodePtr for_statement(size_t pos) {
    auto n = node(NodeType::kFor, pos);
    n->x = expression_sequence(true);
    if (n->x->type != NodeType::kIdent && n->x->type != NodeType::kTuple)
      fail_pos(n->x->pos, "expected a name or a tuple as the loop variable");
    if (!is_ident("in")) fail_here("expected `in` after the loop variable");
    ++cur_;
    auto it = expression();
    if (it->type == NodeType::kSelect) {
      n->y = std::move(it->x);
      n->z = std::move(it->y);
    } else {
      n->y = std::move(it);
    }
    expect(Tok::kCloseStmt, "%}");
    n->a = body_until({"endfor", "else"}, "for", pos);
    if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::kCloseStmt, "%}");
      n->b = body_until({"endfor"}, "for", pos);
    }
    return n;
  }

  NodePtr expression_sequence(bool primary_only) {
    const size_t pos = peek().pos;
    std::vector<NodePtr> items;
    items.push_back(primary_only ? primary() : expression());
    const bool tuple = is(Tok::kComma);
    while (tuple) {
      ++cur_;
      items.push_back(primary_only ? primary() : expression());
      if (!is(Tok::kComma)) break;
    }
    if (!tuple) return std::move(items[0]);
    auto n = node(NodeType::kTuple, pos);
    n->a = std::move(items);
    return n;
  }

  NodePtr expression() {
    Depth d(*this, peek().pos);
    auto a = logical_or();
    if (is_ident("if")) {
      const size_t pos = t_[cur_].pos;
      ++cur_;
      auto test = logical_or();
      if (is_ident("else")) {
        ++cur_;
        auto n = node(NodeType::kTernary, pos);
        n->x = std::move(test);
        n->y = std::move(a);
        n->z = expression();
        return n;
      }
      auto n = node(NodeType::kSelect, pos);
      n->x = std::move(a);
      n->y = std::move(test);
      return n;
    }
    return a;
  }

  NodePtr binary(NodePtr left, const Token& op, NodePtr right) {
    auto n = node(NodeType::kBinary, op.pos);
    n->text = op.value;
    n->x = std::move(left);
    n->y = std::move(right);
    return n;
  }

  // One left-associative binary level: operands parsed by `next`, joined while `at_op()`.
  template <typename AtOp>
  NodePtr left_assoc(NodePtr (Parser::*next)(), AtOp at_op) {
    auto left = (this->*next)();
    while (at_op()) {
      const Token& op = t_[cur_++];
      left = binary(std::move(left), op, (this->*next)());
    }
    return left;
  }

  NodePtr logical_or() {
    return left_assoc(&Parser::logical_and, [this] { return is_ident("or"); });
  }
  NodePtr logical_and() {
    return left_assoc(&Parser::logical_not, [this] { return is_ident("and"); });
  }
  NodePtr logical_not() {
    if (is_ident("not")) {
      Depth d(*this, t_[cur_].pos);
      auto n = node(NodeType::kUnary, t_[cur_].pos);
      n->text = "not";
      ++cur_;
      n->x = logical_not();
      return n;
    }
    return comparison();
  }
  NodePtr comparison() {
    auto left = additive();
    while (true) {
      Token op;
      if (is_ident("not") && is_ident("in", 1)) {
        op = {Tok::kIdent, "not in", t_[cur_].pos};
        cur_ += 2;
      } else if (is_ident("in")) {
        op = t_[cur_++];
      } else if (is(Tok::kComparison)) {
        op = t_[cur_++];
      } else {
        break;
      }
      left = binary(std::move(left), op, additive());
    }
    return left;
  }
  NodePtr additive() {
    return left_assoc(&Parser::multiplicative, [this] { return is(Tok::kAdditive); });
  }
  NodePtr multiplicative() {
    return left_assoc(&Parser::power, [this] { return is(Tok::kMultiplicative); });
  }
  NodePtr power() {
    return left_assoc(&Parser::test, [this] { return is(Tok::kPower); });
  }
  NodePtr test() {
    auto operand = filter();
    while (is_ident("is")) {
      const size_t pos = t_[cur_].pos;
      ++cur_;
      const bool negate = is_ident("not");
      if (negate) ++cur_;
      auto name = primary();
      if (name->type != NodeType::kIdent) fail_pos(name->pos, "expected a test name after `is`");
      auto n = node(NodeType::kTest, pos);
      n->x = std::move(operand);
      n->text = name->text;
      n->flag = negate;
      operand = std::move(n);
    }
    return operand;
  }
  NodePtr filter() {
    auto operand = unary_sign();
    while (is(Tok::kPipe)) {
      const size_t pos = t_[cur_].pos;
      ++cur_;
      auto f = primary();
      if (f->type != NodeType::kIdent) fail_pos(f->pos, "expected a filter name after |");
      if (is(Tok::kOpenParen)) f = call_expression(std::move(f));
      auto n = node(NodeType::kFilter, pos);
      n->x = std::move(operand);
      n->y = std::move(f);
      operand = std::move(n);
    }
    return operand;
  }
  NodePtr unary_sign() {
    const Token& tk = peek();
    if ((tk.type == Tok::kUnary || tk.type == Tok::kAdditive) &&
        (tk.value == "-" || tk.value == "+")) {
      Depth d(*this, tk.pos);
      auto n = node(NodeType::kUnary, tk.pos);
      n->text = tk.value;
      ++cur_;
      n->x = unary_sign();
      return n;
    }
    return call_member();
  }
  NodePtr call_member() {
    auto m = member(primary());
    if (is(Tok::kOpenParen)) return call_expression(std::move(m));
    return m;
  }
  NodePtr call_expression(NodePtr callee) {
    Depth d(*this, callee->pos);
    auto n = node(NodeType::kCall, callee->pos);
    n->x = std::move(callee);
    n->a = args(false);
    NodePtr e = member(std::move(n));
    if (is(Tok::kOpenParen)) e = call_expression(std::move(e));
    return e;
  }
  std::vector<NodePtr> args(bool parameters) {
    expect(Tok::kOpenParen, "(");
    std::vector<NodePtr> out;
    std::vector<std::string> names;
    bool saw_kw = false, saw_spread = false;
    while (!is(Tok::kCloseParen)) {
      if (cur_ >= t_.size()) fail_here("unexpected end of template in an argument list");
      const bool kw_spread = is(Tok::kPower);
      const bool spread = is(Tok::kMultiplicative) && t_[cur_].value == "*";
      if (parameters && (kw_spread || spread)) fail_here("argument unpacking in a parameter list");
      if (kw_spread) {
        auto n = node(NodeType::kKwSpread, t_[cur_].pos);
        ++cur_;
        n->x = expression();
        out.push_back(std::move(n));
        if (is(Tok::kComma)) ++cur_;
        if (!is(Tok::kCloseParen)) fail_here("`**` must be applied to the final argument");
        break;
      }
      NodePtr arg;
      if (spread) {
        if (saw_spread) fail_here("only one `*` argument unpacking is allowed");
        saw_spread = true;
        arg = node(NodeType::kSpread, t_[cur_].pos);
        ++cur_;
        arg->x = expression();
      } else {
        arg = expression();
        if (is(Tok::kEquals)) {
          ++cur_;
          if (arg->type != NodeType::kIdent) fail_pos(arg->pos, "expected a name before =");
          auto kw = node(NodeType::kKwArg, arg->pos);
          kw->text = arg->text;
          kw->x = expression();
          arg = std::move(kw);
        }
        if (parameters) {
          if (arg->type != NodeType::kIdent && arg->type != NodeType::kKwArg)
            fail_pos(arg->pos, "expected a parameter name");
          for (const auto& nm : names)
            if (nm == arg->text) fail_pos(arg->pos, "duplicate parameter name: " + nm);
          names.push_back(arg->text);
        }
        if (arg->type == NodeType::kKwArg) {
          saw_kw = true;
        } else if (saw_kw) {
          fail_pos(arg->pos, parameters
                                 ? "non-default argument follows default argument"
                                 : "positional arguments must come before keyword arguments");
        } else if (saw_spread) {
          fail_pos(arg->pos, "positional arguments must not follow `*` argument unpacking");
        }
      }
      out.push_back(std::move(arg));
      if (is(Tok::kComma)) ++cur_;
    }
    expect(Tok::kCloseParen, ")");
    return out;
  }
  NodePtr member(NodePtr object) {
    while (is(Tok::kDot) || is(Tok::kOpenSquare)) {
      const Token& op = t_[cur_++];
      auto n = node(NodeType::kMember, op.pos);
      const bool computed = op.type == Tok::kOpenSquare;
      n->flag = computed;
      n->x = std::move(object);
      if (computed) {
        n->y = subscript(op.pos);
        expect(Tok::kCloseSquare, "]");
      } else {
        n->y = primary();
        if (n->y->type != NodeType::kIdent && n->y->type != NodeType::kInt)
          fail_pos(n->y->pos, "expected a name or an integer after .");
      }
      object = std::move(n);
    }
    return object;
  }
  NodePtr subscript(size_t pos) {
    std::vector<NodePtr> parts;
    bool slice = false;
    while (!is(Tok::kCloseSquare)) {
      if (cur_ >= t_.size()) fail_here("unexpected end of template in [ ]");
      if (is(Tok::kColon)) {
        parts.push_back(nullptr);
        ++cur_;
        slice = true;
      } else {
        parts.push_back(expression());
        if (is(Tok::kColon)) {
          ++cur_;
          slice = true;
        }
      }
    }
    if (parts.empty()) fail_pos(pos, "expected an index or a slice in [ ]");
    if (!slice) return std::move(parts[0]);
    if (parts.size() > 3) fail_pos(pos, "a slice takes at most 3 parts");
    auto n = node(NodeType::kSlice, pos);
    n->x = std::move(parts[0]);
    if (parts.size() > 1) n->y = std::move(parts[1]);
    if (parts.size() > 2) n->z = std::move(parts[2]);
    return n;
  }
  NodePtr primary() {
    const Token& tk = peek();
    Depth d(*this, tk.pos);
    ++cur_;
    switch (tk.type) {
      case Tok::kNumber: {
        const bool is_float = tk.value.find('.') != std::string::npos;
        auto n = node(is_float ? NodeType::kFloat : NodeType::kInt, tk.pos);
        n->num = std::strtod(tk.value.c_str(), nullptr);
        return n;
      }
      case Tok::kString: {
        auto n = node(NodeType::kStr, tk.pos);
        n->text = tk.value;
        while (is(Tok::kString)) n->text += t_[cur_++].value;
        return n;
      }
      case Tok::kIdent: {
        auto n = node(NodeType::kIdent, tk.pos);
        n->text = tk.value;
        return n;
      }
      case Tok::kOpenParen: {
        auto e = expression_sequence(false);
        expect(Tok::kCloseParen, ")");
        return e;
      }
      case Tok::kOpenSquare: {
        auto n = node(NodeType::kArray, tk.pos);
        while (!is(Tok::kCloseSquare)) {
          if (cur_ >= t_.size()) fail_pos(tk.pos, "[ is not closed");
          n->a.push_back(expression());
          if (is(Tok::kComma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case Tok::kOpenCurly: {
        auto n = node(NodeType::kObject, tk.pos);
        while (!is(Tok::kCloseCurly)) {
          if (cur_ >= t_.size()) fail_pos(tk.pos, "{ is not closed");
          n->a.push_back(expression());
          expect(Tok::kColon, ":");
          n->b.push_back(expression());
          if (is(Tok::kComma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      default:
        fail_pos(tk.pos, "unexpected \"" + tk.value + "\"");
    }
  }

  std::string_view src_;
  std::vector<Token> t_;
  const ParseLimits& limits_;
  size_t cur_ = 0;
  size_t depth_ = 0;
};

}  // namespace

std::string position_text(std::string_view source, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + " col " + std::to_string(col);
}

std::vector<Token> tokenize(std::string_view source, const ParseLimits& limits) {
  if (source.size() > limits.max_template_bytes)
    throw TemplateError("chat template is " + std::to_string(source.size()) +
                        " bytes, over the limit of " + std::to_string(limits.max_template_bytes));
  return Lexer(source, preprocess(source)).run();
}

std::unique_ptr<Program> parse_template(std::string_view source, const ParseLimits& limits) {
  auto p = std::make_unique<Program>();
  p->source = std::string(source);
  p->body = Parser(p->source, tokenize(source, limits), limits).run();
  return p;
}

}  // namespace qwen3::text::jinja
