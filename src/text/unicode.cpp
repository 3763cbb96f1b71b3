#include "text/unicode.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace qwen3::unicode {
namespace {

// The White_Space property (PropList.txt); stable across Unicode versions.
bool is_white_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

CharClass classify_slow(char32_t cp) {
  if (cp == ' ') return CharClass::kSpace;
  if (cp == '\r' || cp == '\n') return CharClass::kNewline;
  if (is_white_space(cp)) return CharClass::kWhitespace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    default:
      return CharClass::kOther;
  }
}

// Latin, Greek, Cyrillic and most common scripts sit below U+0800: a table keeps the
// hot path free of utf8proc's two-level lookup.
constexpr char32_t kTableSize = 0x800;
const std::array<CharClass, kTableSize>& low_table() {
  static const auto table = [] {
    std::array<CharClass, kTableSize> t{};
    for (char32_t cp = 0; cp < kTableSize; ++cp) t[cp] = classify_slow(cp);
    return t;
  }();
  return table;
}

}  // namespace

CharClass classify(char32_t cp) {
  if (cp < kTableSize) return low_table()[cp];
  return classify_slow(cp);
}

std::string nfc(std::string_view s) {
  // No character below U+0300 takes part in a canonical composition or decomposition,
  // so text made only of them is already NFC (this covers ASCII and Latin-1).
  bool trivial = true;
  for (unsigned char c : s) {
    if (c >= 0xCC) {  // lead bytes of U+0300 and above
      trivial = false;
      break;
    }
  }
  if (trivial) return std::string(s);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    throw std::runtime_error(std::string("unicode normalization failed: ") + utf8proc_errmsg(n));
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> holder(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace qwen3::unicode
