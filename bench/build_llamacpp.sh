#!/usr/bin/env bash
# Builds llama.cpp's llama-bench natively (AVX2, OpenMP) from the release source that
# node-llama-cpp@3.21.1 ships as a git bundle, in a scratch folder outside the repo.
# Idempotent: reuses an existing build. Prints the path of llama-bench on stdout (with
# --server: of llama-server, built from the same source for server comparisons).
# --no-amx (or QWEN3_LLAMA_NO_AMX=1, which the compare scripts pass through): the same
# native build with AMX compiled out (-mno-amx-*), in build-noamx/. On the Intel Xeon VM
# of session 12 (AMX-TILE/INT8 exposed, arch_prctl granted) the plain native build dies
# with SIGILL at a `tileloadd` in ggml's AMX mul_mat on any prompt, and its AMX
# single-token path decoded 0.6B Q4_0 at 6.5 tok/s: there the no-AMX build is the reference.
# Usage: bench/build_llamacpp.sh [--jobs N] [--server] [--no-amx]
set -euo pipefail

JOBS=2
TARGET=llama-bench
NO_AMX="${QWEN3_LLAMA_NO_AMX:-0}"
while (($#)); do
  case "$1" in
    --jobs) JOBS="$2"; shift 2 ;;
    --server) TARGET=llama-server; shift ;;
    --no-amx) NO_AMX=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ROOT="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}"
PKG="node-llama-cpp@3.21.1"
BUILD=build
EXTRA=()
if [[ "$NO_AMX" == 1 ]]; then
  BUILD=build-noamx
  EXTRA=(-DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
         -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
fi
BIN="$ROOT/llama.cpp/$BUILD/bin/$TARGET"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$ROOT"
cd "$ROOT"
if [[ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]]; then
  echo "installing $PKG (source bundle only, no prebuilt binaries)..." >&2
  [[ -f package.json ]] || echo '{"name":"qwen3-bench","private":true}' > package.json
  npm install --no-save --ignore-scripts --no-audit --no-fund "$PKG" >&2
fi
if [[ ! -d llama.cpp/.git ]]; then
  rm -rf llama.cpp
  git clone --quiet node_modules/node-llama-cpp/llama/gitRelease.bundle llama.cpp >&2
fi
cmake -S llama.cpp -B "llama.cpp/$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
  -DGGML_OPENMP=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF "${EXTRA[@]}" >&2
cmake --build "llama.cpp/$BUILD" -j"$JOBS" --target "$TARGET" >&2
echo "$BIN"
