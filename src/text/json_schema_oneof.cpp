// oneOf exclusivity (see json_schema_oneof.h): a three-valued validator of the supported
// keywords, the JSON types a schema may accept / its grammar may write, and the pairwise
// proof that no value one branch writes is accepted by another.
#include "text/json_schema_oneof.h"

#include <cmath>
#include <limits>
#include <optional>
#include <regex>
#include <string>

#include "text/grammar.h"

namespace qwen3::text {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& what) {
  throw GrammarError("json_schema: " + what);
}

enum class Tri { kNo, kYes, kMaybe };
Tri tri(bool b) {
  return b ? Tri::kYes : Tri::kNo;
}
Tri both(Tri a, Tri b) {
  if (a == Tri::kNo || b == Tri::kNo) return Tri::kNo;
  return a == Tri::kMaybe || b == Tri::kMaybe ? Tri::kMaybe : Tri::kYes;
}

constexpr int kMaxDepth = 24;

// Steps of the analysis left for the oneOf being checked: nested unions could otherwise make
// it exponential. Out of steps, nothing more is proven (the schema is then refused).
thread_local long steps_left = 0;
constexpr long kMaxSteps = 200000;

// Follows $ref chains at the top of a schema; nullptr when one cannot be followed.
const Json* resolve(const Json& s, const Json& root) {
  const Json* cur = &s;
  for (int i = 0; i < 16 && cur->is_object() && cur->contains("$ref"); ++i) {
    const Json& r = (*cur)["$ref"];
    if (!r.is_string()) return nullptr;
    const std::string p = r.get<std::string>();
    if (p.empty() || p[0] != '#') return nullptr;
    try {
      cur = &root.at(Json::json_pointer(p.substr(1)));
    } catch (const std::exception&) {
      return nullptr;
    }
  }
  return cur->is_object() && cur->contains("$ref") ? nullptr : cur;
}

