// JSON Schema -> GBNF (see json_schema.h).
#include "text/json_schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "text/grammar.h"
#include "text/json_schema_oneof.h"
#include "text/regex_grammar.h"

namespace qwen3::text {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& what) {
  throw GrammarError("json_schema: " + what);
}

// The count `key` of schema `s` (minItems, maxLength...): `def` when absent, else a
// non-negative integer, capped at 2^30.
std::size_t schema_count(const Json& s, const char* key, std::size_t def) {
  if (!s.contains(key)) return def;
  if (!s[key].is_number_integer() || s[key].get<std::int64_t>() < 0)
    fail(std::string(key) + " must be a non-negative integer");
  return static_cast<std::size_t>(std::min<std::int64_t>(s[key].get<std::int64_t>(), 1 << 30));
}

// Bounds of numbers the grammar writes when a schema gives only one side.
constexpr std::int64_t kNumCap = 1000000000000000;  // 1e15

const std::set<std::string>& refused() {
  static const std::set<std::string> k = {"multipleOf",
                                          "uniqueItems",
                                          "not",
                                          "if",
                                          "then",
                                          "else",
                                          "patternProperties",
                                          "minProperties",
                                          "maxProperties",
                                          "propertyNames",
                                          "contains",
                                          "minContains",
                                          "maxContains",
                                          "dependentRequired",
                                          "dependentSchemas",
                                          "unevaluatedProperties",
                                          "unevaluatedItems",
                                          "$dynamicRef",
                                          "$recursiveRef"};
  return k;
}

std::string digits_all(std::size_t n) {
  return n == 0 ? std::string() : n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Same-length decimal strings a <= b: an expression matching exactly a..b.
std::string same_len_range(const std::string& a, const std::string& b) {
  if (a.empty()) return "";
  if (a == b) return gbnf_literal(a);
  const std::size_t n = a.size();
  const bool a_rest_zero = a.find_first_not_of('0', 1) == std::string::npos;
  const bool b_rest_nine = b.find_first_not_of('9', 1) == std::string::npos;
  auto join = [](const std::string& x, const std::string& y) {
    return y.empty() ? x : x + " " + y;
  };
  if (a[0] == b[0])
    return join(gbnf_literal(std::string(1, a[0])),
                "(" + same_len_range(a.substr(1), b.substr(1)) + ")");
  if (a_rest_zero && b_rest_nine)
    return join(std::string("[") + a[0] + "-" + b[0] + "]", digits_all(n - 1));
  std::vector<std::string> alts;
  alts.push_back(
      join(gbnf_literal(std::string(1, a[0])),
           n > 1 ? "(" + same_len_range(a.substr(1), std::string(n - 1, '9')) + ")" : ""));
  if (a[0] + 1 <= b[0] - 1)
    alts.push_back(join(
        std::string("[") + static_cast<char>(a[0] + 1) + "-" + static_cast<char>(b[0] - 1) + "]",
        digits_all(n - 1)));
  alts.push_back(
      join(gbnf_literal(std::string(1, b[0])),
           n > 1 ? "(" + same_len_range(std::string(n - 1, '0'), b.substr(1)) + ")" : ""));
  std::string out;
  for (const auto& x : alts) out += (out.empty() ? "" : " | ") + x;
  return out;
}

// Non-negative integers a..b without leading zeros.
std::string nonneg_range(std::int64_t a, std::int64_t b) {
  std::vector<std::string> alts;
  std::int64_t p = 1;  // 10^(len-1)
  for (std::size_t len = 1; len <= 19; ++len, p *= 10) {
    const std::int64_t lo = std::max(a, len == 1 ? 0 : p);
    const std::int64_t hi = std::min(b, len >= 19 ? INT64_MAX : p * 10 - 1);
    if (lo <= hi)
      alts.push_back("(" + same_len_range(std::to_string(lo), std::to_string(hi)) + ")");
    if (len >= 19 || p * 10 - 1 >= b) break;
  }
  std::string out;
  for (const auto& x : alts) out += (out.empty() ? "" : " | ") + x;
  return "(" + out + ")";
}

std::string int_range(std::int64_t lo, std::int64_t hi) {
  if (lo > hi) fail("no integer lies between the minimum and the maximum");
  std::vector<std::string> alts;
  if (lo < 0)
    alts.push_back("\"-\" " +
                   nonneg_range(std::max<std::int64_t>(1, -std::min<std::int64_t>(hi, -1)), -lo));
  if (hi >= 0) alts.push_back(nonneg_range(std::max<std::int64_t>(lo, 0), hi));
  if (alts.size() == 1) return alts[0];
  return "(" + alts[0] + " | " + alts[1] + ")";
}

// One character of a JSON string (written inline so a string's contents stay inside one
// rule: the matcher then steps through them without entering or leaving rules).
const std::string kJsonChar =
    "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})";

const char* kPrimitives[][2] = {
    {"ws", "\" \"?"},
    {"json-string", "\"\\\"\" (JSON_CHAR)* \"\\\"\""},
    {"json-int", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})"},
    {"json-number", "json-int (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"},
    {"json-boolean", "\"true\" | \"false\""},
    {"json-null", "\"null\""},
    {"json-value",
     "json-object | json-array | json-string | json-number | json-boolean | json-null"},
    {"json-object",
     "\"{\" (json-string \":\" ws json-value (\",\" ws json-string \":\" ws json-value)*)? \"}\""},
    {"json-array", "\"[\" (json-value (\",\" ws json-value)*)? \"]\""},
    {"fmt-date",
     "[0-9]{4} \"-\" (\"0\" [1-9] | \"1\" [0-2]) \"-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8])"},
    {"fmt-time",
     "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,3})? \"Z\""},
    {"fmt-uuid",
     "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12}"},
    {"fmt-email",
     "[a-zA-Z0-9_+-]{1,24} (\".\" [a-zA-Z0-9_+-]{1,24}){0,2} \"@\" ([a-z0-9] ([a-z0-9-]{0,20} "
     "[a-z0-9])? \".\"){1,3} [a-z]{2,8}"},
    {"fmt-uri",
     "\"https://\" [a-z0-9]{1,20} (\".\" [a-z0-9]{1,20}){1,3} (\"/\" [a-zA-Z0-9_-]{1,20}){0,4}"},
    {"fmt-ipv4", "fmt-octet \".\" fmt-octet \".\" fmt-octet \".\" fmt-octet"},
    {"fmt-octet", "[0-9] | [1-9] [0-9] | \"1\" [0-9]{2} | \"2\" [0-4] [0-9] | \"25\" [0-5]"},
};

