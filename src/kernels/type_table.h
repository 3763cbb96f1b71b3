// Tables keyed by weight type ({type, kernel} rows) and their one lookup, so each
// "which kernel serves type t" mapping is a list of pairs instead of a switch of its own.
// The lookups run once per matmul call or per packed group, never per block.
//
// Everything sits in an anonymous namespace, as in rows8_vnni.h: each including file
// (some built with AVX2 or AVX-512 flags) gets its own copy, so the linker never keeps
// one compiled for a higher ISA level for the callers of a lower one.
#pragma once

#include <cstddef>

#include "gguf/ggml_types.h"

namespace qwen3::detail {
namespace {

template <class Fn>
struct TypedFn {
  GgmlType type;
  Fn fn;
};

// The entry of type t, or nullptr (Fn{}) where the table has none.
template <class Fn, size_t N>
constexpr Fn find_fn(const TypedFn<Fn> (&table)[N], GgmlType t) {
  for (const TypedFn<Fn>& e : table)
    if (e.type == t) return e.fn;
  return Fn{};
}

}  // namespace
}  // namespace qwen3::detail
