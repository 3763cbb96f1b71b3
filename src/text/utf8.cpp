#include "text/utf8.h"

#include <cstdint>

namespace qwen3::utf8 {
namespace {

// Expected sequence length for a lead byte (0 = not a valid lead byte).
int sequence_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Valid range of the second byte, which depends on the lead byte (excludes overlongs,
// surrogates and code points above U+10FFFF).
bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0:
      return b >= 0xA0 && b <= 0xBF;
    case 0xED:
      return b >= 0x80 && b <= 0x9F;
    case 0xF0:
      return b >= 0x90 && b <= 0xBF;
    case 0xF4:
      return b >= 0x80 && b <= 0x8F;
    default:
      return b >= 0x80 && b <= 0xBF;
  }
}

// Number of bytes at s[i] that form a valid sequence (>0), or -k where k >= 1 is the
// length of the maximal invalid subsequence, or 0 if the bytes are a valid but
// truncated prefix that runs into the end of `s`.
int scan(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  const int len = sequence_length(b0);
  if (len == 0) return -1;
  if (len == 1) return 1;
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const auto b = static_cast<uint8_t>(s[i + k]);
    const bool ok = k == 1 ? second_byte_ok(b0, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -k;
  }
  return len;
}

}  // namespace

bool is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const int r = scan(s, i);
    if (r <= 0) return false;
    i += static_cast<size_t>(r);
  }
  return true;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      out.push_back(s[i++]);
      continue;
    }
    const int r = scan(s, i);
    if (r > 0) {
      out.append(s.substr(i, static_cast<size_t>(r)));
      i += static_cast<size_t>(r);
    } else {
      append(out, kReplacement);
      i = r == 0 ? s.size() : i + static_cast<size_t>(-r);
    }
  }
  return out;
}

size_t complete_prefix_length(std::string_view s) {
  // An unfinished sequence is at most 3 bytes long, so only the tail needs a look.
  const size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = start; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (sequence_length(b) >= 2 && scan(s, i) == 0) return i;
  }
  return s.size();
}

char32_t next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  const int len = sequence_length(b0);
  char32_t cp = b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  i += static_cast<size_t>(len);
  return cp;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace qwen3::utf8
