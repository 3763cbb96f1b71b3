// Value helpers of the Jinja interpreter: conversion from context JSON, printing, JSON
// text and equality, each mirroring @huggingface/jinja (the reference renderer).
#include "text/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/enum_names.h"

#include "text/tojson.h"
#include "text/utf8.h"

namespace qwen3::text::jinja {
namespace {

using ojson = nlohmann::ordered_json;

// JSON.stringify(str) followed, with ensure_ascii, by \uXXXX for U+007F..U+FFFF (each
// UTF-16 unit of an astral character separately, as the reference's regex does).
std::string json_string(const std::string& s, bool ensure_ascii) {
  std::string lit = js_string_literal(s);
  if (!ensure_ascii) return lit;
  std::string out;
  size_t i = 0;
  auto hex4 = [&](unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u%04x", v);
    out += buf;
  };
  while (i < lit.size()) {
    const auto c = static_cast<unsigned char>(lit[i]);
    if (c < 0x7f) {
      out += lit[i++];
      continue;
    }
    char32_t cp = utf8::next(lit, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      hex4(0xD800 + (cp >> 10));
      hex4(0xDC00 + (cp & 0x3FF));
    } else {
      hex4(cp);
    }
  }
  return out;
}

void json_write(const Value& v, const JsonFormat& f, int depth, bool undef_null, std::string& out) {
  if (depth > 512) throw TemplateError("tojson: value nested too deeply");
  switch (v.kind) {
    case Kind::kNone:
      out += "null";
      return;
    case Kind::kUndefined:
      out += undef_null ? "null" : "undefined";
      return;
    case Kind::kBool:
      out += v.num != 0 ? "true" : "false";
      return;
    case Kind::kInt:
    case Kind::kFloat:
      out += js_number(v.num);
      return;
    case Kind::kString:
      out += json_string(v.s(), f.ensure_ascii);
      return;
    case Kind::kFunction:
      throw TemplateError("Cannot convert to JSON: FunctionValue");
    default:
      break;
  }
  std::string item_sep = f.custom_separators ? f.item_sep : (f.indent > 0 ? "," : ", ");
  std::string key_sep = f.custom_separators ? f.key_sep : ": ";
  const std::string indent_unit =
      f.indent > 0 ? std::string(static_cast<size_t>(f.indent), ' ') : "";
  std::string base_pad = "\n";
  for (int i = 0; i < depth; ++i) base_pad += indent_unit;
  const std::string child_pad = base_pad + indent_unit;
  const bool ind = f.indent > 0;
  if (v.kind == Kind::kArray) {
    if (v.tuple) throw TemplateError("Cannot convert to JSON: TupleValue");
    out += '[';
    if (ind && !v.arr->empty()) out += child_pad;
    for (size_t i = 0; i < v.arr->size(); ++i) {
      if (i > 0) {
        out += item_sep;
        if (ind) out += child_pad;
      }
      json_write((*v.arr)[i], f, depth + 1, undef_null, out);
    }
    if (ind && !v.arr->empty()) out += base_pad;
    out += ']';
    return;
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& kv : v.obj->items) entries.push_back(&kv);
  if (f.sort_keys) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto* a, const auto* b) { return a->first < b->first; });
  }
  out += '{';
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += item_sep;
    if (ind) out += child_pad;
    out += json_string(entries[i]->first, f.ensure_ascii);
    out += key_sep;
    json_write(entries[i]->second, f, depth + 1, undef_null, out);
  }
  if (ind && !entries.empty()) out += base_pad;
  out += '}';
}

}  // namespace

constexpr NamedValue<Kind> kKindNames[] = {
    {Kind::kUndefined, "UndefinedValue"}, {Kind::kNone, "NullValue"},
    {Kind::kBool, "BooleanValue"},        {Kind::kInt, "IntegerValue"},
    {Kind::kFloat, "FloatValue"},         {Kind::kString, "StringValue"},
    {Kind::kArray, "ArrayValue"},         {Kind::kObject, "ObjectValue"},
    {Kind::kNamespace, "NamespaceValue"}, {Kind::kFunction, "FunctionValue"}};

const char* kind_name(Kind k) {
  return name_of(kKindNames, k, "?");
}