std::string unescape_pointer(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out += s[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  if (out.size() > 40) out.resize(40);
  return out.empty() ? "x" : out;
}

}  // namespace

std::string SchemaConverter::rule(const std::string& name, const std::string& body) {
  std::string n = sanitize(name);
  if (rules_.count(n)) {
    for (int k = 2;; ++k)
      if (!rules_.count(n + "-" + std::to_string(k))) {
        n += "-" + std::to_string(k);
        break;
      }
  }
  if (rules_.size() >= limits_.max_rules)
    fail("the schema needs more than " + std::to_string(limits_.max_rules) + " grammar rules");
  rules_[n] = body;
  return n;
}

std::string SchemaConverter::primitive(const std::string& name) {
  for (const auto& p : kPrimitives)
    if (name == p[0]) {
      if (!rules_.count(name)) {
        std::string body = p[1];
        const auto at = body.find("JSON_CHAR");
        if (at != std::string::npos) body.replace(at, 9, json_char());
        if (name == "json-number" && limits_.xml_values) body = "json-int (\".\" [0-9]{1,16})?";
        rules_[name] = body;
        // Primitives refer to each other.
        static const std::map<std::string, std::vector<std::string>> deps = {
            {"json-number", {"json-int"}},
            {"json-value",
             {"json-object", "json-array", "json-string", "json-number", "json-boolean",
              "json-null"}},
            {"json-object", {"json-string", "ws", "json-value"}},
            {"json-array", {"json-value", "ws"}},
            {"fmt-ipv4", {"fmt-octet"}}};
        auto it = deps.find(name);
        if (it != deps.end())
          for (const auto& d : it->second) primitive(d);
      }
      return name;
    }
  fail("internal: no primitive " + name);
}

std::string SchemaConverter::json_char() const {
  if (!limits_.xml_values) return kJsonChar;
  std::string c = kJsonChar;
  c.insert(c.find(']'), "<");
  return c;
}

std::string SchemaConverter::add(const Json& schema, const std::string& name) {
  return add(schema, name, schema);
}

