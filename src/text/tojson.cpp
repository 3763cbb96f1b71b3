#include "text/tojson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <vector>

#include "text/char_escape.h"

namespace qwen3::text {
namespace {

// JavaScript numbers are doubles: integers beyond 2^53 lose precision exactly as
// JSON.parse would lose it on the reference side.
constexpr double kMaxSafeInteger = 9007199254740992.0;

using ojson = nlohmann::ordered_json;

// A scalar's text; false for arrays and objects.
bool write_scalar(const ojson& v, std::string& out) {
  using T = ojson::value_t;
  switch (v.type()) {
    case T::null:
      out += "null";
      return true;
    case T::boolean:
      out += v.get<bool>() ? "true" : "false";
      return true;
    case T::number_integer: {
      int64_t i = v.get<int64_t>();
      if (std::fabs(static_cast<double>(i)) <= kMaxSafeInteger) {
        out += std::to_string(i);
      } else {
        out += js_number(static_cast<double>(i));
      }
      return true;
    }
    case T::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (static_cast<double>(u) <= kMaxSafeInteger) {
        out += std::to_string(u);
      } else {
        out += js_number(static_cast<double>(u));
      }
      return true;
    }
    case T::number_float:
      out += js_number(v.get<double>());
      return true;
    case T::string:
      out += js_string_literal(v.get_ref<const std::string&>());
      return true;
    case T::array:
    case T::object:
      return false;
    default:
      throw std::invalid_argument("tojson: value has no JSON form (binary or discarded)");
  }
}

// An open array or object: its members in output order (an array's keys are null) and
// the next one to write.
struct Frame {
  std::vector<std::pair<const std::string*, const ojson*>> members;
  std::size_t next = 0;
  bool object = false;
};

// Opens `v`: writes its bracket and lists its members (objects in JavaScript key order).
Frame open(const ojson& v, std::string& out) {
  Frame f;
  f.object = v.is_object();
  out += f.object ? '{' : '[';
  if (!f.object) {
    f.members.reserve(v.size());
    for (const auto& e : v) f.members.emplace_back(nullptr, &e);
    return f;
  }
  std::vector<std::pair<uint64_t, std::pair<const std::string*, const ojson*>>> index_keys;
  for (auto it = v.begin(); it != v.end(); ++it) {
    uint64_t idx = 0;
    if (is_array_index(it.key(), &idx)) index_keys.push_back({idx, {&it.key(), &it.value()}});
  }
  std::sort(index_keys.begin(), index_keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  f.members.reserve(v.size());
  for (const auto& k : index_keys) f.members.push_back(k.second);
  for (auto it = v.begin(); it != v.end(); ++it) {
    uint64_t idx = 0;
    if (!is_array_index(it.key(), &idx)) f.members.emplace_back(&it.key(), &it.value());
  }
  return f;
}

// Depth-first with an explicit stack: nesting depth costs heap, not call stack.
void write(const ojson& root, std::string& out) {
  if (write_scalar(root, out)) return;
  std::vector<Frame> stack;
  stack.push_back(open(root, out));
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.members.size()) {
      out += f.object ? '}' : ']';
      stack.pop_back();
      continue;
    }
    const auto [key, value] = f.members[f.next];
    if (f.next++ > 0) out += ", ";
    if (key) {
      out += js_string_literal(*key);
      out += ": ";
    }
    if (!write_scalar(*value, out)) stack.push_back(open(*value, out));  // f may dangle now
  }
}

}  // namespace

bool is_array_index(const std::string& k, std::uint64_t* value) {
  if (k.empty() || k.size() > 10) return false;
  if (k[0] == '0' && k.size() > 1) return false;
  std::uint64_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v >= 4294967295ULL) return false;
  *value = v;
  return true;
}

std::string tojson(const nlohmann::ordered_json& value) {
  std::string out;
  write(value, out);
  return out;
}

std::string js_string_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  append_escaped(out, s, kJsonEscapeStyle);
  out += '"';
  return out;
}

std::string js_number(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == 0) return "0";  // also -0
  std::string out;
  if (v < 0) {
    out += '-';
    v = -v;
  }
  // Shortest round-trip digits, then ECMAScript's Number::toString layout.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  auto e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp10 = std::atoi(sci.c_str() + e_pos + 1);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

}  // namespace qwen3::text
