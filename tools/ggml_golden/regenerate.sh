#!/usr/bin/env bash
# Regenerates tests/golden/ggml_quants.bin from ggml itself (the llama.cpp source of
# node-llama-cpp@3.21.1, built by bench/build_llamacpp.sh; only libggml-base is needed).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LLAMA="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}/llama.cpp"
if [[ ! -f "$LLAMA/build/bin/libggml-base.so" ]]; then
  "$ROOT/bench/build_llamacpp.sh" >/dev/null
fi
OUT="$(mktemp -d)"
cc -O2 -std=c11 -I"$LLAMA/ggml/include" "$HERE/ggml_quant_golden.c" -L"$LLAMA/build/bin" \
  -lggml-base -lm -Wl,-rpath,"$LLAMA/build/bin" -o "$OUT/ggml_quant_golden"
"$OUT/ggml_quant_golden" "$ROOT/tests/golden/ggml_quants.bin"
rm -rf "$OUT"
echo "wrote tests/golden/ggml_quants.bin ($(git -C "$ROOT" -c safe.directory='*' rev-parse --short HEAD 2>/dev/null || true))"
