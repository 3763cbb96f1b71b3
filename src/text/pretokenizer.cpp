#include "text/pretokenizer.h"

#include "text/unicode.h"
#include "text/utf8.h"

namespace qwen3 {
namespace {

using unicode::CharClass;

// The text decoded once: code point, its class and its byte offset.
struct Chars {
  std::vector<char32_t> cp;
  std::vector<CharClass> cls;
  std::vector<size_t> off;  // off[i] = byte offset of char i; off[n] = text size
};

Chars decode(std::string_view text) {
  Chars c;
  c.cp.reserve(text.size());
  c.cls.reserve(text.size());
  c.off.reserve(text.size() + 1);
  size_t i = 0;
  while (i < text.size()) {
    c.off.push_back(i);
    const char32_t cp = utf8::next(text, i);
    c.cp.push_back(cp);
    c.cls.push_back(unicode::classify(cp));
  }
  c.off.push_back(text.size());
  return c;
}

// Simple case folding onto the ASCII letters the contractions use: only U+017F
// (long s) folds onto one of them besides the ASCII capitals.
char32_t fold(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + ('a' - 'A');
  if (cp == 0x017F) return 's';
  return cp;
}

// Length of a contraction starting at an apostrophe at i, or 0.
size_t contraction_length(const Chars& c, size_t i) {
  const size_t n = c.cp.size();
  if (c.cp[i] != '\'' || i + 1 >= n) return 0;
  const char32_t a = fold(c.cp[i + 1]);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= n) return 0;
  const char32_t b = fold(c.cp[i + 2]);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// End of the next piece starting at char i (one alternation of the regex, in order).
size_t match_at(const Chars& c, size_t i) {
  const size_t n = c.cp.size();
  const CharClass cls = c.cls[i];
  auto run_end = [&](size_t j, auto pred) {
    while (j < n && pred(c.cls[j])) ++j;
    return j;
  };
  auto is_letter = [](CharClass k) { return k == CharClass::kLetter; };
  auto is_other = [](CharClass k) { return k == CharClass::kOther; };

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (const size_t len = contraction_length(c, i)) return i + len;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls == CharClass::kLetter) return run_end(i + 1, is_letter);
  const bool not_newline_letter_number = cls != CharClass::kNewline && cls != CharClass::kNumber;
  if (not_newline_letter_number && i + 1 < n && c.cls[i + 1] == CharClass::kLetter) {
    return run_end(i + 2, is_letter);
  }
  // \p{N}
  if (cls == CharClass::kNumber) return i + 1;
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t start = n;
  if (cls == CharClass::kOther) {
    start = i;
  } else if (cls == CharClass::kSpace && i + 1 < n && c.cls[i + 1] == CharClass::kOther) {
    start = i + 1;
  }
  if (start < n) {
    return run_end(run_end(start + 1, is_other),
                   [](CharClass k) { return k == CharClass::kNewline; });
  }
  // What is left starts with whitespace.
  const size_t ws_end = run_end(i + 1, [](CharClass k) { return unicode::is_whitespace(k); });
  // \s*[\r\n]+ : backtracking ends the match right after the run's last \r or \n.
  for (size_t k = ws_end; k > i; --k) {
    if (c.cls[k - 1] == CharClass::kNewline) return k;
  }
  // \s+(?!\S) : the whole run at the end of text, else all but its last char.
  if (ws_end == n) return n;
  if (ws_end - i >= 2) return ws_end - 1;
  // \s+
  return ws_end;
}

}  // namespace

std::vector<Piece> pretokenize_qwen2(std::string_view text) {
  std::vector<Piece> pieces;
  if (text.empty()) return pieces;
  const Chars c = decode(text);
  const size_t n = c.cp.size();
  size_t i = 0;
  while (i < n) {
    const size_t j = match_at(c, i);
    pieces.push_back({c.off[i], c.off[j]});
    i = j;
  }
  return pieces;
}

}  // namespace qwen3