std::string SchemaConverter::add(const Json& schema, const std::string& name, const Json& root) {
  root_ = &root;
  refs_.clear();
  const std::string expr = visit(schema, name, 0);
  root_ = nullptr;
  return rules_.count(expr) ? expr : rule(name, expr);
}

std::string SchemaConverter::rules() const {
  std::string out;
  for (const auto& [n, b] : rules_) out += n + " ::= " + b + "\n";
  return out;
}

std::string SchemaConverter::ref(const std::string& pointer, std::size_t depth) {
  auto it = refs_.find(pointer);
  if (it != refs_.end()) return it->second;
  if (pointer.empty() || pointer[0] != '#')
    fail("$ref '" + pointer + "' is not local (only '#...' references are supported)");
  const Json* target = root_;
  std::string rest = pointer.substr(1);
  if (!rest.empty()) {
    if (rest[0] != '/') fail("$ref '" + pointer + "' is not a JSON pointer");
    std::size_t pos = 1;
    while (pos <= rest.size()) {
      const std::size_t next = std::min(rest.find('/', pos), rest.size());
      const std::string key = unescape_pointer(rest.substr(pos, next - pos));
      if (target->is_object() && target->contains(key)) {
        target = &(*target)[key];
      } else if (target->is_array() && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos && key.size() < 9 &&
                 std::stoul(key) < target->size()) {
        target = &(*target)[std::stoul(key)];
      } else {
        fail("$ref '" + pointer + "' points nowhere");
      }
      pos = next + 1;
    }
  }
  // Named before the body is built, so recursive schemas refer back to it.
  std::string base = rest.empty() ? "ref-root" : "ref-" + rest.substr(rest.rfind('/') + 1);
  const std::string name = rule(base, "\"\"");
  refs_[pointer] = name;
  rules_[name] = visit(*target, name + "-body", depth + 1);
  return name;
}

std::string SchemaConverter::visit(const Json& s, const std::string& name, std::size_t depth) {
  check_node(s, depth);
  if (s.is_boolean()) return primitive("json-value");  // true: any value
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) fail("$ref must be a string");
    return ref(s["$ref"].get<std::string>(), depth);
  }
  if (s.contains("const")) return gbnf_literal(s["const"].dump());
  if (s.contains("enum")) {
    const Json& e = s["enum"];
    if (!e.is_array() || e.empty()) fail("enum must be a non-empty array");
    std::string out;
    for (const auto& v : e) out += (out.empty() ? "" : " | ") + gbnf_literal(v.dump());
    return "(" + out + ")";
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    const Json& alts = s[key];
    if (!alts.is_array() || alts.empty()) fail(std::string(key) + " must be a non-empty array");
    // Keywords beside anyOf apply to every branch (a common way to share "type").
    Json base = s;
    base.erase(key);
    std::vector<Json> branches;
    for (const auto& a : alts) {
      Json branch = a;
      if (branch.is_object())
        for (const auto& [bk, bv] : base.items())
          if (!branch.contains(bk) && bk != "$defs" && bk != "definitions") branch[bk] = bv;
      branches.push_back(std::move(branch));
    }
    // oneOf: only values that match exactly one branch (json_schema_oneof.h).
    if (std::string(key) == "oneOf")
      branches = exclusive_one_of(branches, *root_, limits_.strict_objects);
    std::string out;
    std::size_t k = 0;
    for (const auto& branch : branches) {
      const std::string e = visit(branch, name + "-" + std::to_string(k++), depth + 1);
      out += (out.empty() ? "" : " | ") + e;
    }
    return "(" + out + ")";
  }
  if (s.contains("allOf")) {
    const Json& parts = s["allOf"];
    if (!parts.is_array() || parts.empty()) fail("allOf must be a non-empty array");
    // Object schemas merge (properties, required); anything else is refused.
    Json merged = s;
    merged.erase("allOf");
    for (const auto& p0 : parts) {
      const Json* p = &p0;
      if (p->contains("$ref")) fail("allOf with $ref is not supported");
      if (!p->is_object()) fail("allOf parts must be object schemas");
      for (const auto& [k, v] : p->items()) {
        if (k == "properties") {
          for (const auto& [pk, pv] : v.items()) merged["properties"][pk] = pv;
        } else if (k == "required") {
          for (const auto& r : v) merged["required"].push_back(r);
        } else if (k == "type" || k == "additionalProperties" || k == "description" ||
                   k == "title") {
          if (merged.contains(k) && merged[k] != v && k == "type")
            fail("allOf parts disagree on 'type'");
          merged[k] = v;
        } else {
          fail("allOf supports object schemas (properties, required) only; found '" + k + "'");
        }
      }
    }
    return visit(merged, name, depth + 1);
  }
  if (s.contains("type") && s["type"].is_array()) {
    const Json& types = s["type"];
    if (types.empty()) fail("type must not be an empty array");
    std::string out;
    for (const auto& t : types) {
      Json one = s;
      one["type"] = t;
      out += (out.empty() ? "" : " | ") + visit(one, name + "-" + t.dump().substr(1, 8), depth + 1);
    }
    return "(" + out + ")";
  }
  std::string type;
  if (s.contains("type")) {
    if (!s["type"].is_string()) fail("type must be a string or an array of strings");
    type = s["type"].get<std::string>();
  } else if (s.contains("properties") || s.contains("additionalProperties") ||
             s.contains("required")) {
    type = "object";
  } else if (s.contains("items") || s.contains("prefixItems")) {
    type = "array";
  } else if (s.contains("pattern") || s.contains("format") || s.contains("minLength") ||
             s.contains("maxLength")) {
    type = "string";
  } else {
    return primitive("json-value");
  }
  if (type == "object") return object(s, name, depth);
  if (type == "array") return array(s, name, depth);
  if (type == "string") return string(s);
  if (type == "integer") return number(s, true);
  if (type == "number") return number(s, false);
  if (type == "boolean") return primitive("json-boolean");
  if (type == "null") return primitive("json-null");
  fail("unknown type '" + type + "'");
}