bool integral(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

Tri type_is(const Json& v, const Json& t) {
  if (!t.is_string()) return Tri::kMaybe;
  const std::string& n = t.get_ref<const std::string&>();
  if (n == "null") return tri(v.is_null());
  if (n == "boolean") return tri(v.is_boolean());
  if (n == "integer") return tri(integral(v));
  if (n == "number") return tri(v.is_number());
  if (n == "string") return tri(v.is_string());
  if (n == "array") return tri(v.is_array());
  if (n == "object") return tri(v.is_object());
  return Tri::kMaybe;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Tri pattern_matches(const Json& p, const std::string& text) {
  if (!p.is_string()) return Tri::kMaybe;
  const std::string& re = p.get_ref<const std::string&>();
  for (unsigned char c : re + text)
    if (c >= 0x80) return Tri::kMaybe;  // ajv matches code points (the 'u' flag); std::regex bytes
  try {
    return tri(std::regex_search(text, std::regex(re, std::regex::ECMAScript)));
  } catch (const std::exception&) {
    return Tri::kMaybe;
  }
}

// Whether a validator accepts `v` under `s0`: kMaybe where this one cannot tell (formats,
// unsupported keywords, deep recursion).
Tri accepts(const Json& s0, const Json& v, const Json& root, int depth) {
  if (depth > kMaxDepth || --steps_left < 0) return Tri::kMaybe;
  const Json* sp = resolve(s0, root);
  if (!sp) return Tri::kMaybe;
  const Json& s = *sp;
  if (s.is_boolean()) return tri(s.get<bool>());
  if (!s.is_object()) return Tri::kMaybe;
  const Json* props =
      s.contains("properties") && s["properties"].is_object() ? &s["properties"] : nullptr;
  Tri r = Tri::kYes;
  for (const auto& [k, x] : s.items()) {
    if (r == Tri::kNo) return r;
    if (k == "type") {
      if (x.is_array()) {
        Tri t = Tri::kNo;
        for (const auto& e : x) {
          const Tri one = type_is(v, e);
          if (one == Tri::kYes)
            t = Tri::kYes;
          else if (one == Tri::kMaybe && t == Tri::kNo)
            t = Tri::kMaybe;
        }
        r = both(r, t);
      } else {
        r = both(r, type_is(v, x));
      }
    } else if (k == "const") {
      r = both(r, tri(v == x));
    } else if (k == "enum") {
      bool in = false;
      if (x.is_array())
        for (const auto& e : x) in = in || e == v;
      r = both(r, x.is_array() ? tri(in) : Tri::kMaybe);
    } else if (k == "anyOf" || k == "oneOf" || k == "allOf") {
      if (!x.is_array()) {
        r = both(r, Tri::kMaybe);
        continue;
      }
      std::size_t yes = 0, maybe = 0;
      for (const auto& b : x) {
        const Tri t = accepts(b, v, root, depth + 1);
        yes += t == Tri::kYes;
        maybe += t == Tri::kMaybe;
      }
      const std::size_t n = x.size();
      if (k == "anyOf")
        r = both(r, yes ? Tri::kYes : maybe ? Tri::kMaybe : Tri::kNo);
      else if (k == "allOf")
        r = both(r, yes == n ? Tri::kYes : yes + maybe == n ? Tri::kMaybe : Tri::kNo);
      else
        r = both(r, yes > 1                  ? Tri::kNo
                    : yes == 1 && maybe == 0 ? Tri::kYes
                    : yes + maybe == 0       ? Tri::kNo
                                             : Tri::kMaybe);
    } else if (k == "properties" && v.is_object() && x.is_object()) {
      for (const auto& [pk, pv] : v.items())
        if (x.contains(pk)) r = both(r, accepts(x[pk], pv, root, depth + 1));
    } else if (k == "required" && v.is_object() && x.is_array()) {
      for (const auto& e : x)
        if (e.is_string() && !v.contains(e.get<std::string>())) r = Tri::kNo;
    } else if (k == "additionalProperties" && v.is_object()) {
      for (const auto& [pk, pv] : v.items())
        if (!props || !props->contains(pk)) r = both(r, accepts(x, pv, root, depth + 1));
    } else if (k == "prefixItems" && v.is_array() && x.is_array()) {
      for (std::size_t i = 0; i < x.size() && i < v.size(); ++i)
        r = both(r, accepts(x[i], v[i], root, depth + 1));
    } else if (k == "items" && v.is_array()) {
      const std::size_t from =
          s.contains("prefixItems") && s["prefixItems"].is_array() ? s["prefixItems"].size() : 0;
      for (std::size_t i = from; i < v.size(); ++i) r = both(r, accepts(x, v[i], root, depth + 1));
    } else if ((k == "minItems" || k == "maxItems") && v.is_array() && x.is_number()) {
      const double n = static_cast<double>(v.size()), b = x.get<double>();
      r = both(r, tri(k == "minItems" ? n >= b : n <= b));
    } else if ((k == "minLength" || k == "maxLength") && v.is_string() && x.is_number()) {
      const double n = static_cast<double>(code_points(v.get<std::string>())), b = x.get<double>();
      r = both(r, tri(k == "minLength" ? n >= b : n <= b));
    } else if (v.is_number() && (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" ||
                                 k == "exclusiveMaximum")) {
      if (!x.is_number()) {
        r = both(r, Tri::kMaybe);  // draft-4 boolean forms
        continue;
      }
      const double n = v.get<double>(), b = x.get<double>();
      r = both(r, tri(k == "minimum"            ? n >= b
                      : k == "maximum"          ? n <= b
                      : k == "exclusiveMinimum" ? n > b
                                                : n < b));
    } else if (k == "pattern" && v.is_string()) {
      r = both(r, pattern_matches(x, v.get<std::string>()));
    } else if (k == "format" && v.is_string()) {
      r = both(r, Tri::kMaybe);
    } else if (k == "multipleOf" || k == "uniqueItems" || k == "not" || k == "if" ||
               k == "patternProperties" || k == "minProperties" || k == "maxProperties" ||
               k == "propertyNames" || k == "contains" || k == "dependentRequired" ||
               k == "dependentSchemas" || k == "unevaluatedProperties" || k == "unevaluatedItems") {
      r = both(r, Tri::kMaybe);
    }
  }
  return r;
}

// JSON types as bits.
enum : unsigned { kNull = 1, kBool = 2, kInt = 4, kFrac = 8, kStr = 16, kArr = 32, kObj = 64 };
constexpr unsigned kAll = 127;

unsigned type_bits(const Json& t) {
  if (!t.is_string()) return kAll;
  const std::string& n = t.get_ref<const std::string&>();
  if (n == "null") return kNull;
  if (n == "boolean") return kBool;
  if (n == "integer") return kInt;
  if (n == "number") return kInt | kFrac;
  if (n == "string") return kStr;
  if (n == "array") return kArr;
  if (n == "object") return kObj;
  return kAll;
}

unsigned value_bits(const Json& v) {
  if (v.is_null()) return kNull;
  if (v.is_boolean()) return kBool;
  if (v.is_number()) return integral(v) ? kInt : kFrac;
  if (v.is_string()) return kStr;
  if (v.is_array()) return kArr;
  return kObj;
}

unsigned declared_bits(const Json& s) {
  if (!s.contains("type")) return kAll;
  const Json& t = s["type"];
  if (!t.is_array()) return type_bits(t);
  unsigned b = 0;
  for (const auto& e : t) b |= type_bits(e);
  return b;
}

const Json* values_of(const Json& s, Json& holder) {
  if (s.contains("const")) {
    holder = Json::array({s["const"]});
    return &holder;
  }
  if (s.contains("enum") && s["enum"].is_array()) return &s["enum"];
  return nullptr;
}

// The JSON types of the values const / enum allow in s; nullopt when s has neither.
std::optional<unsigned> values_bits(const Json& s) {
  Json holder;
  const Json* vals = values_of(s, holder);
  if (!vals) return std::nullopt;
  unsigned b = 0;
  for (const auto& v : *vals) b |= value_bits(v);
  return b;
}

// The object schema s0 resolves to; nullptr when the types are known without looking
// inside, with `known` set to them (unresolved or too deep: all; true: all; false: none;
// not an object: all).
const Json* object_schema(const Json& s0, const Json& root, int depth, unsigned& known) {
  const Json* sp = resolve(s0, root);
  if (!sp || depth > kMaxDepth) {
    known = kAll;
    return nullptr;
  }
  if (sp->is_boolean() || !sp->is_object()) {
    known = sp->is_boolean() && !sp->get<bool>() ? 0 : kAll;
    return nullptr;
  }
  return sp;
}

// The union of `bits` over the alternatives of an anyOf / oneOf array.
unsigned union_bits(const Json& alternatives, unsigned (*bits)(const Json&, const Json&, int),
                    const Json& root, int depth) {
  unsigned b = 0;
  for (const auto& x : alternatives) b |= bits(x, root, depth + 1);
  return b;
}

// Types a validator may accept under s (a superset).
unsigned accepted_bits(const Json& s0, const Json& root, int depth) {
  unsigned known = kAll;
  const Json* sp = object_schema(s0, root, depth, known);
  if (!sp) return known;
  const Json& s = *sp;
  unsigned t = declared_bits(s);
  if (const std::optional<unsigned> b = values_bits(s)) t &= *b;
  for (const char* k : {"anyOf", "oneOf"})
    if (s.contains(k) && s[k].is_array()) {
      t &= union_bits(s[k], accepted_bits, root, depth);
    }
  if (s.contains("allOf") && s["allOf"].is_array())
    for (const auto& x : s["allOf"]) t &= accepted_bits(x, root, depth + 1);
  return t;
}

// Types the converter's grammar may write for s (a superset; as SchemaConverter::visit).
unsigned written_bits(const Json& s0, const Json& root, int depth) {
  unsigned known = kAll;
  const Json* sp = object_schema(s0, root, depth, known);
  if (!sp) return known;
  const Json& s = *sp;
  if (const std::optional<unsigned> b = values_bits(s)) return *b;
  for (const char* k : {"anyOf", "oneOf"})
    if (s.contains(k) && s[k].is_array()) {
      return union_bits(s[k], written_bits, root, depth) & declared_bits(s);
    }
  if (s.contains("allOf")) return kObj;
  if (s.contains("type")) {
    unsigned b = declared_bits(s);
    if (s.contains(kNonIntegerKeyword)) b &= ~static_cast<unsigned>(kInt);
    return b;
  }
  if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required"))
    return kObj;
  if (s.contains("items") || s.contains("prefixItems")) return kArr;
  if (s.contains("pattern") || s.contains("format") || s.contains("minLength") ||
      s.contains("maxLength"))
    return kStr;
  return kAll;
}

struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
};

Range number_range(const Json& s) {
  Range r;
  auto num = [&](const char* k) -> const Json* {
    return s.contains(k) && s[k].is_number() ? &s[k] : nullptr;
  };
  if (auto* x = num("minimum")) r.lo = x->get<double>();
  if (auto* x = num("exclusiveMinimum"); x && x->get<double>() >= r.lo)
    r.lo = x->get<double>(), r.lo_open = true;
  if (auto* x = num("maximum")) r.hi = x->get<double>();
  if (auto* x = num("exclusiveMaximum"); x && x->get<double>() <= r.hi)
    r.hi = x->get<double>(), r.hi_open = true;
  // Draft 4's boolean exclusive forms.
  if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"] == true) r.lo_open = true;
  if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"] == true) r.hi_open = true;
  return r;
}

Range count_range(const Json& s, const char* min_key, const char* max_key, double cap) {
  Range r;
  r.lo = 0;
  if (s.contains(min_key) && s[min_key].is_number()) r.lo = s[min_key].get<double>();
  if (s.contains(max_key) && s[max_key].is_number()) r.hi = s[max_key].get<double>();
  r.hi = std::min(r.hi, cap);
  return r;
}

bool meet(const Range& a, const Range& b) {
  if (a.hi < b.lo || b.hi < a.lo) return false;
  if (a.hi == b.lo && (a.hi_open || b.lo_open)) return false;
  if (b.hi == a.lo && (b.hi_open || a.lo_open)) return false;
  return true;
}

bool contains(const Range& outer, const Range& inner) {
  const bool lo =
      outer.lo < inner.lo || (outer.lo == inner.lo && (!outer.lo_open || inner.lo_open));
  const bool hi =
      outer.hi > inner.hi || (outer.hi == inner.hi && (!outer.hi_open || inner.hi_open));
  return lo && hi;
}

struct Ctx {
  const Json& root;
  bool strict;
};

bool never_both(const Json& x0, const Json& y0, const Ctx& c, int depth);

const Json* member(const Json& s, const char* key, const std::string& name) {
  if (!s.contains(key) || !s[key].is_object() || !s[key].contains(name)) return nullptr;
  return &s[key][name];
}

// Objects X writes are never accepted by Y.
bool objects_exclusive(const Json& x, const Json& y, const Ctx& c, int depth) {
  static const Json kAny = true;
  if (x.contains("required") && x["required"].is_array()) {
    for (const auto& r : x["required"]) {
      if (!r.is_string()) continue;
      const std::string p = r.get<std::string>();
      const Json* xp = member(x, "properties", p);
      const Json* yp = member(y, "properties", p);
      if (!yp && y.contains("additionalProperties")) yp = &y["additionalProperties"];
      if (yp && never_both(xp ? *xp : kAny, *yp, c, depth + 1)) return true;
    }
  }
  const bool x_listed_only =
      (x.contains("additionalProperties") && x["additionalProperties"] == false) ||
      (c.strict && x.contains("properties") && !x.contains("additionalProperties"));
  if (x_listed_only && y.contains("required") && y["required"].is_array())
    for (const auto& r : y["required"])
      if (r.is_string() && !member(x, "properties", r.get<std::string>())) return true;
  return false;
}

bool never_both(const Json& x0, const Json& y0, const Ctx& c, int depth) {
  if (depth > kMaxDepth || --steps_left < 0) return false;
  const Json* xp = resolve(x0, c.root);
  const Json* yp = resolve(y0, c.root);
  if (!xp || !yp) return false;
  const Json& x = *xp;
  const Json& y = *yp;
  if ((x.is_boolean() && !x.get<bool>()) || (y.is_boolean() && !y.get<bool>())) return true;
  if (!x.is_object() || !y.is_object()) return false;
  Json hx, hy;
  if (const Json* vals = values_of(x, hx)) {
    for (const auto& v : *vals)
      if (accepts(y, v, c.root, depth) != Tri::kNo) return false;
    return true;
  }
  if (const Json* vals = values_of(y, hy)) {
    // X's grammar writes only values X accepts.
    for (const auto& v : *vals)
      if (accepts(x, v, c.root, depth) != Tri::kNo) return false;
    return true;
  }
  // Unions: every branch X may write from, against every branch Y may accept by.
  for (const char* k : {"anyOf", "oneOf"}) {
    if (x.contains(k) && x[k].is_array()) {
      Json base = x;
      base.erase(k);
      for (const auto& b : x[k]) {
        Json branch = b;
        if (branch.is_object())
          for (const auto& [bk, bv] : base.items())
            if (!branch.contains(bk)) branch[bk] = bv;
        if (!never_both(branch, y, c, depth + 1)) return false;
      }
      return true;
    }
  }
  for (const char* k : {"anyOf", "oneOf"}) {
    if (y.contains(k) && y[k].is_array()) {
      if (!(accepted_bits(y, c.root, depth) & written_bits(x, c.root, depth))) return true;
      for (const auto& b : y[k])
        if (!never_both(x, b, c, depth + 1)) return false;
      return true;
    }
  }
  const unsigned common = written_bits(x, c.root, depth) & accepted_bits(y, c.root, depth);
  if (common & (kNull | kBool)) return false;
  if ((common & (kInt | kFrac)) && meet(number_range(x), number_range(y))) return false;
  if ((common & kStr) && meet(count_range(x, "minLength", "maxLength", 256),
                              count_range(y, "minLength", "maxLength", 1e300)))
    return false;
  if ((common & kArr) && meet(count_range(x, "minItems", "maxItems", 64),
                              count_range(y, "minItems", "maxItems", 1e300)))
    return false;
  if ((common & kObj) && !objects_exclusive(x, y, c, depth)) return false;
  return true;
}

bool is_number_branch(const Json& s) {
  return s.is_object() && s.contains("type") && s["type"] == "number" && !s.contains("const") &&
         !s.contains("enum") && !s.contains("anyOf") && !s.contains("oneOf");
}

bool is_integer_branch(const Json& s) {
  return s.is_object() && s.contains("type") && s["type"] == "integer" && !s.contains("const") &&
         !s.contains("enum") && !s.contains("anyOf") && !s.contains("oneOf");
}

}  // namespace

