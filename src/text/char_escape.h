// What: one escaper for the quoted string literals the text layer writes (JSON strings for
// tojson and the JSON-schema grammars, GBNF literals), parameterised by the few points
// where the two syntaxes differ.
// Why: the short escapes ('"', '\\', \n, \r, \t) and the hex fallback for the other control
// characters were written out three times (tojson, grammar, regex_grammar).
#pragma once

#include <string>
#include <string_view>

namespace qwen3::text {

// How a literal writes the characters it must escape.
struct EscapeStyle {
  bool short_bf;           // \b and \f as short escapes (JSON), else as hex escapes (GBNF)
  const char* hex_prefix;  // before the two hex digits: "\\u00" (JSON) or "\\x" (GBNF)
  const char* hex_digits;  // "0123456789abcdef" or "0123456789ABCDEF"
  bool hex_del;            // DEL (0x7F) as a hex escape too
};

inline constexpr EscapeStyle kJsonEscapeStyle{true, "\\u00", "0123456789abcdef", false};
inline constexpr EscapeStyle kGbnfEscapeStyle{false, "\\x", "0123456789ABCDEF", true};

// Appends `s` to `out`, bytewise: '"', '\\', \n, \r, \t (and \b, \f where the style says)
// as two-character escapes, every other byte below 0x20 (and DEL where the style says) as a
// hex escape, all other bytes as they are. No quotes are added.
void append_escaped(std::string& out, std::string_view s, const EscapeStyle& style);

}  // namespace qwen3::text