// A JSON string (quotes included) that is none of `words`: a trie of the words where each
// node may close the string (unless a word ends there), continue along a child, or take any
// other character and be free. Keys written this way use no escapes (an escape could spell
// a listed name).
std::string SchemaConverter::key_not_in(const std::set<std::string>& words,
                                        const std::string& name) {
  const std::string plain = "[^\"\\\\\\x7F\\x00-\\x1F" + std::string(limits_.xml_values ? "<" : "");
  const std::string free_rule = rule(name + "-free", plain + "]* \"\\\"\"");
  struct TrieNode {
    std::map<std::uint32_t, std::size_t> next;
    bool end = false;
  };
  std::vector<TrieNode> trie(1);
  for (const auto& w : words) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < w.size();) {
      const auto c = static_cast<unsigned char>(w[i]);
      const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
      std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
      for (int k = 1; k < len && i + static_cast<std::size_t>(k) < w.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(w[i + static_cast<std::size_t>(k)]) & 0x3F);
      i += static_cast<std::size_t>(len);
      auto it = trie[n].next.find(cp);
      if (it == trie[n].next.end()) {
        trie.emplace_back();
        it = trie[n].next.emplace(cp, trie.size() - 1).first;
      }
      n = it->second;
    }
    trie[n].end = true;
  }
  auto hex8 = [](std::uint32_t cp) {
    static const char* d = "0123456789ABCDEF";
    std::string h = "\\U";
    for (int k = 7; k >= 0; --k) h += d[(cp >> (4 * k)) & 15];
    return h;
  };
  if (rules_.size() + trie.size() >= limits_.max_rules)
    fail("the schema needs more than " + std::to_string(limits_.max_rules) + " grammar rules");
  std::vector<std::string> names(trie.size());
  const std::string base = sanitize(name);
  for (std::size_t n = 0; n < trie.size(); ++n)
    names[n] = rule(base + "-n" + std::to_string(n), "\"\"");
  for (std::size_t n = 0; n < trie.size(); ++n) {
    std::string body = trie[n].end ? "" : "\"\\\"\" | ";
    std::string other = plain;
    for (const auto& [cp, child] : trie[n].next) other += hex8(cp);
    body += other + "] " + free_rule;
    for (const auto& [cp, child] : trie[n].next) body += " | [" + hex8(cp) + "] " + names[child];
    rules_[names[n]] = body;
  }
  return "\"\\\"\" " + names[0];
}

