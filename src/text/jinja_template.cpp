// The Jinja interpreter: walks the AST of jinja_parser.cpp over jinja_value.h values with
// @huggingface/jinja's semantics (scoping, truthiness, operators, filters, tests, string
// methods, loop variables, macros and call blocks) and its error cases. Output and every
// string carry the byte ranges that came from the context (data), kept exact through
// concatenation, slicing, strip and split; other transformations of data are data whole.
#include "text/jinja_template.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "text/tojson.h"
#include "text/utf8.h"

namespace qwen3::text::jinja {

struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;
  const Value* lookup(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
  void set(const std::string& name, Value v) { vars[name] = std::move(v); }
};

namespace {

using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

void append(Str& out, const Str& piece) {
  const size_t base = out.s.size();
  out.s += piece.s;
  for (const auto& r : piece.data) {
    TextRange t{base + r.begin, base + r.end};
    if (!out.data.empty() && out.data.back().end == t.begin)
      out.data.back().end = t.end;
    else
      out.data.push_back(t);
  }
}

// s[b, e) with its data ranges.
Str sub(const Str& s, size_t b, size_t e) {
  Str out;
  out.s = s.s.substr(b, e - b);
  for (const auto& r : s.data) {
    const size_t rb = std::max(r.begin, b), re = std::min(r.end, e);
    if (rb < re) out.data.push_back({rb - b, re - b});
  }
  return out;
}

Str whole(std::string s, bool data) {
  Str out;
  out.s = std::move(s);
  if (data && !out.s.empty()) out.data.push_back({0, out.s.size()});
  return out;
}

// Byte offsets of the code points of s (plus s.size() at the end).
std::vector<size_t> code_point_starts(const std::string& s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  starts.push_back(s.size());
  return starts;
}

// Python-style slice indices as the reference computes them.
std::vector<long> slice_indices(long len, const Value& start, const Value& stop,
                                const Value& step) {
  const long st = step.is(Kind::kUndefined) ? 1 : static_cast<long>(step.num);
  if (st == 0) throw TemplateError("slice step cannot be zero");
  long b, e;
  if (st > 0) {
    b = start.is(Kind::kUndefined) ? 0 : static_cast<long>(start.num);
    b = b < 0 ? std::max(len + b, 0L) : std::min(b, len);
    e = stop.is(Kind::kUndefined) ? len : static_cast<long>(stop.num);
    e = e < 0 ? std::max(len + e, 0L) : std::min(e, len);
  } else {
    b = start.is(Kind::kUndefined) ? len - 1 : static_cast<long>(start.num);
    b = b < 0 ? std::max(len + b, -1L) : std::min(b, len - 1);
    e = stop.is(Kind::kUndefined) ? -1 : static_cast<long>(stop.num);
    e = e < -1 ? std::max(len + e, -1L) : std::min(e, len - 1);
  }
  std::vector<long> idx;
  const long dir = st > 0 ? 1 : -1;
  for (long i = b; dir * i < dir * e; i += st) idx.push_back(i);
  return idx;
}

std::string ascii_case(std::string s, bool upper) {
  // ASCII letters only; JavaScript also maps non-ASCII letters (a known difference,
  // docs/templates.md: no Qwen template changes the case of message text).
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(upper ? std::toupper(c) : std::tolower(c));
      ++i;
      continue;
    }
    const size_t start = i;
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    out.append(s, start, std::min(len, s.size() - start));
    i = start + len;
  }
  return out;
}

bool all_case(const std::string& s, bool upper) {
  return s == ascii_case(s, upper);
}

