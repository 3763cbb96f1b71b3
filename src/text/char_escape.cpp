// The shared escaper of quoted literals (see char_escape.h).
#include "text/char_escape.h"

#include "common/enum_names.h"

namespace qwen3::text {
namespace {

constexpr NamedValue<unsigned char> kShortEscapes[] = {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"},
                                                       {'\r', "\\r"}, {'\t', "\\t"},  {'\b', "\\b"},
                                                       {'\f', "\\f"}};

}  // namespace

void append_escaped(std::string& out, std::string_view s, const EscapeStyle& style) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const char* short_escape = name_of(kShortEscapes, c);
    if (short_escape && (style.short_bf || (c != '\b' && c != '\f'))) {
      out += short_escape;
    } else if (c < 0x20 || (style.hex_del && c == 0x7F)) {
      out += style.hex_prefix;
      out += style.hex_digits[c >> 4];
      out += style.hex_digits[c & 15];
    } else {
      out += ch;
    }
  }
}

}  // namespace qwen3::text