std::string SchemaConverter::object(const Json& s, const std::string& name, std::size_t depth) {
  const Json* props = s.contains("properties") ? &s["properties"] : nullptr;
  if (props && !props->is_object()) fail("properties must be an object");
  const Json addl = s.contains("additionalProperties") ? s["additionalProperties"] : Json();
  if (!addl.is_null() && !addl.is_boolean() && !addl.is_object())
    fail("additionalProperties must be a boolean or a schema");
  std::set<std::string> required;
  if (s.contains("required")) {
    if (!s["required"].is_array()) fail("required must be an array of names");
    for (const auto& r : s["required"]) {
      if (!r.is_string()) fail("required must be an array of names");
      required.insert(r.get<std::string>());
    }
  }
  // No listed properties and nothing against others: any object (json_object).
  if ((!props || props->empty()) && required.empty() && (addl.is_null() || addl == true))
    return primitive("json-object");
  struct Prop {
    std::string kv;  // "\"key\"" ":" ws value
    bool required;
  };
  std::vector<Prop> list;
  std::set<std::string> listed;
  auto kv = [&](const std::string& key, const std::string& value) {
    return gbnf_literal(Json(key).dump() + ":") + " " + primitive("ws") + " " + value;
  };
  if (props) {
    for (const auto& [key, sub] : props->items()) {
      const std::string v = visit(sub, name + "-" + key, depth + 1);
      list.push_back({kv(key, v), required.count(key) > 0});
      listed.insert(key);
    }
  }
  for (const auto& r : required)
    if (!listed.count(r)) list.push_back({kv(r, primitive("json-value")), true});
  // Others allowed (additionalProperties true or a schema; absent too unless strict): after
  // the listed ones, "key": value pairs whose key is none of the listed names.
  std::string extra;
  if ((addl.is_null() && !limits_.strict_objects) || addl == true || addl.is_object()) {
    const std::string v =
        addl.is_object() ? visit(addl, name + "-extra", depth + 1) : primitive("json-value");
    extra = key_not_in(listed, name + "-key") + " \":\" " + primitive("ws") + " " + v;
  }
  // tail_k: properties k.. after at least one was written; head_k: none written yet.
  const std::size_t n = list.size();
  std::vector<std::string> tail(n + 1), head(n + 1);
  const std::string comma = "\",\" " + primitive("ws") + " ";
  tail[n] = extra.empty() ? "" : "(" + comma + extra + ")*";
  head[n] = extra.empty() ? "" : "(" + extra + " " + tail[n] + ")?";
  for (std::size_t k = n; k-- > 0;) {
    const std::string after = tail[k + 1].empty() ? "" : " " + tail[k + 1];
    const std::string t =
        list[k].required ? comma + list[k].kv + after : "(" + comma + list[k].kv + ")?" + after;
    tail[k] = t.empty() ? "" : rule(name + "-t" + std::to_string(k), t);
    std::string h = list[k].kv + (tail[k + 1].empty() ? "" : " " + tail[k + 1]);
    if (!list[k].required)
      h = "(" + h + ")" + (head[k + 1].empty() ? "" : " | " + head[k + 1]) +
          (head[k + 1].empty() ? " | \"\"" : "");
    head[k] = rule(name + "-h" + std::to_string(k), h);
  }
  return "\"{\" " + (head[0].empty() ? "" : head[0] + " ") + "\"}\"";
}