std::vector<Json> exclusive_one_of(const std::vector<Json>& branches, const Json& root,
                                   bool strict_objects) {
  const Ctx c{root, strict_objects};
  steps_left = kMaxSteps;
  const std::size_t n = branches.size();
  std::vector<Json> out(n);
  std::vector<bool> dropped(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const Json* r = resolve(branches[i], root);
    if (!r) fail("oneOf branch " + std::to_string(i) + ": its $ref cannot be followed");
    out[i] = *r;
    if (out[i].is_object() && out[i].contains("$defs")) out[i].erase("$defs");
  }
  // const / enum branches keep the values no other branch may accept.
  for (std::size_t i = 0; i < n; ++i) {
    Json holder;
    const Json* vals = out[i].is_object() ? values_of(out[i], holder) : nullptr;
    if (!vals) continue;
    Json kept = Json::array();
    for (const auto& v : *vals) {
      bool alone = accepts(out[i], v, root, 0) != Tri::kNo;
      for (std::size_t j = 0; j < n && alone; ++j)
        if (j != i) alone = accepts(branches[j], v, root, 0) == Tri::kNo;
      if (alone) kept.push_back(v);
    }
    if (kept.empty()) {
      dropped[i] = true;
    } else if (kept.size() != vals->size()) {
      out[i] = Json{{"enum", kept}};
    }
  }
  // An integer branch inside a number branch's range: the integers match both, so the
  // number branch writes non-integers and the integer branch nothing.
  for (std::size_t i = 0; i < n; ++i) {
    if (dropped[i] || !is_integer_branch(out[i])) continue;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i || dropped[j] || !is_number_branch(out[j])) continue;
      if (contains(number_range(out[j]), number_range(out[i]))) {
        dropped[i] = true;
        out[j][kNonIntegerKeyword] = true;
      }
    }
  }
  std::vector<Json> result;
  for (std::size_t i = 0; i < n; ++i) {
    if (dropped[i]) continue;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i && !never_both(out[i], branches[j], c, 0))
        fail("oneOf branches " + std::to_string(i) + " and " + std::to_string(j) +
             " may both match one value, and constrained decoding can only enforce oneOf for "
             "branches it can prove exclusive (different types, const/enum values, number or "
             "length ranges, or a property both require with different const values); use "
             "anyOf, or add such a discriminator");
    result.push_back(out[i]);
  }
  if (result.empty()) fail("no value matches exactly one branch of oneOf");
  return result;
}

}  // namespace qwen3::text
