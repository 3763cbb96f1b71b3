// JSON text exactly as the chat template's `tojson` filter writes it (@huggingface/jinja,
// which mirrors Python's json.dumps(ensure_ascii=False)): ", " and ": " separators,
// non-ASCII left as UTF-8, numbers as JavaScript prints them, and object keys in
// JavaScript order (integer-like keys first, ascending; the rest in insertion order).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace qwen3::text {

// Throws std::invalid_argument for values JSON cannot hold (binary, discarded).
std::string tojson(const nlohmann::ordered_json& value);

// A JSON string literal as JSON.stringify writes it (quotes included).
std::string js_string_literal(std::string_view utf8);

// A number as JavaScript's Number.prototype.toString writes it (1 -> "1", 1e21 ->
// "1e+21", 1e-7 -> "1e-7", -0 -> "0"); non-finite values -> "null" as in JSON.
std::string js_number(double v);

// An ECMAScript "array index" key: canonical decimal below 2^32 - 1 (*value set). JS
// objects list these keys first, in numeric order.
bool is_array_index(const std::string& key, std::uint64_t* value);

}  // namespace qwen3::text