std::string SchemaConverter::array(const Json& s, const std::string& name, std::size_t depth) {
  const std::size_t min_items = schema_count(s, "minItems", 0);
  std::size_t max_items = schema_count(s, "maxItems", SIZE_MAX);
  if (min_items > limits_.max_min_bound)
    fail("minItems " + std::to_string(min_items) + " is above the limit of " +
         std::to_string(limits_.max_min_bound));
  if (max_items < min_items) fail("maxItems is below minItems");
  std::vector<std::string> prefix;
  if (s.contains("prefixItems")) {
    if (!s["prefixItems"].is_array()) fail("prefixItems must be an array");
    std::size_t k = 0;
    for (const auto& p : s["prefixItems"])
      prefix.push_back(visit(p, name + "-p" + std::to_string(k++), depth + 1));
  }
  std::string item;
  bool items_false = false;
  if (s.contains("items")) {
    if (s["items"] == false)
      items_false = true;
    else
      item = visit(s["items"], name + "-item", depth + 1);
  } else {
    item = primitive("json-value");
  }
  const std::string comma = "\",\" " + primitive("ws") + " ";
  // All prefix items (up to maxItems; an array shorter than its prefix is valid but never
  // needed), then the items.
  const std::size_t P = std::min(prefix.size(), max_items);
  std::string body;
  for (std::size_t k = 0; k < P; ++k) body += (k ? " " + comma : "") + prefix[k];
  if (items_false || max_items == P) {
    if (min_items > P) fail("minItems exceeds the items allowed");
    return "\"[\" " + body + (body.empty() ? "" : " ") + "\"]\"";
  }
  const std::size_t min_more = min_items > P ? min_items - P : 0;
  std::size_t max_more = max_items == SIZE_MAX ? SIZE_MAX : max_items - P;
  if (max_more != SIZE_MAX) max_more = std::min(max_more, limits_.max_items_cap);
  max_more = std::max(max_more, min_more);
  const std::string it = rule(name + "-items", item);
  std::string rep;
  auto range = [](std::size_t lo, std::size_t hi) {
    return "{" + std::to_string(lo) +
           (hi == SIZE_MAX ? "," : (hi == lo ? "" : "," + std::to_string(hi))) + "}";
  };
  if (P > 0) {
    rep = "(" + comma + it + ")" + range(min_more, max_more);
    return "\"[\" " + body + " " + rep + " \"]\"";
  }
  if (min_more == 0) {
    if (max_more == 0) return "\"[\" \"]\"";
    rep = "(" + it + " (" + comma + it + ")" +
          range(0, max_more == SIZE_MAX ? SIZE_MAX : max_more - 1) + ")?";
  } else {
    rep = it + " (" + comma + it + ")" +
          range(min_more - 1, max_more == SIZE_MAX ? SIZE_MAX : max_more - 1);
  }
  return "\"[\" " + rep + " \"]\"";
}

// What every schema node must be, for JSON values and raw (XML) strings alike: within the
// depth limit, `true` or an object, no keyword constrained decoding refuses.
void SchemaConverter::check_node(const Json& s, std::size_t depth) {
  if (depth > limits_.max_depth)
    fail("subschemas nested deeper than " + std::to_string(limits_.max_depth));
  if (s.is_boolean()) {
    if (!s.get<bool>()) fail("the schema 'false' matches nothing");
    return;
  }
  if (!s.is_object())
    fail("a schema must be an object or a boolean, got " + s.dump().substr(0, 40));
  for (const auto& [k, v] : s.items()) {
    (void)v;
    if (refused().count(k))
      fail("the keyword '" + k + "' is not supported by constrained decoding");
  }
}

// The GBNF of a string "format" (no quotes), or "" for a format that is only an annotation.
std::string SchemaConverter::format_rule(const std::string& f) {
  if (f == "date") return primitive("fmt-date");
  if (f == "time") return primitive("fmt-time");
  if (f == "date-time")
    return "(" + primitive("fmt-date") + " \"T\" " + primitive("fmt-time") + ")";
  if (f == "uuid") return primitive("fmt-uuid");
  if (f == "email") return primitive("fmt-email");
  if (f == "uri") return primitive("fmt-uri");
  if (f == "ipv4") return primitive("fmt-ipv4");
  return "";
}

// minLength / maxLength as a GBNF repetition "{lo,hi}" of one character, "" when the
// string is unbounded; a huge maxLength is capped at limits_.max_string_cap.
std::string SchemaConverter::length_repeat(const Json& s) {
  const std::size_t lo = schema_count(s, "minLength", 0);
  std::size_t hi = schema_count(s, "maxLength", SIZE_MAX);
  if (hi < lo) fail("maxLength is below minLength");
  if (lo > limits_.max_min_bound)
    fail("minLength " + std::to_string(lo) + " is above the limit of " +
         std::to_string(limits_.max_min_bound));
  if (lo == 0 && hi == SIZE_MAX) return "";
  if (hi != SIZE_MAX) hi = std::max(lo, std::min(hi, limits_.max_string_cap));
  return "{" + std::to_string(lo) +
         (hi == SIZE_MAX ? ","
          : hi == lo     ? ""
                         : "," + std::to_string(hi)) +
         "}";
}

