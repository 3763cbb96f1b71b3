// oneOf exclusivity for the JSON Schema converter: a value the grammar writes for a oneOf
// must match exactly one branch (as a validator such as ajv checks it), not just one.
//
// The branches are compiled as alternatives only when, for every pair (X, Y), no value
// X's grammar writes can be accepted by Y. That is proven per JSON type: different types;
// const / enum values that the other branch rejects (checked with a small validator of the
// supported keywords); number ranges or string / array length ranges that do not meet;
// objects where a property X always writes is refused by Y (a discriminator: both require
// "kind" with different const values), or Y requires a property X never writes. Where a
// pair overlaps, branches are narrowed when that is exact: const / enum values another
// branch may accept are dropped (a value in two branches is never written), and an
// integer branch inside a number branch's range is dropped while the number branch writes
// only non-integers (oneOf [integer, number] = the non-integers). Anything else that cannot
// be proven exclusive is refused with an error naming the two branches.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace qwen3::text {

// The keyword the converter reads to write only non-integers for a number schema.
inline constexpr const char* kNonIntegerKeyword = "x-qwen3-non-integer";

// The branches to compile as alternatives (narrowed, possibly fewer) for `branches` of a
// oneOf. root: the document local $refs point into. strict_objects: as SchemaLimits (an
// object schema listing properties writes no others). Throws GrammarError.
std::vector<nlohmann::ordered_json> exclusive_one_of(
    const std::vector<nlohmann::ordered_json>& branches, const nlohmann::ordered_json& root,
    bool strict_objects);

}  // namespace qwen3::text