// JavaScript parseInt(s, 10) / parseFloat(s); nullopt for NaN.
std::optional<double> js_parse_int(const std::string& s) {
  auto [b, e] = js_trim_bounds(s);
  size_t i = b;
  bool neg = false;
  if (i < e && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  const size_t d0 = i;
  double v = 0;
  while (i < e && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  if (i == d0) return std::nullopt;
  return neg ? -v : v;
}
std::optional<double> js_parse_float(const std::string& s) {
  auto [b, e] = js_trim_bounds(s);
  std::string t = s.substr(b, e - b);
  size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  if (t.compare(i, 8, "Infinity") == 0) return t[0] == '-' ? -INFINITY : INFINITY;
  size_t j = i;
  bool digits = false;
  while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j, digits = true;
  if (j < t.size() && t[j] == '.') {
    ++j;
    while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j, digits = true;
  }
  if (!digits) return std::nullopt;
  if (j < t.size() && (t[j] == 'e' || t[j] == 'E')) {
    size_t k = j + 1;
    if (k < t.size() && (t[k] == '+' || t[k] == '-')) ++k;
    if (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) {
      while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
      j = k;
    }
  }
  return std::strtod(t.substr(0, j).c_str(), nullptr);
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is(Kind::kNone) && b.is(Kind::kNone)) return 0;
  if (a.is(Kind::kNone) || b.is(Kind::kNone) || a.is(Kind::kUndefined) || b.is(Kind::kUndefined)) {
    if (a.kind == b.kind) return 0;
    throw TemplateError(std::string("Cannot compare ") + kind_name(a.kind) + " with " +
                        kind_name(b.kind));
  }
  auto numeric = [](const Value& v) { return v.is_number() || v.is(Kind::kBool); };
  if (numeric(a) && numeric(b)) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  if (a.kind != b.kind)
    throw TemplateError(std::string("Cannot compare different types: ") + kind_name(a.kind) +
                        " and " + kind_name(b.kind));
  if (!a.is_string()) throw TemplateError(std::string("Cannot compare type: ") + kind_name(a.kind));
  std::string x = a.s(), y = b.s();
  if (!case_sensitive) {
    x = ascii_case(x, false);
    y = ascii_case(y, false);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t p = 0;
  while (true) {
    const size_t dot = path.find('.', p);
    const std::string part = path.substr(p, dot == std::string::npos ? std::string::npos : dot - p);
    if (v.is_container()) {
      const Value* f = v.obj->find(part);
      v = f ? *f : Value();
    } else if (v.is_array()) {
      auto n = js_parse_int(part);
      if (n && *n >= 0 && *n < static_cast<double>(v.arr->size()))
        v = (*v.arr)[static_cast<size_t>(*n)];
      else
        return Value();
    } else {
      return Value();
    }
    if (dot == std::string::npos) return v;
    p = dot + 1;
  }
}

const Value* kwarg(const KwList& kw, const char* name) {
  for (const auto& [k, v] : kw)
    if (k == name) return &v;
  return nullptr;
}

// A positional argument, else a keyword argument, else nullptr.
const Value* arg_or_kw(const Args& a, size_t i, const KwList& kw, const char* name) {
  if (i < a.size()) return &a[i];
  return kwarg(kw, name);
}

using TestFn = bool (*)(const Value&, const Value*);

TestFn find_test(const std::string& name) {
  static const std::unordered_map<std::string, TestFn> kTests = {
      {"boolean", [](const Value& v, const Value*) { return v.is(Kind::kBool); }},
      {"callable", [](const Value& v, const Value*) { return v.is(Kind::kFunction); }},
      {"odd",
       [](const Value& v, const Value*) {
         if (!v.is(Kind::kInt))
           throw TemplateError(std::string("cannot odd on ") + kind_name(v.kind));
         return std::fmod(v.num, 2) != 0;
       }},
      {"even",
       [](const Value& v, const Value*) {
         if (!v.is(Kind::kInt))
           throw TemplateError(std::string("cannot even on ") + kind_name(v.kind));
         return std::fmod(v.num, 2) == 0;
       }},
      {"false", [](const Value& v, const Value*) { return v.is(Kind::kBool) && v.num == 0; }},
      {"true", [](const Value& v, const Value*) { return v.is(Kind::kBool) && v.num != 0; }},
      {"none", [](const Value& v, const Value*) { return v.is(Kind::kNone); }},
      {"string", [](const Value& v, const Value*) { return v.is_string(); }},
      {"number", [](const Value& v, const Value*) { return v.is_number(); }},
      {"integer", [](const Value& v, const Value*) { return v.is(Kind::kInt); }},
      {"iterable", [](const Value& v, const Value*) { return v.is_array() || v.is_string(); }},
      {"mapping", [](const Value& v, const Value*) { return v.is_object(); }},
      {"sequence",
       [](const Value& v, const Value*) { return v.is_array() || v.is_object() || v.is_string(); }},
      {"lower",
       [](const Value& v, const Value*) { return v.is_string() && all_case(v.s(), false); }},
      {"upper",
       [](const Value& v, const Value*) { return v.is_string() && all_case(v.s(), true); }},
      {"defined", [](const Value& v, const Value*) { return !v.is(Kind::kUndefined); }},
      {"undefined", [](const Value& v, const Value*) { return v.is(Kind::kUndefined); }},
      {"equalto", [](const Value& v, const Value* o) { return strict_equal(v, o ? *o : Value()); }},
      {"eq", [](const Value& v, const Value* o) { return strict_equal(v, o ? *o : Value()); }},
  };
  auto it = kTests.find(name);
  return it == kTests.end() ? nullptr : it->second;
}

enum class Flow { kNormal, kBreak, kContinue };

class Interp {
 public:
  Interp(const Program& p, const RenderLimits& l) : prog_(p), lim_(l) {}

  Str run(const ScopePtr& global) {
    Str out;
    if (exec(prog_.body, global, out) != Flow::kNormal)
      throw TemplateError("break or continue outside a loop");
    return out;
  }

 private:
  [[noreturn]] void fail(const Node& n, const std::string& msg) const {
    throw TemplateError("chat template " + position_text(prog_.source, n.pos) + ": " + msg);
  }
  // Rethrows errors of builtins with the position of the node that ran them.
  template <class F>
  auto at(const Node& n, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const TemplateError& e) {
      const std::string what = e.what();
      if (what.rfind("chat template ", 0) == 0) throw;
      fail(n, what);
    }
  }

  void count_output(size_t n) {
    if (n > lim_.max_output_bytes)
      throw TemplateError("chat template output over the limit of " +
                          std::to_string(lim_.max_output_bytes) + " bytes");
  }
  void count_iterations(size_t n) {
    iterations_ += n;
    if (iterations_ > lim_.max_loop_iterations)
      throw TemplateError("chat template ran over the limit of " +
                          std::to_string(lim_.max_loop_iterations) + " loop iterations");
  }
  void emit(Str& out, const Str& piece) {
    append(out, piece);
    count_output(out.s.size());
  }

  Flow exec(const std::vector<NodePtr>& body, const ScopePtr& scope, Str& out) {
    for (const auto& np : body) {
      const Node& n = *np;
      switch (n.type) {
        case NodeType::kText:
          out.s += n.text;
          count_output(out.s.size());
          break;
        case NodeType::kComment:
          break;
        case NodeType::kIf: {
          const bool t = eval(*n.x, scope).truthy();
          Flow f = exec(t ? n.a : n.b, scope, out);
          if (f != Flow::kNormal) return f;
          break;
        }
        case NodeType::kFor:
          exec_for(n, scope, out);
          break;
        case NodeType::kSet:
          exec_set(n, scope);
          break;
        case NodeType::kMacro:
          define_macro(n, scope);
          break;
        case NodeType::kCallBlock:
          emit(out, to_output(call_block(n, scope)));
          break;
        case NodeType::kFilterBlock: {
          Str body_out;
          if (exec(n.a, scope, body_out) != Flow::kNormal)
            fail(n, "break or continue outside a loop");
          emit(out, at(n, [&] {
                 return to_output(apply_filter(Value::string(body_out), *n.y, scope));
               }));
          break;
        }
        case NodeType::kBreak:
          return Flow::kBreak;
        case NodeType::kContinue:
          return Flow::kContinue;
        default:
          emit(out, at(n, [&] { return to_output(eval(n, scope)); }));
      }
    }
    return Flow::kNormal;
  }

  void bind_target(const Node& target, const Value& v, Scope& s) {
    if (target.type == NodeType::kIdent) {
      s.set(target.text, v);
      return;
    }
    if (!v.is_array())
      fail(target, std::string("Cannot unpack non-iterable type: ") + kind_name(v.kind));
    if (v.arr->size() != target.a.size())
      fail(target, std::string("Too ") + (target.a.size() > v.arr->size() ? "few" : "many") +
                       " items to unpack");
    for (size_t j = 0; j < target.a.size(); ++j) {
      if (target.a[j]->type != NodeType::kIdent)
        fail(*target.a[j], "Cannot unpack to non-identifier");
      s.set(target.a[j]->text, (*v.arr)[j]);
    }
  }

  void exec_for(const Node& n, const ScopePtr& env, Str& out) {
    ScopePtr scope = child(env);
    Value it = eval(*n.y, scope);
    std::vector<Value> all;
    if (it.is_array()) {
      all = *it.arr;
    } else if (it.is_object()) {
      for (const auto& kv : it.obj->items)
        all.push_back(Value::string(kv.first, it.obj->keys_from_data));
    } else {
      fail(*n.y,
           std::string("Expected iterable or object type in for loop: got ") + kind_name(it.kind));
    }
    count_iterations(all.size());
    std::vector<Value> items;
    if (n.z) {
      for (const auto& v : all) {
        ScopePtr ls = child(scope);
        bind_target(*n.x, v, *ls);
        if (eval(*n.z, ls).truthy()) items.push_back(v);
      }
    } else {
      items = std::move(all);
    }
    bool no_iteration = true;
    for (size_t i = 0; i < items.size(); ++i) {
      auto loop = std::make_shared<Object>();
      const double len = static_cast<double>(items.size()), di = static_cast<double>(i);
      loop->items = {{"index", Value::integer(di + 1)},
                     {"index0", Value::integer(di)},
                     {"revindex", Value::integer(len - di)},
                     {"revindex0", Value::integer(len - di - 1)},
                     {"first", Value::boolean(i == 0)},
                     {"last", Value::boolean(i + 1 == items.size())},
                     {"length", Value::integer(len)},
                     {"previtem", i > 0 ? items[i - 1] : Value()},
                     {"nextitem", i + 1 < items.size() ? items[i + 1] : Value()}};
      scope->set("loop", Value::object(loop));
      bind_target(*n.x, items[i], *scope);
      const Flow f = exec(n.a, scope, out);
      if (f == Flow::kContinue) continue;
      if (f == Flow::kBreak) break;
      no_iteration = false;
    }
    if (no_iteration && exec(n.b, scope, out) != Flow::kNormal)
      fail(n, "break or continue in a for-else block");
  }

  void exec_set(const Node& n, const ScopePtr& scope) {
    Value rhs;
    if (n.y) {
      rhs = eval(*n.y, scope);
    } else {
      Str body;
      if (exec(n.a, scope, body) != Flow::kNormal) fail(n, "break or continue outside a loop");
      rhs = Value::string(std::move(body));
    }
    const Node& t = *n.x;
    if (t.type == NodeType::kIdent) {
      scope->set(t.text, std::move(rhs));
    } else if (t.type == NodeType::kTuple) {
      if (!rhs.is_array())
        fail(t, std::string("Cannot unpack non-iterable type in set: ") + kind_name(rhs.kind));
      bind_target(t, rhs, *scope);
    } else if (t.type == NodeType::kMember) {
      Value obj = eval(*t.x, scope);
      if (!obj.is(Kind::kNamespace)) fail(t, "cannot assign attribute on non-namespace object");
      if (t.flag || t.y->type != NodeType::kIdent)
        fail(t, "Cannot assign to member with non-identifier property");
      obj.obj->set(t.y->text, std::move(rhs));
    } else {
      fail(t, "invalid left-hand side of set");
    }
  }

  static bool accesses(const Node& n, const std::string& name) {
    if (n.type == NodeType::kIdent && n.text == name) return true;
    for (const Node* k : {n.x.get(), n.y.get(), n.z.get()})
      if (k && accesses(*k, name)) return true;
    for (const auto* v : {&n.a, &n.b, &n.c})
      for (const auto& k : *v)
        if (k && accesses(*k, name)) return true;
    return false;
  }

  // Binds a macro's (or caller block's) parameters in `s`.
  void bind_params(const Node& def, const std::vector<NodePtr>& params,
                   const std::vector<NodePtr>& body, Args& args, KwList& kwargs, const ScopePtr& s,
                   const std::string& name) {
    std::vector<std::pair<std::string, const Node*>> pending;
    KwList kw = kwargs;
    for (size_t i = 0; i < params.size(); ++i) {
      const Node& p = *params[i];
      const std::string& pname = p.text;
      Value v;
      bool have = i < args.size();
      if (have) v = args[i];
      if (!have) {
        for (auto it = kw.begin(); it != kw.end(); ++it) {
          if (it->first == pname) {
            v = it->second;
            kw.erase(it);
            have = true;
            break;
          }
        }
      }
      if (!have && p.type == NodeType::kKwArg) pending.emplace_back(pname, p.x.get());
      s->set(pname, v);
    }
    auto uses = [&](const char* special) {
      for (const auto& p : params)
        if (p->text == special) return false;
      for (const auto& b : body)
        if (accesses(*b, special)) return true;
      return false;
    };
    if (uses("kwargs")) {
      auto o = std::make_shared<Object>();
      for (auto& [k, v] : kw) o->set(k, v);
      s->set("kwargs", Value::object(o));
    } else if (!kw.empty()) {
      fail(def, "macro " + name + " takes no keyword argument '" + kw.front().first + "'");
    }
    if (uses("varargs")) {
      std::vector<Value> rest;
      for (size_t i = params.size(); i < args.size(); ++i) rest.push_back(args[i]);
      s->set("varargs", Value::array(std::move(rest)));
    } else if (args.size() > params.size()) {
      fail(def, "macro " + name + " takes not more than " + std::to_string(params.size()) +
                    " argument(s)");
    }
    for (const auto& [pname, expr] : pending) s->set(pname, eval(*expr, s));
  }

  void enter_call(const Node& n) {
    if (++call_depth_ > lim_.max_call_depth)
      fail(n, "macro calls nested deeper than " + std::to_string(lim_.max_call_depth));
  }

  void define_macro(const Node& n, const ScopePtr& scope) {
    const Node* def = &n;
    scope->set(n.text, Value::function([this, def](Args& args, KwList& kw, const ScopePtr& caller) {
                 enter_call(*def);
                 ScopePtr s = child(caller);
                 bind_params(*def, def->c, def->a, args, kw, s, "'" + def->text + "'");
                 Str out;
                 if (exec(def->a, s, out) != Flow::kNormal)
                   fail(*def, "break or continue outside a loop");
                 --call_depth_;
                 return Value::string(std::move(out));
               }));
  }

  Value call_block(const Node& n, const ScopePtr& env) {
    const Node* def = &n;
    std::weak_ptr<Scope> weak_env = env;  // no cycle through a namespace holding `caller`
    Value caller = Value::function([this, def, weak_env](Args& args, KwList& kw, const ScopePtr&) {
      ScopePtr env_now = weak_env.lock();
      if (!env_now) fail(*def, "caller() used after its call block ended (unsupported)");
      enter_call(*def);
      ScopePtr s = child(env_now);
      bind_params(*def, def->c, def->a, args, kw, s, "None");
      Str out;
      if (exec(def->a, s, out) != Flow::kNormal) fail(*def, "break or continue outside a loop");
      --call_depth_;
      return Value::string(std::move(out));
    });
    const Node& call = *n.x;
    Args args;
    KwList kw;
    eval_args(call.a, env, args, kw);
    Value fn = eval(*call.x, env);
    if (!fn.is(Kind::kFunction))
      fail(call,
           std::string("Cannot call something that is not a function: got ") + kind_name(fn.kind));
    ScopePtr s = child(env);
    s->set("caller", caller);
    return at(call, [&] { return (*fn.fn)(args, kw, s); });
  }

  void eval_args(const std::vector<NodePtr>& nodes, const ScopePtr& scope, Args& args, KwList& kw) {
    for (const auto& a : nodes) {
      if (a->type == NodeType::kSpread) {
        Value v = eval(*a->x, scope);
        if (!v.is_array())
          fail(*a, std::string("Cannot unpack non-iterable type: ") + kind_name(v.kind));
        for (const auto& e : *v.arr) args.push_back(e);
      } else if (a->type != NodeType::kKwArg && a->type != NodeType::kKwSpread) {
        args.push_back(eval(*a, scope));
      }
    }
    auto add = [&](const Node& at_node, const std::string& k, Value v) {
      for (const auto& e : kw)
        if (e.first == k) fail(at_node, "Got multiple values for keyword argument '" + k + "'");
      kw.emplace_back(k, std::move(v));
    };
    for (const auto& a : nodes) {
      if (a->type == NodeType::kKwArg) {
        add(*a, a->text, eval(*a->x, scope));
      } else if (a->type == NodeType::kKwSpread) {
        Value v = eval(*a->x, scope);
        if (!v.is_object())
          fail(*a, std::string("Argument after ** must be a mapping, not ") + kind_name(v.kind));
        for (const auto& [k, e] : v.obj->items) add(*a, k, e);
      }
    }
  }

  // ---- expressions ----

  Value eval(const Node& n, const ScopePtr& scope) {
    switch (n.type) {
      case NodeType::kInt:
        return Value::integer(n.num);
      case NodeType::kFloat:
        return Value::floating(n.num);
      case NodeType::kStr:
        return Value::string(n.text);
      case NodeType::kIdent: {
        const Value* v = scope->lookup(n.text);
        return v ? *v : Value();
      }
      case NodeType::kArray:
      case NodeType::kTuple: {
        std::vector<Value> items;
        for (const auto& e : n.a) items.push_back(eval(*e, scope));
        return Value::array(std::move(items), n.type == NodeType::kTuple);
      }
      case NodeType::kObject: {
        auto o = std::make_shared<Object>();
        for (size_t i = 0; i < n.a.size(); ++i) {
          Value k = eval(*n.a[i], scope);
          if (!k.is_string())
            fail(*n.a[i], std::string("Object keys must be strings: got ") + kind_name(k.kind));
          o->set(k.s(), eval(*n.b[i], scope));
        }
        return Value::object(o);
      }
      case NodeType::kMember:
        return at(n, [&] { return member(n, scope); });
      case NodeType::kCall: {
        Args args;
        KwList kw;
        eval_args(n.a, scope, args, kw);
        Value fn = eval(*n.x, scope);
        if (!fn.is(Kind::kFunction))
          fail(n, std::string("Cannot call something that is not a function: got ") +
                      kind_name(fn.kind));
        return at(n, [&] { return (*fn.fn)(args, kw, scope); });
      }
      case NodeType::kUnary: {
        Value v = eval(*n.x, scope);
        if (n.text == "not") return Value::boolean(!v.truthy());
        if (!(v.is_number() || v.is(Kind::kBool)))
          fail(n, "Unknown operator \"" + n.text + "\" for " + kind_name(v.kind));
        const double r = (n.text == "-" ? -1 : 1) * v.num;
        return v.is(Kind::kFloat) ? Value::floating(r) : Value::integer(r);
      }
      case NodeType::kBinary:
        return at(n, [&] { return binary(n, scope); });
      case NodeType::kFilter: {
        Value operand = eval(*n.x, scope);
        return at(n, [&] { return apply_filter(operand, *n.y, scope); });
      }
      case NodeType::kTest: {
        Value operand = eval(*n.x, scope);
        TestFn t = find_test(n.text);
        if (!t) fail(n, "Unknown test: " + n.text);
        const bool r = at(n, [&] { return t(operand, nullptr); });
        return Value::boolean(n.flag ? !r : r);
      }
      case NodeType::kSelect:
        if (!eval(*n.y, scope).truthy()) return Value();
        return eval(*n.x, scope);
      case NodeType::kTernary:
        return eval(*n.x, scope).truthy() ? eval(*n.y, scope) : eval(*n.z, scope);
      default:
        fail(n, "this construct cannot be used as a value (unsupported)");
    }
  }

  Value member(const Node& n, const ScopePtr& scope) {
    Value obj = eval(*n.x, scope);
    const Node& p = *n.y;
    if (n.flag && p.type == NodeType::kSlice) {
      if (!(obj.is_array() || obj.is_string())) fail(n, "Slice object must be an array or string");
      Value parts[3];
      const Node* nodes[3] = {p.x.get(), p.y.get(), p.z.get()};
      for (int i = 0; i < 3; ++i) {
        if (nodes[i]) parts[i] = eval(*nodes[i], scope);
        if (!(parts[i].is(Kind::kInt) || parts[i].is(Kind::kUndefined)))
          fail(n, "Slice indices must be integers or undefined");
      }
      if (obj.is_array()) {
        auto idx = slice_indices(static_cast<long>(obj.arr->size()), parts[0], parts[1], parts[2]);
        std::vector<Value> out;
        for (long i : idx) out.push_back((*obj.arr)[static_cast<size_t>(i)]);
        return Value::array(std::move(out));
      }
      const Str& s = *obj.str;
      auto starts = code_point_starts(s.s);
      auto idx = slice_indices(static_cast<long>(starts.size() - 1), parts[0], parts[1], parts[2]);
      const bool contiguous = parts[2].is(Kind::kUndefined) || parts[2].num == 1;
      if (contiguous) {
        if (idx.empty()) return Value::string("");
        return Value::string(sub(s, starts[static_cast<size_t>(idx.front())],
                                 starts[static_cast<size_t>(idx.back()) + 1]));
      }
      std::string out;
      for (long i : idx)
        out.append(s.s, starts[static_cast<size_t>(i)],
                   starts[static_cast<size_t>(i) + 1] - starts[static_cast<size_t>(i)]);
      count_output(out.size());
      return Value::string(whole(std::move(out), !s.data.empty()));
    }
    Value prop;
    if (n.flag)
      prop = eval(p, scope);
    else if (p.type == NodeType::kInt)
      prop = Value::integer(p.num);
    else
      prop = Value::string(p.text);
    if (obj.is_container()) {
      if (!prop.is_string())
        fail(n, std::string("Cannot access property with non-string: got ") + kind_name(prop.kind));
      if (const Value* v = obj.obj->find(prop.s())) return *v;
      if (obj.is_object()) return object_builtin(obj, prop.s());
      return Value();
    }
    if (obj.is_array() || obj.is_string()) {
      if (prop.is(Kind::kInt)) {
        const double i = prop.num;
        if (obj.is_array()) {
          const double len = static_cast<double>(obj.arr->size());
          const double k = i < 0 ? len + i : i;
          if (k < 0 || k >= len) return Value();
          return (*obj.arr)[static_cast<size_t>(k)];
        }
        auto starts = code_point_starts(obj.s());
        const double len = static_cast<double>(starts.size() - 1);
        const double k = i < 0 ? len + i : i;
        if (k < 0 || k >= len) return Value();
        const size_t b = starts[static_cast<size_t>(k)], e = starts[static_cast<size_t>(k) + 1];
        return Value::string(sub(*obj.str, b, e));
      }
      if (prop.is_string()) {
        if (obj.is_array()) {
          if (prop.s() == "length") return Value::integer(static_cast<double>(obj.arr->size()));
          return Value();
        }
        return string_builtin(obj, prop.s());
      }
      fail(n, std::string("Cannot access property with non-string/non-number: got ") +
                  kind_name(prop.kind));
    }
    if (!prop.is_string())
      fail(n, std::string("Cannot access property with non-string: got ") + kind_name(prop.kind));
    return Value();
  }

  Value object_builtin(const Value& obj, const std::string& name) {
    auto o = obj.obj;
    if (name == "get") {
      return Value::function([o](Args& a, KwList&, const ScopePtr&) {
        if (a.empty() || !a[0].is_string())
          throw TemplateError(std::string("Object key must be a string: got ") +
                              kind_name(a.empty() ? Kind::kUndefined : a[0].kind));
        if (const Value* v = o->find(a[0].s())) return *v;
        return a.size() > 1 ? a[1] : Value::none();
      });
    }
    if (name == "items")
      return Value::function([o](Args&, KwList&, const ScopePtr&) { return items_of(*o); });
    if (name == "keys")
      return Value::function([o](Args&, KwList&, const ScopePtr&) { return keys_of(*o); });
    if (name == "values")
      return Value::function([o](Args&, KwList&, const ScopePtr&) {
        std::vector<Value> v;
        for (const auto& kv : o->items) v.push_back(kv.second);
        return Value::array(std::move(v));
      });
    if (name == "dictsort")
      return Value::function(
          [o](Args& a, KwList& kw, const ScopePtr&) { return dictsort(*o, a, kw); });
    return Value();
  }

  static Value items_of(const Object& o) {
    std::vector<Value> v;
    for (const auto& kv : o.items)
      v.push_back(Value::array({Value::string(kv.first, o.keys_from_data), kv.second}));
    return Value::array(std::move(v));
  }
  static Value keys_of(const Object& o) {
    std::vector<Value> v;
    for (const auto& kv : o.items) v.push_back(Value::string(kv.first, o.keys_from_data));
    return Value::array(std::move(v));
  }
  static Value dictsort(const Object& o, const Args& a, const KwList& kw) {
    const Value* cs = arg_or_kw(a, 0, kw, "case_sensitive");
    const Value* by = arg_or_kw(a, 1, kw, "by");
    const Value* rev = arg_or_kw(a, 2, kw, "reverse");
    if (cs && !cs->is(Kind::kBool)) throw TemplateError("case_sensitive must be a boolean");
    if (by && !by->is_string()) throw TemplateError("by must be a string");
    if (by && by->s() != "key" && by->s() != "value")
      throw TemplateError("by must be either 'key' or 'value'");
    if (rev && !rev->is(Kind::kBool)) throw TemplateError("reverse must be a boolean");
    const size_t idx = by && by->s() == "value" ? 1 : 0;
    Value items = items_of(o);
    std::vector<Value>& v = *items.arr;
    std::stable_sort(v.begin(), v.end(), [&](const Value& x, const Value& y) {
      int r = compare_values((*x.arr)[idx], (*y.arr)[idx], cs && cs->num != 0);
      return rev && rev->num != 0 ? r > 0 : r < 0;
    });
    return items;
  }

  Value string_builtin(const Value& sv, const std::string& name) {
    auto str = sv.str;
    auto fn = [](auto f) { return Value::function(f); };
    const bool data = !str->data.empty();
    if (name == "length") return Value::integer(static_cast<double>(js_length(str->s)));
    if (name == "upper" || name == "lower") {
      const bool up = name == "upper";
      return fn([str, up, data](Args&, KwList&, const ScopePtr&) {
        return Value::string(whole(ascii_case(str->s, up), data));
      });
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      // The reference ignores the argument (.strip('\n') trims all whitespace).
      const int mode = name == "strip" ? 0 : name == "lstrip" ? 1 : 2;
      return fn([str, mode](Args&, KwList&, const ScopePtr&) {
        auto [b, e] = js_trim_bounds(str->s);
        if (b == str->s.size()) return Value::string("");
        if (mode == 1) e = str->s.size();
        if (mode == 2) b = 0;
        return Value::string(sub(*str, b, e));
      });
    }
    if (name == "title" || name == "capitalize") {
      const bool title = name == "title";
      return fn([str, title, data](Args&, KwList&, const ScopePtr&) {
        std::string s = str->s;
        bool start = true;
        for (size_t i = 0; i < s.size(); ++i) {
          const auto c = static_cast<unsigned char>(s[i]);
          const bool word = std::isalnum(c) || c == '_';
          if ((title ? start : i == 0) && word) s[i] = static_cast<char>(std::toupper(c));
          start = !word;
        }
        return Value::string(whole(std::move(s), data));
      });
    }
    if (name == "startswith" || name == "endswith") {
      const bool starts = name == "startswith";
      return fn([str, starts, name](Args& a, KwList&, const ScopePtr&) {
        if (a.empty()) throw TemplateError(name + "() requires at least one argument");
        auto test = [&](const std::string& p) {
          const std::string& s = str->s;
          if (p.size() > s.size()) return false;
          return starts ? s.compare(0, p.size(), p) == 0
                        : s.compare(s.size() - p.size(), p.size(), p) == 0;
        };
        if (a[0].is_string()) return Value::boolean(test(a[0].s()));
        if (a[0].is_array()) {
          for (const auto& e : *a[0].arr) {
            if (!e.is_string()) throw TemplateError(name + "() tuple elements must be strings");
            if (test(e.s())) return Value::boolean(true);
          }
          return Value::boolean(false);
        }
        throw TemplateError(name + "() argument must be a string or tuple of strings");
      });
    }
    if (name == "split") {
      return fn([str](Args& a, KwList&, const ScopePtr&) {
        Value sep = a.size() > 0 ? a[0] : Value::none();
        if (!(sep.is_string() || sep.is(Kind::kNone)))
          throw TemplateError("sep argument must be a string or null");
        Value maxv = a.size() > 1 ? a[1] : Value::integer(-1);
        if (!maxv.is(Kind::kInt)) throw TemplateError("maxsplit argument must be a number");
        const long maxsplit = static_cast<long>(maxv.num);
        std::vector<Value> parts;
        const std::string& s = str->s;
        if (sep.is(Kind::kNone)) {
          size_t i = 0;
          while (i < s.size()) {
            while (size_t w = js_space_at(s, i)) i += w;
            if (i >= s.size()) break;
            if (maxsplit != -1 && static_cast<long>(parts.size()) >= maxsplit) {
              parts.push_back(Value::string(sub(*str, i, s.size())));
              break;
            }
            size_t j = i;
            while (j < s.size() && !js_space_at(s, j)) {
              const auto c = static_cast<unsigned char>(s[j]);
              j += c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            }
            j = std::min(j, s.size());
            parts.push_back(Value::string(sub(*str, i, j)));
            i = j;
          }
          return Value::array(std::move(parts));
        }
        const std::string& sp = sep.s();
        if (sp.empty()) throw TemplateError("empty separator");
        std::vector<std::pair<size_t, size_t>> pieces;
        size_t b = 0;
        while (true) {
          size_t p = s.find(sp, b);
          if (p == std::string::npos) break;
          pieces.emplace_back(b, p);
          b = p + sp.size();
        }
        pieces.emplace_back(b, s.size());
        if (maxsplit != -1 && static_cast<long>(pieces.size()) > maxsplit) {
          const size_t keep = static_cast<size_t>(std::max(maxsplit, 0L));
          const size_t rest_begin = pieces[keep].first;
          pieces.resize(keep);
          pieces.emplace_back(rest_begin, s.size());
        }
        for (auto [pb, pe] : pieces) parts.push_back(Value::string(sub(*str, pb, pe)));
        return Value::array(std::move(parts));
      });
    }
    if (name == "replace") {
      return fn([this, str](Args& a, KwList& kw, const ScopePtr&) { return replace(*str, a, kw); });
    }
    return Value();
  }

  Value replace(const Str& s, const Args& a, const KwList& kw) {
    if (a.size() < 2) throw TemplateError("replace() requires at least two arguments");
    if (!(a[0].is_string() && a[1].is_string()))
      throw TemplateError("replace() arguments must be strings");
    Value count = a.size() > 2 ? a[2] : Value::none();
    if (a.size() <= 2)
      if (const Value* c = kwarg(kw, "count")) count = *c;
    if (!(count.is(Kind::kInt) || count.is(Kind::kNone)))
      throw TemplateError("replace() count argument must be a number or null");
    const std::string& from = a[0].s();
    const std::string& to = a[1].s();
    const bool data = !s.data.empty() || !a[1].str->data.empty();
    if (count.is(Kind::kInt) && count.num == 0) return Value::string(s);
    double remaining = count.is(Kind::kNone) || count.num < 0 ? INFINITY : count.num;
    std::string out;
    if (from.empty()) {
      // Inserts between code points (and at both ends), as a global empty regex does.
      auto starts = code_point_starts(s.s);
      for (size_t k = 0; k + 1 < starts.size() || k + 1 == starts.size(); ++k) {
        if (remaining > 0) {
          out += to;
          --remaining;
        }
        if (k + 1 < starts.size()) out.append(s.s, starts[k], starts[k + 1] - starts[k]);
        count_output(out.size());
      }
    } else {
      size_t b = 0;
      while (true) {
        size_t p = s.s.find(from, b);
        if (p == std::string::npos || remaining <= 0) break;
        out.append(s.s, b, p - b);
        out += to;
        --remaining;
        b = p + from.size();
        count_output(out.size());
      }
      out.append(s.s, b, std::string::npos);
    }
    count_output(out.size());
    return Value::string(whole(std::move(out), data));
  }

  Value binary(const Node& n, const ScopePtr& scope) {
    const std::string& op = n.text;
    Value l = eval(*n.x, scope);
    if (op == "and") return l.truthy() ? eval(*n.y, scope) : l;
    if (op == "or") return l.truthy() ? l : eval(*n.y, scope);
    Value r = eval(*n.y, scope);
    if (op == "==") return Value::boolean(loose_equal(l, r));
    if (op == "!=") return Value::boolean(!loose_equal(l, r));
    const bool membership = op == "in" || op == "not in";
    if (l.is(Kind::kUndefined) || r.is(Kind::kUndefined)) {
      if (r.is(Kind::kUndefined) && membership) return Value::boolean(op == "not in");
      fail(n, "Cannot perform operation " + op + " on undefined values");
    }
    if (l.is(Kind::kNone) || r.is(Kind::kNone)) fail(n, "Cannot perform operation on null values");
    if (op == "~") return concat(l, r);
    auto numeric_like = [](const Value& v) { return v.is_number() || v.is(Kind::kBool); };
    if (op == "**" && numeric_like(l) && numeric_like(r)) {
      if (l.num == 0 && r.num < 0) fail(n, "0.0 cannot be raised to a negative power");
      const double res = std::pow(l.num, r.num);
      if (!std::isfinite(res)) fail(n, "Exponentiation result is not a finite real number");
      return l.is(Kind::kFloat) || r.is(Kind::kFloat) || r.num < 0 ? Value::floating(res)
                                                                   : Value::integer(res);
    }
    if (l.is_number() && r.is_number()) {
      const double a = l.num, b = r.num;
      const bool fl = l.is(Kind::kFloat) || r.is(Kind::kFloat);
      auto num = [&](double v) { return fl ? Value::floating(v) : Value::integer(v); };
      if (op == "+") return num(a + b);
      if (op == "-") return num(a - b);
      if (op == "*") return num(a * b);
      if (op == "/") return Value::floating(a / b);
      if (op == "//") return num(std::floor(a / b));
      if (op == "%") return num(std::fmod(a, b));
      if (op == "<") return Value::boolean(a < b);
      if (op == ">") return Value::boolean(a > b);
      if (op == ">=") return Value::boolean(a >= b);
      if (op == "<=") return Value::boolean(a <= b);
    } else if (l.is_array() && r.is_array()) {
      if (op == "+") {
        std::vector<Value> v = *l.arr;
        v.insert(v.end(), r.arr->begin(), r.arr->end());
        count_iterations(v.size());
        return Value::array(std::move(v));
      }
    } else if (r.is_array()) {
      bool member = false;
      for (const auto& e : *r.arr)
        if (strict_equal(e, l)) member = true;
      if (op == "in") return Value::boolean(member);
      if (op == "not in") return Value::boolean(!member);
    }
    if ((l.is_string() || r.is_string()) && op == "+") return concat(l, r);
    if (l.is_string() && r.is_string() && membership) {
      const bool in = r.s().find(l.s()) != std::string::npos;
      return Value::boolean(op == "in" ? in : !in);
    }
    if (l.is_string() && r.is_object() && membership) {
      const bool in = r.obj->find(l.s()) != nullptr;
      return Value::boolean(op == "in" ? in : !in);
    }
    fail(n, "Unknown operator \"" + op + "\" between " + kind_name(l.kind) + " and " +
                kind_name(r.kind));
  }

  Value concat(const Value& l, const Value& r) {
    Str out = concat_text(l, "+");
    append(out, concat_text(r, "+"));
    count_output(out.s.size());
    return Value::string(std::move(out));
  }

  // ---- filters ----

  Value apply_filter(const Value& v, const Node& f, const ScopePtr& scope) {
    if (f.type == NodeType::kIdent) return simple_filter(v, f.text);
    if (f.type != NodeType::kCall || f.x->type != NodeType::kIdent) fail(f, "unknown filter form");
    const std::string& name = f.x->text;
    if (name == "tojson") {
      Args a;
      KwList kw;
      eval_args(f.a, scope, a, kw);
      JsonFormat fmt;
      if (const Value* ind = kwarg(kw, "indent")) {
        if (!(ind->is(Kind::kInt) || ind->is(Kind::kNone)))
          throw TemplateError("If set, indent must be a number");
        if (ind->is(Kind::kInt)) fmt.indent = static_cast<int>(ind->num);
      }
      if (const Value* e = kwarg(kw, "ensure_ascii")) {
        if (!e->is(Kind::kBool)) throw TemplateError("If set, ensure_ascii must be a boolean");
        fmt.ensure_ascii = e->num != 0;
      }
      if (const Value* s = kwarg(kw, "sort_keys")) {
        if (!s->is(Kind::kBool)) throw TemplateError("If set, sort_keys must be a boolean");
        fmt.sort_keys = s->num != 0;
      }
      if (const Value* s = kwarg(kw, "separators")) {
        if (s->is_array()) {
          if (s->arr->size() != 2 || !(*s->arr)[0].is_string() || !(*s->arr)[1].is_string())
            throw TemplateError("separators must be a tuple of two strings");
          fmt.custom_separators = true;
          fmt.item_sep = (*s->arr)[0].s();
          fmt.key_sep = (*s->arr)[1].s();
        } else if (!s->is(Kind::kNone)) {
          throw TemplateError("If set, separators must be a tuple of two strings");
        }
      }
      return json_value(v, fmt);
    }
    if (name == "join") {
      Args a;
      KwList kw;
      eval_args(f.a, scope, a, kw);
      const Value* sep = arg_or_kw(a, 0, kw, "separator");
      if (sep && !sep->is_string()) throw TemplateError("separator must be a string");
      Str sp = sep ? *sep->str : Str{};
      Str out;
      if (v.is_string()) {
        auto starts = code_point_starts(v.s());
        for (size_t k = 0; k + 1 < starts.size(); ++k) {
          if (k) append(out, sp);
          append(out, sub(*v.str, starts[k], starts[k + 1]));
          count_output(out.s.size());
        }
      } else if (v.is_array()) {
        for (size_t k = 0; k < v.arr->size(); ++k) {
          if (k) append(out, sp);
          append(out, join_text((*v.arr)[k]));
          count_output(out.s.size());
        }
      } else {
        throw TemplateError("Cannot apply filter \"join\" to type: " +
                            std::string(kind_name(v.kind)));
      }
      return Value::string(std::move(out));
    }
    if (name == "int" || name == "float") {
      Args a;
      KwList kw;
      eval_args(f.a, scope, a, kw);
      const bool is_int = name == "int";
      const Value* def = arg_or_kw(a, 0, kw, "default");
      Value d = def ? *def : (is_int ? Value::integer(0) : Value::floating(0));
      if (v.is_string()) {
        auto r = is_int ? js_parse_int(v.s()) : js_parse_float(v.s());
        if (!r) return d;
        return is_int ? Value::integer(*r) : Value::floating(*r);
      }
      if (v.is_number()) return v;
      if (v.is(Kind::kBool)) return is_int ? Value::integer(v.num) : Value::floating(v.num);
      throw TemplateError("Cannot apply filter \"" + name + "\" to type: " + kind_name(v.kind));
    }
    if (name == "default") {
      Args a;
      KwList kw;
      eval_args(f.a, scope, a, kw);
      Value d = a.size() > 0 ? a[0] : Value::string("");
      const Value* b = a.size() > 1 ? &a[1] : kwarg(kw, "boolean");
      if (b && !b->is(Kind::kBool)) throw TemplateError("`default` filter flag must be a boolean");
      if (v.is(Kind::kUndefined) || (b && b->num != 0 && !v.truthy())) return d;
      return v;
    }
    if (v.is_array()) {
      if (name == "selectattr" || name == "rejectattr") {
        const bool select = name == "selectattr";
        for (const auto& item : *v.arr)
          if (!item.is_container())
            throw TemplateError("`" + name + "` can only be applied to array of objects");
        for (const auto& a : f.a)
          if (a->type != NodeType::kStr)
            throw TemplateError("arguments of `" + name + "` must be strings");
        std::vector<Value> a;
        for (const auto& e : f.a) a.push_back(eval(*e, scope));
        TestFn test = nullptr;
        if (a.size() > 1) {
          test = find_test(a[1].s());
          if (!test) throw TemplateError("Unknown test: " + a[1].s());
        }
        std::vector<Value> out;
        for (const auto& item : *v.arr) {
          const Value* attr = a.empty() ? nullptr : item.obj->find(a[0].s());
          bool r = false;
          if (attr) r = test ? test(*attr, a.size() > 2 ? &a[2] : nullptr) : attr->truthy();
          if (r == select) out.push_back(item);
        }
        return Value::array(std::move(out));
      }
      if (name == "map") {
        Args a;
        KwList kw;
        eval_args(f.a, scope, a, kw);
        const Value* attr = kwarg(kw, "attribute");
        if (!attr)
          throw TemplateError(
              "`map` expressions without `attribute` set are not currently supported.");
        if (!attr->is_string()) throw TemplateError("attribute must be a string");
        const Value* def = kwarg(kw, "default");
        std::vector<Value> out;
        for (const auto& item : *v.arr) {
          if (!item.is_container()) throw TemplateError("items in map must be an object");
          Value r = attribute_path(item, attr->s());
          out.push_back(r.is(Kind::kUndefined) && def ? *def : r);
        }
        return Value::array(std::move(out));
      }
      if (name == "sort") {
        Args a;
        KwList kw;
        eval_args(f.a, scope, a, kw);
        const Value* rev = arg_or_kw(a, 0, kw, "reverse");
        const Value* cs = arg_or_kw(a, 1, kw, "case_sensitive");
        const Value* attr = arg_or_kw(a, 2, kw, "attribute");
        if (rev && !rev->is(Kind::kBool)) throw TemplateError("reverse must be a boolean");
        if (cs && !cs->is(Kind::kBool)) throw TemplateError("case_sensitive must be a boolean");
        std::string path;
        if (attr && !attr->is(Kind::kNone)) {
          if (attr->is_string())
            path = attr->s();
          else if (attr->is(Kind::kInt))
            path = js_number(attr->num);
          else
            throw TemplateError("attribute must be a string, integer, or null");
        }
        std::vector<Value> out = *v.arr;
        std::stable_sort(out.begin(), out.end(), [&](const Value& x, const Value& y) {
          const Value xa = path.empty() ? x : attribute_path(x, path);
          const Value ya = path.empty() ? y : attribute_path(y, path);
          const int r = compare_values(xa, ya, cs && cs->num != 0);
          return rev && rev->num != 0 ? r > 0 : r < 0;
        });
        return Value::array(std::move(out));
      }
      throw TemplateError("Unknown ArrayValue filter: " + name);
    }
    if (v.is_string()) {
      if (name == "replace") {
        Args a;
        KwList kw;
        eval_args(f.a, scope, a, kw);
        return replace(*v.str, a, kw);
      }
      if (name == "indent") {
        Args a;
        KwList kw;
        eval_args(f.a, scope, a, kw);
        const Value* w = arg_or_kw(a, 0, kw, "width");
        if (w && !w->is(Kind::kInt)) throw TemplateError("width must be a number");
        const Value* first = arg_or_kw(a, 1, kw, "first");
        const Value* blank = arg_or_kw(a, 2, kw, "blank");
        return indent(v, w ? static_cast<size_t>(std::max(0.0, w->num)) : 4,
                      first && first->truthy(), blank && blank->truthy());
      }
      throw TemplateError("Unknown StringValue filter: " + name);
    }
    if (v.is_object()) {
      Value b = object_builtin(v, name);
      if (b.is(Kind::kFunction)) {
        Args a;
        KwList kw;
        eval_args(f.a, scope, a, kw);
        return (*b.fn)(a, kw, scope);
      }
      throw TemplateError("Unknown ObjectValue filter: " + name);
    }
    throw TemplateError("Cannot apply filter \"" + name + "\" to type: " + kind_name(v.kind));
  }

  Value json_value(const Value& v, const JsonFormat& fmt) {
    std::string text = to_json_text(v, fmt, true);
    count_output(text.size());
    return Value::string(whole(std::move(text), has_data(v)));
  }

  Value indent(const Value& v, size_t width, bool first, bool blank) {
    const std::string pad(width, ' ');
    std::string out;
    const std::string& s = v.s();
    size_t b = 0, line = 0;
    while (true) {
      size_t e = s.find('\n', b);
      const size_t end = e == std::string::npos ? s.size() : e;
      const bool empty = end == b;
      if (!((!first && line == 0) || (!blank && empty))) out += pad;
      out.append(s, b, end - b);
      if (e == std::string::npos) break;
      out += '\n';
      b = e + 1;
      ++line;
      count_output(out.size());
    }
    return Value::string(whole(std::move(out), !v.str->data.empty()));
  }

  // How Array.prototype.join prints an element.
  static Str join_text(const Value& v) {
    if (v.is_nullish()) return {};
    if (v.is_string()) return *v.str;
    if (v.is_number() || v.is(Kind::kBool)) return concat_text(v, "join");
    throw TemplateError(std::string("join of ") + kind_name(v.kind) + " items (unsupported)");
  }

  Value simple_filter(const Value& v, const std::string& name) {
    if (name == "safe") return v;
    if (name == "tojson") return json_value(v, JsonFormat{});
    if (v.is_array()) {
      const auto& a = *v.arr;
      if (name == "list") return v;
      if (name == "first") return a.empty() ? Value() : a.front();
      if (name == "last") return a.empty() ? Value() : a.back();
      if (name == "length") return Value::integer(static_cast<double>(a.size()));
      if (name == "reverse") return Value::array(std::vector<Value>(a.rbegin(), a.rend()));
      if (name == "sort") {
        std::vector<Value> out = a;
        std::stable_sort(out.begin(), out.end(), [](const Value& x, const Value& y) {
          return compare_values(x, y, false) < 0;
        });
        return Value::array(std::move(out));
      }
      if (name == "join") {
        Str out;
        for (const auto& e : a) append(out, join_text(e));
        count_output(out.s.size());
        return Value::string(std::move(out));
      }
      if (name == "string") return json_value(v, JsonFormat{});  // undefined inside: see below
      if (name == "unique") {
        std::vector<Value> out;
        for (const auto& e : a) {
          bool seen = false;
          for (const auto& o : out)
            if (strict_equal(o, e)) seen = true;
          if (!seen) out.push_back(e);
        }
        return Value::array(std::move(out));
      }
      throw TemplateError("Unknown ArrayValue filter: " + name);
    }
    if (v.is_string()) {
      const bool data = !v.str->data.empty();
      if (name == "length") return Value::integer(static_cast<double>(js_length(v.s())));
      if (name == "upper" || name == "lower")
        return Value::string(whole(ascii_case(v.s(), name == "upper"), data));
      if (name == "title" || name == "capitalize") {
        Value f = string_builtin(v, name);
        Args a;
        KwList kw;
        return (*f.fn)(a, kw, nullptr);
      }
      if (name == "trim") {
        auto [b, e] = js_trim_bounds(v.s());
        if (b == v.s().size()) return Value::string("");
        return Value::string(sub(*v.str, b, e));
      }
      if (name == "indent") return indent(v, 4, false, false);
      if (name == "join" || name == "string") return v;
      if (name == "int") return Value::integer(js_parse_int(v.s()).value_or(0));
      if (name == "float") return Value::floating(js_parse_float(v.s()).value_or(0));
      throw TemplateError("Unknown StringValue filter: " + name);
    }
    if (v.is_number()) {
      if (name == "abs")
        return v.is(Kind::kInt) ? Value::integer(std::fabs(v.num))
                                : Value::floating(std::fabs(v.num));
      if (name == "int") return Value::integer(std::floor(v.num));
      if (name == "float") return Value::floating(v.num);
      if (name == "string") return Value::string(to_output(v));
      throw TemplateError("Unknown NumericValue filter: " + name);
    }
    if (v.is_object()) {
      if (name == "items") return items_of(*v.obj);
      if (name == "length") return Value::integer(static_cast<double>(v.obj->items.size()));
      Value b = object_builtin(v, name);
      if (b.is(Kind::kFunction)) {
        Args a;
        KwList kw;
        return (*b.fn)(a, kw, nullptr);
      }
      throw TemplateError("Unknown ObjectValue filter: " + name);
    }
    if (v.is(Kind::kBool)) {
      if (name == "bool") return v;
      if (name == "int") return Value::integer(v.num);
      if (name == "float") return Value::floating(v.num);
      if (name == "string") return Value::string(v.num != 0 ? "true" : "false");
      throw TemplateError("Unknown BooleanValue filter: " + name);
    }
    throw TemplateError("Cannot apply filter \"" + name + "\" to type: " + kind_name(v.kind));
  }

  const Program& prog_;
  const RenderLimits& lim_;
  size_t iterations_ = 0;
  size_t call_depth_ = 0;
};

std::string strftime_now(const std::string& fmt) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size() ||
        std::string("YmdbBHM%").find(fmt[i + 1]) == std::string::npos) {
      out += fmt[i];
      continue;
    }
    char buf[64];
    const char spec[3] = {'%', fmt[i + 1], 0};
    std::strftime(buf, sizeof buf, spec, &tm);
    out += buf;
    ++i;
  }
  return out;
}

