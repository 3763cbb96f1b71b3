// The value type of the Jinja chat-template interpreter: undefined, none, bool, number
// (int or float, both JavaScript doubles as in @huggingface/jinja, our reference), string,
// array, object, namespace and callable. Strings remember which of their bytes came from
// the render context (messages, tools) rather than from the template's own text, so that
// a rendered prompt can say which bytes must never be parsed for special tokens.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/text_range.h"

namespace qwen3::text::jinja {

// Any error while lexing, parsing or rendering a template (raise_exception included).
class TemplateError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class Kind {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kArray,
  kObject,
  kNamespace,
  kFunction
};
const char* kind_name(Kind k);  // as the reference names them: "UndefinedValue", ...

struct Value;
class Interpreter;
struct Scope;

// A string and the byte ranges of it that came from context data.
struct Str {
  std::string s;
  TextRanges data;
};

struct Object {
  std::vector<std::pair<std::string, Value>> items;  // insertion order
  bool keys_from_data = false;  // keys are context data (objects from messages / tools)
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

using Args = std::vector<Value>;
// A callable: positional arguments, keyword arguments in order, and the caller's scope
// (macros see their caller's variables, as in the reference).
using KwList = std::vector<std::pair<std::string, Value>>;
using Function =
    std::function<Value(Args& args, KwList& kwargs, const std::shared_ptr<Scope>& scope)>;

struct Value {
  Kind kind = Kind::kUndefined;
  bool tuple = false;  // an array written as a tuple
  double num = 0;      // kBool (0/1), kInt, kFloat
  std::shared_ptr<const Str> str;
  std::shared_ptr<std::vector<Value>> arr;
  std::shared_ptr<Object> obj;  // kObject, kNamespace
  std::shared_ptr<Function> fn;

  static Value undefined() { return {}; }
  static Value none();
  static Value boolean(bool b);
  static Value integer(double v);
  static Value floating(double v);
  static Value string(std::string s, bool from_data = false);
  static Value string(Str s);
  static Value array(std::vector<Value> items, bool tuple = false);
  static Value object(std::shared_ptr<Object> o, Kind k = Kind::kObject);
  static Value function(Function f);

  bool is(Kind k) const { return kind == k; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_container() const { return kind == Kind::kObject || kind == Kind::kNamespace; }
  bool is_nullish() const { return kind == Kind::kUndefined || kind == Kind::kNone; }
  const std::string& s() const { return str->s; }
  bool truthy() const;
};

// Context JSON -> values: numbers with an integral value become ints (JavaScript has one
// number type), object keys are put in JavaScript order (integer-like keys first), and
// every string and key is marked as data.
Value from_json(const nlohmann::ordered_json& j);

// True if any string or key inside `v` came from the context.
bool has_data(const Value& v);

// How `{{ v }}` prints (nothing for none / undefined); throws for callables.
Str to_output(const Value& v);

// How the reference's `x.value.toString()` prints a scalar in `+` / `~` concatenation.
Str concat_text(const Value& v, const char* op);

// The `tojson` filter: JSON.stringify-compatible text. indent < 0: none.
struct JsonFormat {
  int indent = -1;
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool custom_separators = false;
  std::string item_sep, key_sep;
};
std::string to_json_text(const Value& v, const JsonFormat& f, bool undefined_as_null = true);

// The reference's Number formatting for floats: 1.0 -> "1.0", -0 -> "-0.0".
std::string float_text(double v);

// Loose `==` of the reference (JavaScript `==` on the underlying values).
bool loose_equal(const Value& a, const Value& b);
// Strict identity used by `in` on arrays (JavaScript `===`).
bool strict_equal(const Value& a, const Value& b);

// Number of UTF-16 code units (JavaScript string length).
size_t js_length(std::string_view s);

// JavaScript's whitespace (String.prototype.trim, /\s/).
bool is_js_space(char32_t c);
// Byte length of the JavaScript whitespace character at s[i], 0 if there is none.
size_t js_space_at(std::string_view s, size_t i);
// [begin, end) of `s` without leading / trailing JavaScript whitespace.
std::pair<size_t, size_t> js_trim_bounds(std::string_view s);

}  // namespace qwen3::text::jinja