const Value* Object::find(std::string_view key) const {
  for (const auto& kv : items)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

void Object::set(const std::string& key, Value v) {
  for (auto& kv : items) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  items.emplace_back(key, std::move(v));
}

Value Value::none() {
  Value v;
  v.kind = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind = Kind::kBool;
  v.num = b ? 1 : 0;
  return v;
}
Value Value::integer(double d) {
  Value v;
  v.kind = Kind::kInt;
  v.num = d;
  return v;
}
Value Value::floating(double d) {
  Value v;
  v.kind = Kind::kFloat;
  v.num = d;
  return v;
}
Value Value::string(std::string s, bool from_data) {
  Str st;
  st.s = std::move(s);
  if (from_data && !st.s.empty()) st.data.push_back({0, st.s.size()});
  return string(std::move(st));
}
Value Value::string(Str s) {
  Value v;
  v.kind = Kind::kString;
  v.str = std::make_shared<const Str>(std::move(s));
  return v;
}
Value Value::array(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind = Kind::kArray;
  v.tuple = tuple;
  v.arr = std::make_shared<std::vector<Value>>(std::move(items));
  return v;
}
Value Value::object(std::shared_ptr<Object> o, Kind k) {
  Value v;
  v.kind = k;
  v.obj = std::move(o);
  return v;
}
Value Value::function(Function f) {
  Value v;
  v.kind = Kind::kFunction;
  v.fn = std::make_shared<Function>(std::move(f));
  return v;
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
      return num != 0 && !std::isnan(num);
    case Kind::kString:
      return !str->s.empty();
    case Kind::kArray:
      return !arr->empty();
    case Kind::kObject:
      return !obj->items.empty();
    case Kind::kNamespace:
    case Kind::kFunction:
      return true;
  }
  return false;
}

Value from_json(const ojson& j) {
  using T = ojson::value_t;
  switch (j.type()) {
    case T::null:
      return Value::none();
    case T::boolean:
      return Value::boolean(j.get<bool>());
    case T::number_integer:
      return Value::integer(static_cast<double>(j.get<int64_t>()));
    case T::number_unsigned:
      return Value::integer(static_cast<double>(j.get<uint64_t>()));
    case T::number_float: {
      const double d = j.get<double>();
      return std::isfinite(d) && d == std::floor(d) ? Value::integer(d) : Value::floating(d);
    }
    case T::string:
      return Value::string(j.get<std::string>(), true);
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return Value::array(std::move(items));
    }
    case T::object: {
      auto o = std::make_shared<Object>();
      o->keys_from_data = true;
      std::vector<std::pair<uint64_t, ojson::const_iterator>> index_keys;
      for (auto it = j.begin(); it != j.end(); ++it) {
        uint64_t idx = 0;
        if (is_array_index(it.key(), &idx)) index_keys.emplace_back(idx, it);
      }
      std::sort(index_keys.begin(), index_keys.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& k : index_keys)
        o->items.emplace_back(k.second.key(), from_json(k.second.value()));
      for (auto it = j.begin(); it != j.end(); ++it) {
        uint64_t idx = 0;
        if (!is_array_index(it.key(), &idx)) o->set(it.key(), from_json(it.value()));
      }
      return Value::object(std::move(o));
    }
    default:
      throw TemplateError("context value has no JSON form");
  }
}

bool has_data(const Value& v) {
  switch (v.kind) {
    case Kind::kString:
      return !v.str->data.empty();
    case Kind::kArray:
      for (const auto& e : *v.arr)
        if (has_data(e)) return true;
      return false;
    case Kind::kObject:
    case Kind::kNamespace:
      if (v.obj->keys_from_data && !v.obj->items.empty()) return true;
      for (const auto& kv : v.obj->items)
        if (has_data(kv.second)) return true;
      return false;
    default:
      return false;
  }
}

std::string float_text(double v) {
  if (v == 0 && std::signbit(v)) return "-0.0";
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e21) {
    std::string s = js_number(v);
    return s + ".0";
  }
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return js_number(v);
}

Str to_output(const Value& v) {
  Str out;
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return out;
    case Kind::kBool:
      out.s = v.num != 0 ? "true" : "false";
      return out;
    case Kind::kInt:
      out.s = std::isnan(v.num) ? "NaN" : js_number(v.num);
      return out;
    case Kind::kFloat:
      out.s = float_text(v.num);
      return out;
    case Kind::kString:
      return *v.str;
    case Kind::kArray:
    case Kind::kObject:
    case Kind::kNamespace:
      out.s = to_json_text(v, JsonFormat{}, false);
      if (has_data(v) && !out.s.empty()) out.data.push_back({0, out.s.size()});
      return out;
    case Kind::kFunction:
      throw TemplateError("cannot print a function (unsupported)");
  }
  return out;
}

namespace {
// RuntimeValue.toString() of the reference, as Array.prototype.join calls it on elements.
std::string runtime_text(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return "undefined";  // the reference's none holds no JavaScript value
    case Kind::kFloat:
      return float_text(v.num);
    case Kind::kArray:
    case Kind::kObject:
    case Kind::kNamespace:
      return to_json_text(v, JsonFormat{}, false);
    case Kind::kFunction:
      throw TemplateError("cannot print a function (unsupported)");
    default:
      return concat_text(v, "+").s;
  }
}
}  // namespace