void add_globals(Scope& g, const RenderLimits& lim) {
  g.set("false", Value::boolean(false));
  g.set("true", Value::boolean(true));
  g.set("none", Value::none());
  g.set("False", Value::boolean(false));
  g.set("True", Value::boolean(true));
  g.set("None", Value::none());
  g.set("raise_exception", Value::function([](Args& a, KwList&, const ScopePtr&) -> Value {
          std::string msg;
          for (size_t i = 0; i < a.size(); ++i) {
            if (i) msg += ',';
            if (!a[i].is_nullish()) msg += to_output(a[i]).s;
          }
          throw TemplateError("the template raised an exception: " + msg);
        }));
  const size_t max_items = lim.max_loop_iterations;
  g.set("range", Value::function([max_items](Args& a, KwList&, const ScopePtr&) {
          for (const auto& v : a)
            if (!v.is_number()) throw TemplateError("range() arguments must be numbers");
          double start = 0, stop = 0, step = 1;
          if (a.size() == 1) {
            stop = a[0].num;
          } else if (a.size() >= 2) {
            start = a[0].num;
            stop = a[1].num;
            if (a.size() > 2) step = a[2].num;
          } else {
            throw TemplateError("range() needs at least one argument");
          }
          if (step == 0) throw TemplateError("range() step must not be zero");
          std::vector<Value> out;
          for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= max_items)
              throw TemplateError("range() over the loop iteration limit");
            out.push_back(Value::integer(i));
          }
          return Value::array(std::move(out));
        }));
  g.set("strftime_now", Value::function([](Args& a, KwList&, const ScopePtr&) {
          if (a.empty() || !a[0].is_string())
            throw TemplateError("strftime_now() needs a format string");
          return Value::string(strftime_now(a[0].s()));
        }));
  g.set("namespace", Value::function([](Args& a, KwList& kw, const ScopePtr&) {
          if (a.size() > 1) throw TemplateError("namespace expected at most 1 argument");
          auto o = std::make_shared<Object>();
          if (a.size() == 1) {
            if (a[0].is_object()) {
              for (const auto& kv : a[0].obj->items) o->set(kv.first, kv.second);
            } else if (a[0].is_array()) {
              for (const auto& pair : *a[0].arr) {
                if (!pair.is_array() || pair.arr->size() != 2 || !(*pair.arr)[0].is_string())
                  throw TemplateError(
                      "namespace expected an object or an iterable of [key, value] pairs");
                o->set((*pair.arr)[0].s(), (*pair.arr)[1]);
              }
            } else {
              throw TemplateError(std::string("'") + kind_name(a[0].kind) +
                                  "' object is not iterable");
            }
          }
          for (const auto& [k, v] : kw) o->set(k, v);
          return Value::object(o, Kind::kNamespace);
        }));
}

}  // namespace

Template::Template(std::string source, const ParseLimits& limits)
    : program_(parse_template(source, limits)) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Str Template::render(const std::vector<std::pair<std::string, Value>>& variables,
                     const RenderLimits& limits) const {
  auto global = std::make_shared<Scope>();
  add_globals(*global, limits);
  for (const auto& [k, v] : variables) global->set(k, v);
  Interp in(*program_, limits);
  Str out = in.run(global);
  // Break reference cycles (a namespace holding a macro's caller, ...).
  global->vars.clear();
  return out;
}

Str Template::render(const nlohmann::ordered_json& context, const RenderLimits& limits) const {
  if (!context.is_object()) throw TemplateError("template context must be a JSON object");
  std::vector<std::pair<std::string, Value>> vars;
  for (auto it = context.begin(); it != context.end(); ++it)
    vars.emplace_back(it.key(), from_json(it.value()));
  return render(vars, limits);
}

}  // namespace qwen3::text::jinja
