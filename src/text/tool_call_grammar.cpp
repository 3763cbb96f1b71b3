// Qwen3-Coder XML tool-call grammar (see tool_call_grammar.h).
#include "text/tool_call_grammar.h"

#include <map>
#include <set>
#include <vector>

#include "text/grammar.h"
#include "text/tool_call.h"

namespace qwen3::text {
namespace {

using Json = nlohmann::ordered_json;

// What ends a value for the parser (text/tool_call_stream.cpp); each starts with '<'.
const std::vector<std::string>& stops() {
  static const std::vector<std::string> k = {"</parameter>", "<parameter=", "</function>"};
  return k;
}

struct Trie {
  std::map<char, Trie> next;
  bool end = false;
};

std::string cls_escape(char c) {
  static const char* d = "0123456789ABCDEF";
  const auto u = static_cast<unsigned char>(c);
  return std::string("\\x") + d[u >> 4] + d[u & 15];
}

// After '<' and the path to `t`: a proper prefix of a stop (it may end here).
std::string prefix_expr(const Trie& t) {
  std::string out = "\"\"";
  for (const auto& [c, child] : t.next)
    if (!child.end)
      out += " | " + gbnf_literal(std::string(1, c)) + " (" + prefix_expr(child) + ")";
  return out;
}

// After '<' and the path to `t`: one character that leaves every stop (not '<', which
// starts another candidate), possibly after more of a stop's prefix.
std::string diverge_expr(const Trie& t) {
  std::string cls = "[^<";
  for (const auto& [c, child] : t.next) cls += cls_escape(c);
  std::string out = cls + "]";
  for (const auto& [c, child] : t.next)
    if (!child.end)
      out += " | " + gbnf_literal(std::string(1, c)) + " (" + diverge_expr(child) + ")";
  return out;
}

[[noreturn]] void fail(const std::string& what) {
  throw GrammarError(what);
}

bool plain_name(const std::string& n) {
  if (n.empty() || n.find_first_of("<>\n\r") != std::string::npos) return false;
  return n.find_first_of(" \t") != 0 && n.find_last_of(" \t") != n.size() - 1;
}

}  // namespace

std::string xml_free_text_gbnf() {
  Trie root;  // the stops after their '<'
  for (const auto& s : stops()) {
    Trie* t = &root;
    for (std::size_t i = 1; i < s.size(); ++i) t = &t->next[s[i]];
    t->end = true;
  }
  const std::string pre = "\"<\" (" + prefix_expr(root) + ")";
  return "([^<] | (" + pre + ")* \"<\" (" + diverge_expr(root) + "))* (" + pre + ")*";
}

std::string xml_tool_call_gbnf(const std::string& name, const Json& parameters,
                               SchemaConverter& conv, const std::string& rule_prefix) {
  if (!plain_name(name))
    fail("tools: the function name " + Json(name).dump() +
         " cannot be written in the XML tool-call form (it holds '<', '>', a line break or "
         "surrounding spaces)");
  std::string body = gbnf_literal("\n<function=" + name + ">\n");
  const Json* props = nullptr;
  std::set<std::string> required;
  if (!parameters.is_null() && !(parameters.is_object() && parameters.empty())) {
    if (!parameters.is_object())
      fail("tools: the parameters of '" + name + "' must be a JSON Schema object");
    for (const char* k : {"$ref", "anyOf", "oneOf", "allOf"})
      if (parameters.contains(k))
        fail("tools: the parameters of '" + name + "': '" + k +
             "' at the top is not supported in the XML tool-call form (list the parameters "
             "under 'properties')");
    if (parameters.contains("type") && parameters["type"] != "object")
      fail("tools: the parameters of '" + name + "' must be of type object");
    if (auto p = parameters.find("properties"); p != parameters.end()) {
      if (!p->is_object())
        fail("tools: the parameters of '" + name + "': properties must be an object");
      props = &*p;
    }
    if (auto r = parameters.find("required"); r != parameters.end()) {
      if (!r->is_array())
        fail("tools: the parameters of '" + name + "': required must be an array");
      for (const auto& x : *r) {
        if (!x.is_string())
          fail("tools: the parameters of '" + name + "': required must be an array of names");
        required.insert(x.get<std::string>());
      }
    }
  }
  static const std::string free = xml_free_text_gbnf();
  auto param = [&](const std::string& key, const std::string& value) {
    return gbnf_literal("<parameter=" + key + ">\n") + " " + value + " " +
           gbnf_literal("\n</parameter>\n");
  };
  std::set<std::string> listed;
  int k = 0;
  auto value_of = [&](const std::string& key, const Json& schema) {
    const std::string rname = rule_prefix + "-p" + std::to_string(k++);
    const XmlParamType t = xml_schema_type(schema);
    try {
      if (xml_string_like(t.type))
        return conv.add_raw_string(schema, rname, parameters, free, stops());
      if (t.type == "json") return conv.add(schema, rname, parameters);
      Json typed = schema;  // only the type the parser converts to (and null)
      typed["type"] = t.nullable && t.type != "null" ? Json::array({t.type, "null"}) : Json(t.type);
      return conv.add(typed, rname, parameters);
    } catch (const std::invalid_argument& e) {
      fail("tools: the parameter '" + key + "' of '" + name + "': " + e.what());
    }
  };
  if (props) {
    for (const auto& [key, schema] : props->items()) {
      if (!plain_name(key))
        fail("tools: the parameter name " + Json(key).dump() + " of '" + name +
             "' cannot be written in the XML tool-call form");
      const std::string p = param(key, value_of(key, schema));
      body += " " + (required.count(key) ? p : "(" + p + ")?");
      listed.insert(key);
    }
  }
  for (const auto& key : required)  // required but not listed: any string
    if (!listed.count(key)) {
      if (!plain_name(key))
        fail("tools: the parameter name " + Json(key).dump() + " of '" + name +
             "' cannot be written in the XML tool-call form");
      body += " " + param(key, "(" + free + ")");
    }
  return body + " " + gbnf_literal("</function>\n");
}

}  // namespace qwen3::text