std::string SchemaConverter::string(const Json& s) {
  if (s.contains("format") && s["format"].is_string()) {
    const std::string body = format_rule(s["format"].get<std::string>());
    if (!body.empty()) return "\"\\\"\" " + body + " \"\\\"\"";
    // Other formats are annotations here: a plain string.
  }
  if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) fail("pattern must be a string");
    std::string re;
    try {
      RegexLimits rl;
      rl.classes_without_lt = limits_.xml_values;
      re = regex_to_gbnf(s["pattern"].get<std::string>(), true, rl);
    } catch (const GrammarError& e) {
      fail(std::string("pattern: ") + e.what());
    }
    return "\"\\\"\" " + re + " \"\\\"\"";
  }
  const std::string rep = length_repeat(s);
  if (rep.empty()) return primitive("json-string");
  return "\"\\\"\" (" + json_char() + ")" + rep + " \"\\\"\"";
}

std::string SchemaConverter::add_raw_string(const Json& schema, const std::string& name,
                                            const Json& root, const std::string& free_text,
                                            const std::vector<std::string>& forbidden) {
  root_ = &root;
  raw_free_ = free_text;
  raw_forbidden_ = &forbidden;
  std::string expr;
  try {
    expr = raw_string(schema, name, 0);
  } catch (...) {
    root_ = nullptr;
    raw_forbidden_ = nullptr;
    throw;
  }
  root_ = nullptr;
  raw_forbidden_ = nullptr;
  return rule(name, expr);
}

std::string SchemaConverter::raw_string(const Json& s, const std::string& name, std::size_t depth) {
  check_node(s, depth);
  if (s.is_boolean()) return "(" + raw_free_ + ")";  // true: any text
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) fail("$ref must be a string");
    const std::string pointer = s["$ref"].get<std::string>();
    if (pointer.empty() || pointer[0] != '#')
      fail("$ref '" + pointer + "' is not local (only '#...' references are supported)");
    const Json* target = root_;
    std::string rest = pointer.substr(1);
    std::size_t pos = 1;
    while (!rest.empty() && pos <= rest.size()) {
      if (rest[0] != '/') fail("$ref '" + pointer + "' is not a JSON pointer");
      const std::size_t next = std::min(rest.find('/', pos), rest.size());
      const std::string key = unescape_pointer(rest.substr(pos, next - pos));
      if (!target->is_object() || !target->contains(key))
        fail("$ref '" + pointer + "' points nowhere");
      target = &(*target)[key];
      pos = next + 1;
    }
    return raw_string(*target, name, depth + 1);
  }
  auto allowed = [&](const std::string& v) {
    for (const auto& f : *raw_forbidden_)
      if (v.find(f) != std::string::npos) return false;
    return true;
  };
  const char* no_string = "accepts no string that the XML tool-call form can write";
  if (s.contains("const") || s.contains("enum")) {
    const Json values = s.contains("const") ? Json::array({s["const"]}) : s["enum"];
    if (!values.is_array() || values.empty()) fail("enum must be a non-empty array");
    std::string out;
    for (const auto& v : values)
      if (v.is_string() && allowed(v.get<std::string>()))
        out += (out.empty() ? "" : " | ") + gbnf_literal(v.get<std::string>());
    if (out.empty())
      fail(std::string("the ") + (s.contains("const") ? "const" : "enum") + " " + no_string);
    return "(" + out + ")";
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    const Json& alts = s[key];
    if (!alts.is_array() || alts.empty()) fail(std::string(key) + " must be a non-empty array");
    std::string out;
    int n = 0;
    for (const auto& b : alts) {
      try {
        const std::string e = raw_string(b, name + "-" + std::to_string(n), depth + 1);
        out += (out.empty() ? "" : " | ") + e;
        ++n;
      } catch (const GrammarError&) {
      }
    }
    if (n == 0) fail(std::string(key) + " " + no_string);
    if (n > 1 && std::string(key) == "oneOf")
      fail(
          "oneOf has several string branches; the XML tool-call form writes a string "
          "parameter as raw text, so they may overlap (use anyOf)");
    return "(" + out + ")";
  }
  if (s.contains("allOf")) fail("allOf " + std::string(no_string));
  if (s.contains("type")) {
    bool string_type = s["type"] == "string";
    if (s["type"].is_array())
      for (const auto& t : s["type"]) string_type = string_type || t == "string";
    if (!string_type) fail("a parameter of type " + s["type"].dump() + " " + no_string);
  } else if (s.contains("properties") || s.contains("additionalProperties") ||
             s.contains("required") || s.contains("items") || s.contains("prefixItems")) {
    fail(std::string("an object or array schema ") + no_string);
  }
  if (s.contains("format") && s["format"].is_string()) {
    const std::string body = format_rule(s["format"].get<std::string>());
    if (!body.empty()) return body;
  }
  if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) fail("pattern must be a string");
    RegexLimits rl;
    rl.classes_without_lt = true;
    try {
      return "(" + regex_to_gbnf(s["pattern"].get<std::string>(), false, rl) + ")";
    } catch (const GrammarError& e) {
      fail(std::string("pattern: ") + e.what());
    }
  }
  const std::string rep = length_repeat(s);
  return rep.empty() ? "(" + raw_free_ + ")" : "[^<]" + rep;
}

