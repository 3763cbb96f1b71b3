#include "text/tool_call.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "text/json_limits.h"
#include "text/tool_call_stream.h"

namespace qwen3::text {

std::optional<qwen3::ToolCall> parse_tool_call(std::string_view body) {
  ToolCallStream s(ToolCallFormat::kJson, nullptr);
  std::string args;
  s.push(body, args);
  return s.finish(args);
}

std::optional<qwen3::ToolCall> parse_tool_call_whole(std::string_view body) {
  // ordered_json keeps the model's key order in the arguments it wrote. The limits keep
  // a model that writes 50,000 nested brackets from reaching recursive code (dump below):
  // such a block is shown as text.
  nlohmann::ordered_json j;
  try {
    j = parse_json(body);
  } catch (const JsonError&) {
    return std::nullopt;
  }
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  qwen3::ToolCall call;
  call.name = name->get<std::string>();
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");  // some fine-tunes write this
  if (args == j.end() || args->is_null()) {
    call.arguments = "{}";
  } else if (args->is_string()) {
    call.arguments = args->get<std::string>();
  } else {
    call.arguments = args->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return call;
}

std::string make_tool_call_id(std::mt19937_64& rng) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<int> pick(0, sizeof kAlphabet - 2);
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
  return id;
}

}  // namespace qwen3::text

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

std::string_view trim_ws(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

XmlParamType xml_schema_type(const ojson& p) {
  XmlParamType r;
  if (!p.is_object()) return r;
  auto type = p.find("type");
  if (type == p.end()) {
    r.type = "json";
    r.nullable = true;  // JSON null, when the schema allows it
    return r;
  }
  if (type->is_string()) {
    r.type = lower(type->get<std::string>());
    r.nullable = r.type == "null";
  } else if (type->is_array()) {
    for (const auto& e : *type) {
      if (!e.is_string()) continue;
      if (lower(e.get<std::string>()) == "null")
        r.nullable = true;
      else if (r.type.empty())
        r.type = lower(e.get<std::string>());
    }
    if (r.type.empty() && r.nullable) r.type = "null";
  }
  return r;
}

XmlParamType xml_param_type(const ojson& tools, const std::string& fn, const std::string& param) {
  if (!tools.is_array()) return {};
  for (const auto& t : tools) {
    if (!t.is_object()) continue;
    const ojson* f = &t;
    if (auto it = t.find("function"); it != t.end() && it->is_object()) f = &*it;
    auto name = f->find("name");
    if (name == f->end() || !name->is_string() || *name != fn) continue;
    auto params = f->find("parameters");
    if (params == f->end() || !params->is_object()) return {};
    auto props = params->find("properties");
    if (props == params->end() || !props->is_object()) return {};
    auto p = props->find(param);
    if (p == props->end() || !p->is_object()) return {};
    return xml_schema_type(*p);
  }
  return {};
}

bool xml_string_like(const std::string& t) {
  return t.empty() || t == "string" || t == "str" || t == "text";
}

ojson xml_typed_value(const std::string& v, const XmlParamType& type) {
  if (type.type.empty()) return v;
  const std::string& t = type.type;
  if (lower(v) == "null" && (type.nullable || !xml_string_like(t))) return nullptr;
  if (xml_string_like(t)) return v;
  if (t == "integer" || t == "int") {
    const std::string_view s = trim_ws(v);
    if (s.empty()) return v;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == s.size()) return v;
    for (size_t k = i; k < s.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return v;
    try {
      return static_cast<int64_t>(std::stoll(std::string(s)));
    } catch (...) {
      return v;
    }
  }
  if (t == "number" || t == "float" || t == "double") {
    const std::string s(trim_ws(v));
    char* end = nullptr;
    if (s.empty()) return v;
    const double d = std::strtod(s.c_str(), &end);
    if (*end || !std::isfinite(d)) return v;
    if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
    return d;
  }
  if (t == "boolean" || t == "bool") {
    const std::string s = lower(std::string(trim_ws(v)));
    if (s == "true") return true;
    if (s == "false") return false;
    return v;
  }
  // object, array and anything else: JSON if it parses.
  try {
    return parse_json(v);
  } catch (const JsonError&) {
    return v;
  }
}

std::optional<qwen3::ToolCall> parse_xml_tool_call(std::string_view body, const ojson& tools) {
  ToolCallStream s(ToolCallFormat::kXml, &tools);
  std::string args;
  s.push(body, args);
  return s.finish(args);
}

}  // namespace qwen3::text
