// What: one {value, name} table type and the two generic lookups over it (value -> name,
// name -> value), for every enum <-> name mapping in the runtime (devices, severities,
// finish reasons, ISA levels, HTTP statuses...).
// Why: one constexpr table per mapping instead of a switch per direction, so each name is
// written once and both directions read the same rows. Header-only and standard-library
// only, so every layer may include it (src/common sits below gguf, the lowest layer).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace qwen3 {

// One row of a name table. `name` is a string literal (NUL-terminated, static storage), so
// the lookups can hand it out as a `const char*` as well as a `std::string_view`.
template <typename T>
struct NamedValue {
  T value;
  const char* name;
};

// The name of `value` in `table`, or `fallback` when no row holds it.
template <typename T, std::size_t N>
constexpr const char* name_of(const NamedValue<T> (&table)[N], T value,
                              const char* fallback = nullptr) {
  for (const auto& row : table)
    if (row.value == value) return row.name;
  return fallback;
}

// The value whose name is exactly `name` (case-sensitive), or nullopt.
template <typename T, std::size_t N>
constexpr std::optional<T> value_of(const NamedValue<T> (&table)[N], std::string_view name) {
  for (const auto& row : table)
    if (name == row.name) return row.value;
  return std::nullopt;
}

}  // namespace qwen3