std::string SchemaConverter::number(const Json& s, bool integer) {
  auto bound = [&](const char* key) -> std::optional<double> {
    if (!s.contains(key) || s[key].is_boolean()) return std::nullopt;
    if (!s[key].is_number()) fail(std::string(key) + " must be a number");
    return s[key].get<double>();
  };
  std::optional<double> mn = bound("minimum"), mx = bound("maximum");
  std::optional<double> xmn = bound("exclusiveMinimum"), xmx = bound("exclusiveMaximum");
  // Draft 4: exclusiveMinimum: true makes minimum exclusive.
  if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"] == true && mn) xmn = mn, mn.reset();
  if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"] == true && mx) xmx = mx, mx.reset();
  const bool non_integer = !integer && s.contains(kNonIntegerKeyword);
  if (!mn && !mx && !xmn && !xmx && !non_integer)
    return primitive(integer ? "json-int" : "json-number");
  auto clamp = [](double v) { return std::max<double>(-kNumCap, std::min<double>(kNumCap, v)); };
  double lo = -static_cast<double>(kNumCap), hi = static_cast<double>(kNumCap);
  if (mn) lo = std::max(lo, std::ceil(clamp(*mn)));
  if (xmn) lo = std::max(lo, std::floor(clamp(*xmn)) + 1);
  if (mx) hi = std::min(hi, std::floor(clamp(*mx)));
  if (xmx) hi = std::min(hi, std::ceil(clamp(*xmx)) - 1);
  const auto ilo = static_cast<std::int64_t>(lo), ihi = static_cast<std::int64_t>(hi);
  if (ilo > ihi)
    fail("no " + std::string(integer ? "integer" : "number the grammar writes") +
         " lies between the minimum and the maximum");
  if (non_integer) {
    // Numbers with a non-zero last fraction digit: never integers, and with at most 9 + 6
    // digits a double keeps them apart from integers. k.f for k in [a, b] lies in (k, k+1).
    constexpr std::int64_t kMaxWhole = 999999999;
    const std::string frac = " \".\" [0-9]{0,5} [1-9]";
    std::string alts;
    if (ilo < 0) {  // -(k.f) lies in (ilo, ihi] when -ihi <= k < -ilo
      const std::int64_t a = std::max<std::int64_t>(0, -ihi), b = std::min(-ilo - 1, kMaxWhole);
      if (a <= b) alts += "\"-\" (" + int_range(a, b) + ")" + frac;
    }
    if (ihi > 0) {
      const std::int64_t a = std::max<std::int64_t>(0, ilo), b = std::min(ihi - 1, kMaxWhole);
      if (a <= b)
        alts += (alts.empty() ? "" : " | ") + std::string("(") + int_range(a, b) + ")" + frac;
    }
    if (alts.empty()) fail("no non-integer lies between the minimum and the maximum");
    return "(" + alts + ")";
  }
  const std::string whole = int_range(ilo, ihi);
  if (integer || ilo < 0 || ilo == ihi) return "(" + whole + ")";
  // Non-negative ranges: x.fraction with lo <= x < hi stays inside [lo, hi].
  return "(" + whole + " | " + int_range(ilo, ihi - 1) + " \".\" [0-9]{1,6})";
}

std::string json_schema_to_gbnf(const Json& schema, const SchemaLimits& limits) {
  SchemaConverter c(limits);
  const std::string r = c.add(schema, "value");
  return "root ::= " + r + "\n" + c.rules();
}

}  // namespace qwen3::text
