// Writes tests/golden/ggml_quants.bin: seeded input rows, and for every weight type
// the bytes ggml's own quantizer (ggml_quantize_chunk, no importance matrix) produces
// and the floats ggml's dequantizer returns for them. Built against the libggml-base
// of bench/build_llamacpp.sh by tools/ggml_golden/regenerate.sh.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ggml.h"

enum { N_ROWS = 16, N_PER_ROW = 256 };

static uint64_t state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {  // xorshift64*, in (0, 1)
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return ((state * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}
static float gaussian(void) { return (float)(sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform())); }

static void put_u32(FILE* f, uint32_t v) { fwrite(&v, 4, 1, f); }

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s out.bin\n", argv[0]);
    return 2;
  }
  static float x[N_ROWS * N_PER_ROW];
  for (int r = 0; r < N_ROWS; ++r) {
    const float scale = 0.01f * (float)(1 << (r % 8));  // 0.01 .. 1.28
    for (int i = 0; i < N_PER_ROW; ++i) {
      float v = gaussian() * scale;
      if (r % 4 == 1 && i % 37 == 0) v *= 30.f;   // outliers
      if (r % 4 == 2 && i % 3 == 0) v = 0.f;      // sparse
      if (r % 4 == 3) v = fabsf(v) + 0.5f * scale;  // one-signed (exercises the mins)
      if (r == 15 && i < 64) v = 0.f;               // all-zero sub-blocks
      x[r * N_PER_ROW + i] = v;
    }
  }
  const enum ggml_type types[] = {GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0,
                                  GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q4_K,
                                  GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
  const int n_types = sizeof(types) / sizeof(types[0]);
  FILE* f = fopen(argv[1], "wb");
  if (!f) return 1;
  fwrite("QGLD", 1, 4, f);
  put_u32(f, N_ROWS);
  put_u32(f, N_PER_ROW);
  fwrite(x, sizeof(float), N_ROWS * N_PER_ROW, f);
  put_u32(f, (uint32_t)n_types);
  static uint8_t q[N_ROWS * N_PER_ROW * 4];
  static float y[N_ROWS * N_PER_ROW];
  for (int k = 0; k < n_types; ++k) {
    const size_t n = ggml_quantize_chunk(types[k], x, q, 0, N_ROWS, N_PER_ROW, NULL);
    ggml_get_type_traits(types[k])->to_float(q, y, N_ROWS * N_PER_ROW);
    put_u32(f, (uint32_t)types[k]);
    put_u32(f, (uint32_t)n);
    fwrite(q, 1, n, f);
    fwrite(y, sizeof(float), N_ROWS * N_PER_ROW, f);
  }
  fclose(f);
  return 0;
}
