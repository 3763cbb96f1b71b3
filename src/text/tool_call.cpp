#include "text/tool_call.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "text/json_limits.h"

namespace qwen3::text {

std::optional<qwen3::ToolCall> parse_tool_call(std::string_view body) {
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

// The JSON-schema "type" of parameter `param` of function `fn` in an OpenAI tools array
// ("" if not declared; the first type of a type list).
std::string param_type(const ojson& tools, const std::string& fn, const std::string& param) {
  if (!tools.is_array()) return "";
  for (const auto& t : tools) {
    if (!t.is_object()) continue;
    const ojson* f = &t;
    if (auto it = t.find("function"); it != t.end() && it->is_object()) f = &*it;
    auto name = f->find("name");
    if (name == f->end() || !name->is_string() || *name != fn) continue;
    auto params = f->find("parameters");
    if (params == f->end() || !params->is_object()) return "";
    auto props = params->find("properties");
    if (props == params->end() || !props->is_object()) return "";
    auto p = props->find(param);
    if (p == props->end() || !p->is_object()) return "";
    auto type = p->find("type");
    if (type == p->end()) return "";
    if (type->is_string()) return type->get<std::string>();
    if (type->is_array())
      for (const auto& e : *type)
        if (e.is_string() && e != "null") return e.get<std::string>();
    return "";
  }
  return "";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ojson typed_value(const std::string& v, const std::string& type) {
  if (type.empty()) return v;
  const std::string t = lower(type);
  if (lower(v) == "null") return nullptr;
  if (t == "string" || t == "str" || t == "text") return v;
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

}  // namespace

std::optional<qwen3::ToolCall> parse_xml_tool_call(std::string_view body, const ojson& tools) {
  static constexpr std::string_view kFn = "<function=", kFnEnd = "</function>";
  static constexpr std::string_view kParam = "<parameter=", kParamEnd = "</parameter>";
  std::string_view s = trim_ws(body);
  if (s.substr(0, kFn.size()) != kFn) return std::nullopt;
  s.remove_prefix(kFn.size());
  const size_t gt = s.find('>');
  if (gt == std::string_view::npos) return std::nullopt;
  std::string name(trim_ws(s.substr(0, gt)));
  if (name.empty() || name.find('\n') != std::string::npos) return std::nullopt;
  s.remove_prefix(gt + 1);
  ojson args = ojson::object();
  while (true) {
    const size_t p = s.find(kParam);
    const size_t fe = s.find(kFnEnd);
    if (p == std::string_view::npos || (fe != std::string_view::npos && fe < p)) break;
    s.remove_prefix(p + kParam.size());
    const size_t pgt = s.find('>');
    if (pgt == std::string_view::npos) return std::nullopt;
    std::string pname(trim_ws(s.substr(0, pgt)));
    s.remove_prefix(pgt + 1);
    // The value runs to </parameter>, or (unterminated) to the next parameter / the end
    // of the function.
    size_t end = s.find(kParamEnd);
    size_t next = s.find(kParam);
    size_t fend = s.find(kFnEnd);
    size_t stop = std::min({end, next, fend});
    std::string_view value = s.substr(0, stop == std::string_view::npos ? s.size() : stop);
    if (!value.empty() && value.front() == '\n') value.remove_prefix(1);
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    args[pname] = typed_value(std::string(value), param_type(tools, name, pname));
    if (stop == std::string_view::npos) {
      s = {};
      break;
    }
    s.remove_prefix(stop == end ? end + kParamEnd.size() : stop);
  }
  qwen3::ToolCall call;
  call.name = std::move(name);
  call.arguments = args.dump(-1, ' ', false, ojson::error_handler_t::replace);
  return call;
}

}  // namespace qwen3::text
