// Included first by the *_avx512.cpp files: GCC 12's avx512fintrin.h trips
// -W(maybe-)uninitialized on its own _mm512_undefined_* placeholders (a known false
// positive), so both are off for the rest of the including file.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