Str concat_text(const Value& v, const char* op) {
  Str out;
  switch (v.kind) {
    case Kind::kString:
      return *v.str;
    case Kind::kBool:
      out.s = v.num != 0 ? "true" : "false";
      return out;
    case Kind::kInt:
    case Kind::kFloat:
      if (std::isnan(v.num))
        out.s = "NaN";
      else if (std::isinf(v.num))
        out.s = v.num > 0 ? "Infinity" : "-Infinity";
      else
        out.s = js_number(v.num);
      return out;
    case Kind::kArray:
      // JavaScript's Array.prototype.toString: elements' string forms joined by ",".
      for (size_t i = 0; i < v.arr->size(); ++i) {
        if (i) out.s += ',';
        out.s += runtime_text((*v.arr)[i]);
      }
      if (has_data(v) && !out.s.empty()) out.data.push_back({0, out.s.size()});
      return out;
    case Kind::kObject:
    case Kind::kNamespace:
      out.s = "[object Map]";
      return out;
    default:
      throw TemplateError(std::string("operator ") + op + " on " + kind_name(v.kind) +
                          " (unsupported: only strings, numbers, booleans and arrays concatenate)");
  }
}

std::string to_json_text(const Value& v, const JsonFormat& f, bool undefined_as_null) {
  std::string out;
  json_write(v, f, 0, undefined_as_null, out);
  return out;
}

bool strict_equal(const Value& a, const Value& b) {
  const bool an = a.is_nullish(), bn = b.is_nullish();
  // The reference stores no JavaScript value in none / undefined (both undefined).
  if (an || bn) return an && bn;
  if (a.is_number() && b.is_number()) return a.num == b.num;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kBool:
      return a.num == b.num;
    case Kind::kString:
      return a.s() == b.s();
    case Kind::kArray:
      return a.arr == b.arr;
    case Kind::kObject:
    case Kind::kNamespace:
      return a.obj == b.obj;
    case Kind::kFunction:
      return a.fn == b.fn;
    default:
      return false;
  }
}

namespace {
// JavaScript ToNumber of a string (StringToNumber): whitespace-trimmed decimal, hex, etc.
double js_to_number(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r\v\f");
  if (b == std::string::npos) return 0;
  size_t e = s.find_last_not_of(" \t\n\r\v\f");
  std::string t = s.substr(b, e - b + 1);
  if (t == "Infinity" || t == "+Infinity") return INFINITY;
  if (t == "-Infinity") return -INFINITY;
  const char* p = t.c_str();
  char* end = nullptr;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    unsigned long long v = std::strtoull(p + 2, &end, 16);
    return *end ? NAN : static_cast<double>(v);
  }
  for (char c : t)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return NAN;
  double v = std::strtod(p, &end);
  return *end ? NAN : v;
}
}  // namespace

bool loose_equal(const Value& a, const Value& b) {
  const bool an = a.is_nullish(), bn = b.is_nullish();
  if (an || bn) return an && bn;
  auto scalar_num = [](const Value& v) { return v.kind == Kind::kBool || v.is_number(); };
  if (scalar_num(a) && scalar_num(b)) return a.num == b.num;
  if (a.is_string() && b.is_string()) return a.s() == b.s();
  if (a.is_string() && scalar_num(b)) return js_to_number(a.s()) == b.num;
  if (scalar_num(a) && b.is_string()) return a.num == js_to_number(b.s());
  if (a.kind == b.kind) return strict_equal(a, b);
  // An array or object against a primitive compares its string form in JavaScript;
  // templates do not do that.
  if ((a.is_array() || a.is_container()) != (b.is_array() || b.is_container()))
    throw TemplateError(std::string("== between ") + kind_name(a.kind) + " and " +
                        kind_name(b.kind) + " (unsupported)");
  return false;
}

size_t js_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

}  // namespace qwen3::text::jinja

namespace qwen3::text::jinja {

bool is_js_space(char32_t c) {
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

size_t js_space_at(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return is_js_space(b0) ? 1 : 0;
  const size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > s.size() || !utf8::is_valid(s.substr(i, len))) return 0;
  size_t j = i;
  return is_js_space(utf8::next(s, j)) ? len : 0;
}

std::pair<size_t, size_t> js_trim_bounds(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    const size_t n = js_space_at(s, b);
    if (n == 0) break;
    b += n;
  }
  if (b == s.size()) return {s.size(), s.size()};
  // Walk forward remembering the end of the last non-space character.
  size_t e = b, i = b;
  while (i < s.size()) {
    const size_t n = js_space_at(s, i);
    if (n) {
      i += n;
      continue;
    }
    // One character; a malformed sequence counts as one non-space byte.
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len > 1 && (i + len > s.size() || !utf8::is_valid(s.substr(i, len)))) len = 1;
    i += len;
    e = i;
  }
  return {b, e};
}

}  // namespace qwen3::text::jinja
