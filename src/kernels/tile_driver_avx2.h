// Walks an nr x nt output tile with register-blocked micro-kernels: 4 rows x 1 token
// for decode (the activation row is loaded once for 4 weight rows), 2 rows x 4 tokens
// for prompts (each unpacked weight block is reused for 4 tokens). Every output keeps
// its own accumulator and block order, so the result does not depend on the tiling.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels_avx2.h"

namespace qwen3::avx2 {

// K provides: template <int R, int T> static void run(int64_t n, const uint8_t* w,
// size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy);
template <class K, int R>
inline void run_tokens(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, int nt,
                       float* y, int64_t ldy) {
  int t = 0;
  for (; t + 4 <= nt; t += 4) K::template run<R, 4>(n, w, ws, x + t * xs, xs, y + t * ldy, ldy);
  const uint8_t* xt = x + t * xs;
  float* yt = y + t * ldy;
  switch (nt - t) {
    case 3:
      K::template run<R, 3>(n, w, ws, xt, xs, yt, ldy);
      break;
    case 2:
      K::template run<R, 2>(n, w, ws, xt, xs, yt, ldy);
      break;
    case 1:
      K::template run<R, 1>(n, w, ws, xt, xs, yt, ldy);
      break;
    default:
      break;
  }
}

template <class K>
void drive(int64_t n, const void* wv, size_t ws, int nr, const void* xv, size_t xs, int nt,
           float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  if (nt == 1) {
    int r = 0;
    for (; r + 4 <= nr; r += 4) K::template run<4, 1>(n, w + r * ws, ws, x, xs, y + r, ldy);
    for (; r < nr; ++r) K::template run<1, 1>(n, w + r * ws, ws, x, xs, y + r, ldy);
    return;
  }
  int r = 0;
  for (; r + 2 <= nr; r += 2) run_tokens<K, 2>(n, w + r * ws, ws, x, xs, nt, y + r, ldy);
  if (r < nr) run_tokens<K, 1>(n, w + r * ws, ws, x, xs, nt, y + r, ldy);
}

// Types with rows8 kernels: prompts (>= 4 tokens) pack whole groups of 8 plain rows on
// the fly for the rows8 kernel; the remaining rows, and decode, take K.
template <class K, GgmlType kType>
void drive_rows8(int64_t n, const void* wv, size_t ws, int nr, const void* x, size_t xs, int nt,
                 float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  int r = 0;
  if (nt >= 4)
    for (; r + 8 <= nr; r += 8) rows8_from_plain(kType, n, w + r * ws, ws, x, xs, nt, y + r, ldy);
  if (r < nr) drive<K>(n, w + r * ws, ws, nr - r, x, xs, nt, y + r, ldy);
}

}  // namespace qwen3::avx2
