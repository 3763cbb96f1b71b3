// JSON Schema -> GBNF (text/grammar.h) for constrained decoding: the draft 2020-12 subset
// real APIs use. Supported: type (and type arrays), properties, required,
// additionalProperties, items, prefixItems, minItems/maxItems, enum, const, anyOf/oneOf,
// allOf of object schemas, $ref to "#", "#/$defs/..." and "#/definitions/...", string
// pattern (regex), format (date, time, date-time, uuid, email, uri, ipv4), minLength/
// maxLength, minimum/maximum and their exclusive forms; annotations (title, description,
// default, examples, $schema, $id, $comment, ...) are ignored. Keywords whose constraint
// the grammar cannot hold (multipleOf, uniqueItems, not, if/then/else,
// patternProperties, min/maxProperties, ...) are refused with an error naming them.
//
// The output is compact JSON: properties in the schema's order, one optional space after
// ':' and ',' (whitespace between tokens is limited, as XGrammar and llguidance do), so a
// model cannot spend its tokens on layout. An object schema that lists properties allows no
// others unless additionalProperties says so (SchemaLimits::strict_objects, as llama.cpp and
// XGrammar's strict mode); extra keys come after the listed properties and never repeat a
// listed name. A bare {"type": "object"} is any object. Upper bounds above the caps below
// are lowered (a shorter string or array is still valid). oneOf writes only values that
// match exactly one branch, or is refused (text/json_schema_oneof.h).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qwen3::text {

struct SchemaLimits {
  std::size_t max_depth = 32;        // nested subschemas
  std::size_t max_rules = 2048;      // generated rules
  std::size_t max_string_cap = 256;  // maxLength above this is lowered to it
  std::size_t max_items_cap = 64;    // maxItems above this is lowered to it
  std::size_t max_min_bound = 256;   // minLength / minItems above this are refused
  // An object schema listing properties without additionalProperties allows no others (as
  // llama.cpp's converter and XGrammar's strict mode do); false: JSON Schema's default.
  bool strict_objects = true;
  // Values inside Qwen3-Coder's XML tool-call form: strings never hold a raw '<' (which
  // could spell "</parameter>" and end the value early; "\u003c" stays possible) and
  // numbers have no exponent (the parser reads them with strtod: 1e999 is no number).
  bool xml_values = false;
};

class SchemaConverter {
 public:
  explicit SchemaConverter(const SchemaLimits& limits = {}) : limits_(limits) {}
  // Adds rules for the values `schema` accepts (it is also the root "#" of its $refs);
  // returns the rule name. Throws std::invalid_argument (GrammarError) naming the problem.
  std::string add(const nlohmann::ordered_json& schema, const std::string& name);
  // The same for a subschema of `root` (its $refs resolve in root).
  std::string add(const nlohmann::ordered_json& schema, const std::string& name,
                  const nlohmann::ordered_json& root);
  // A rule for the raw text (no quotes, no escapes: values of Qwen3-Coder's XML tool-call
  // form) of strings `schema` accepts: its const / enum strings, format, pattern or length
  // bounds (through anyOf, a single string branch of oneOf, $ref). `free_text`: the GBNF
  // expression for a string without constraints; bounded strings and patterns hold no '<'
  // at all, const / enum strings containing one of `forbidden` are left out. Throws when
  // the schema accepts no string written this way.
  std::string add_raw_string(const nlohmann::ordered_json& schema, const std::string& name,
                             const nlohmann::ordered_json& root, const std::string& free_text,
                             const std::vector<std::string>& forbidden);
  // Every rule added so far, GBNF text.
  std::string rules() const;

 private:
  std::string visit(const nlohmann::ordered_json& s, const std::string& name, std::size_t depth);
  std::string object(const nlohmann::ordered_json& s, const std::string& name, std::size_t depth);
  std::string array(const nlohmann::ordered_json& s, const std::string& name, std::size_t depth);
  std::string string(const nlohmann::ordered_json& s);
  void check_node(const nlohmann::ordered_json& s, std::size_t depth);
  std::string format_rule(const std::string& format);
  std::string length_repeat(const nlohmann::ordered_json& s);
  std::string number(const nlohmann::ordered_json& s, bool integer);
  std::string ref(const std::string& pointer, std::size_t depth);
  std::string key_not_in(const std::set<std::string>& words, const std::string& name);
  std::string rule(const std::string& name, const std::string& body);
  std::string primitive(const std::string& name);
  std::string raw_string(const nlohmann::ordered_json& s, const std::string& name,
                         std::size_t depth);
  std::string raw_free_ = "[^<]*";
  const std::vector<std::string>* raw_forbidden_ = nullptr;
  std::string json_char() const;

  SchemaLimits limits_;
  const nlohmann::ordered_json* root_ = nullptr;
  std::map<std::string, std::string> rules_;  // name -> body
  std::map<std::string, std::string> refs_;   // "#/..." -> rule name (per root)
};

// A grammar (start rule `root`) for the values of `schema`.
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                const SchemaLimits& limits = {});

}  // namespace qwen3::text
