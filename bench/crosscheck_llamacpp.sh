#!/usr/bin/env bash
# Greedy cross-check against llama.cpp: a random Qwen3 Hugging Face checkpoint converted
# to Q8_0 by `qwen3 convert` must decode the same --steps greedy tokens in qwen3 and in
# llama.cpp (node-llama-cpp@3.21.1 and its prebuilt CPU binary). Prints PASS or FAIL (with
# the first divergence and its logit margin; "PASS (near-tie)" when the lists differ only by
# a near-tie, checked by scoring our logits along llama.cpp's own path); exit 0 on PASS, 1 on
# FAIL, 2 on setup errors.
#
# Usage: bench/crosscheck_llamacpp.sh [--qwen3 BIN] [--preset tiny|0.6b] [--steps 16]
#                                     [--seed 1] [--threads 2] [--prompt TEXT] [--tie-eps 0.02] [--keep]
# node-llama-cpp is installed on first use into ~/.cache/qwen3-bench (QWEN3_BENCH_DIR),
# outside the repo and outside the test suite: its install fetches prebuilt binaries.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --qwen3) QWEN3="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
bench_need_qwen3
QWEN3="$(cd "$(dirname "$QWEN3")" && pwd)/$(basename "$QWEN3")"

mkdir -p "$BENCH_DIR"
[[ -f "$BENCH_DIR/package.json" ]] || echo '{"name":"qwen3-bench","private":true}' > "$BENCH_DIR/package.json"
if [[ "$(node -p "try{require('$BENCH_DIR/node_modules/node-llama-cpp/package.json').version}catch(e){''}")" != "3.21.1" ]]; then
  echo "installing node-llama-cpp@3.21.1 into $BENCH_DIR ..." >&2
  (cd "$BENCH_DIR" && npm install --no-audit --no-fund node-llama-cpp@3.21.1 >&2) || {
    echo "cannot install node-llama-cpp@3.21.1" >&2; exit 2; }
fi
# The .mjs imports node-llama-cpp from BENCH_DIR: run a copy placed there.
cp "$HERE/crosscheck_llamacpp.mjs" "$BENCH_DIR/crosscheck_llamacpp.mjs"
exec node "$BENCH_DIR/crosscheck_llamacpp.mjs" --qwen3 "$QWEN3" ${ARGS[@]+"${ARGS[@]}"}
