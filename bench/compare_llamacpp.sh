#!/usr/bin/env bash
# qwen3 vs llama.cpp on the same random Qwen3-shape GGUF files, same thread count,
# engines alternating round by round so background load hits both alike. Prints the
# median prefill (-p tokens at once) and decode (-n tokens) tok/s side by side + ratio,
# the decode bound (read bandwidth from build/membw_bench / file bytes) and qwen3's share
# of it, after a header naming the CPU, its flags and the ISA level qwen3 runs at.
#
# Usage: bench/compare_llamacpp.sh [-t THREADS] [-r ROUNDS] [-p N] [-n N] [-d DEPTH]
#                                  [--types "q4_0 q4_k_m q8_0"] [--preset 0.6b|1.7b|8b]
#                                  [--qwen3 BIN]
# Types: any `qwen3 gen-model --type` (f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k
# q4_k_m); q5_k_m is refused with a message until gen-model writes that mix (use q5_k,
# all Q5_K, meanwhile). --preset 8b decodes -n 16 unless -n is given (an 8B decode is
# slow). The header names the CPU, its flags, qwen3's ISA level and the load average.
# -d DEPTH: decode with DEPTH tokens already in the context (attention over a long KV
# cache); the prompt columns then show the DEPTH-token prefill. QWEN3_ISA=... picks
# qwen3's kernel level (default: the best the CPU has).
# Needs: a built qwen3 (default build/qwen3), jq; builds llama-bench on first use
# (bench/build_llamacpp.sh, ~6 min on 2 cores, outside the repo); build/membw_bench for
# the bound (skipped if absent).
# QWEN3_LLAMA_NO_AMX=1: compare against the native llama.cpp build with AMX compiled out
# (bench/build_llamacpp.sh --no-amx), for machines where ggml's AMX path fails.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
ROUNDS=3 NP=128 NG= DEPTH=0 TYPES="q4_0 q4_k_m q8_0" PRESET=0.6b
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
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bench_need_qwen3
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }
if [[ -z "$NG" ]]; then if [[ "$PRESET" == 8b ]]; then NG=16; else NG=64; fi; fi

LLAMA_BENCH="$("$HERE/build_llamacpp.sh")"
CACHE="$BENCH_DIR/models"
mkdir -p "$CACHE"
TOKENIZER="$TOK"

PROBES=()
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# The machine, the kernel level and the decode bound (read GB/s at THREADS threads with
# the kernels' 2 KiB software prefetch).
DEV="$("$QWEN3" devices --json)"
CPU_MODEL="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
CPU_FAMILY="$(lscpu | sed -n 's/^CPU family: *//p' | head -1)"
echo "cpu: $CPU_MODEL (family $CPU_FAMILY), $(nproc) cpus; flags: $(jq -r '.[0].devices[0].cpu_flags' <<<"$DEV")"
echo "qwen3 kernels: $(jq -r '.[0].devices[0].isa' <<<"$DEV") (best $(jq -r '.[0].devices[0].isa_best' <<<"$DEV"))"
echo "llama.cpp: $LLAMA_BENCH$([[ "${QWEN3_LLAMA_NO_AMX:-0}" == 1 ]] && echo ' (native, AMX compiled out: QWEN3_LLAMA_NO_AMX=1)')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%M) UTC)"
# The bandwidth of this VM swings (30-59 GB/s the same day), so it is probed again right
# before every qwen3 decode round: each round's share of the bound uses its own probe, and
# the table gives the medians (bound and share) with the probes' range.
MEMBW="$ROOT/build/membw_bench"
BT=$((THREADS > 2 ? 2 : THREADS))
probe_bw() {
  if [[ -x "$MEMBW" ]]; then
    "$MEMBW" --benchmark_filter="BM_ReadBandwidth<512>/threads:$BT/" --benchmark_min_time=0.3 \
      --benchmark_format=json 2>/dev/null | jq '.benchmarks[0]["GB/s"]'
  else
    echo nan
  fi
}
BW="$(probe_bw)"
if [[ "$BW" != nan ]]; then
  printf "read bandwidth: %.1f GB/s at %d threads (build/membw_bench; probed again every round)\n" "$BW" "$BT"
else
  echo "read bandwidth: n/a (build the membw_bench target for the decode bound)"
fi

if ((DEPTH > 0)); then NP=$DEPTH; fi
TG_LABEL="tg$NG"; ((DEPTH > 0)) && TG_LABEL="tg$NG@d$DEPTH"
printf "%-6s %-6s %3s | %12s %12s %6s | %12s %12s %6s | %8s %6s\n" preset type thr \
  "qwen3 pp$NP" "llama pp$NP" ratio "qwen3 $TG_LABEL" "llama $TG_LABEL" ratio bound "%bound"
for TYPE in $TYPES; do
  if [[ "$TYPE" == q5_k_m ]]; then
    echo "$PRESET q5_k_m: skipped, qwen3 gen-model has no Q5_K_M mix yet (q5_k is all Q5_K)" >&2
    continue
  fi
  MODEL="$CACHE/qwen3-$PRESET-$TYPE.gguf"
  if [[ ! -f "$MODEL" ]]; then
    "$QWEN3" gen-model --preset "$PRESET" --type "$TYPE" --tokenizer "$TOKENIZER" --seed 1 \
      -o "$MODEL" >&2
  fi
  Q_PP=() Q_TG=() L_PP=() L_TG=() BWS=() FRACS=()
  SIZE="$(stat -c %s "$MODEL")"
  for ((i = 0; i < ROUNDS; i++)); do
    RBW="$(probe_bw)"
    J="$("$QWEN3" bench -m "$MODEL" -p "$NP" -n "$NG" -t "$THREADS" -r 1 --json)"
    Q_PP+=("$(jq .prefill_tps <<<"$J")") Q_TG+=("$(jq .decode_tps <<<"$J")")
    BWS+=("$RBW")
    # Decode reads every weight once per token: about the file's size.
    FRACS+=("$(awk -v bw="$RBW" -v sz="$SIZE" -v q="${Q_TG[-1]}" \
      'BEGIN{if (bw == "nan") print "nan"; else print 100 * q / (bw * 1e9 / sz)}')")
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
  mbw=$(printf "%s\n" "${BWS[@]}" | median)
  bound=$(awk -v bw="$mbw" -v sz="$SIZE" 'BEGIN{if (bw == "nan") print "nan"; else print bw * 1e9 / sz}')
  frac=$(printf "%s\n" "${FRACS[@]}" | median)
  PROBES+=("$TYPE: $(printf "%.1f " "${BWS[@]}")GB/s")
  printf "%-6s %-6s %3s | %12.2f %12.2f %6.2f | %12.2f %12.2f %6.2f | %8.1f %5.0f%%\n" "$PRESET" \
    "$TYPE" "$THREADS" "$qpp" "$lpp" "$(awk "BEGIN{print $qpp/$lpp}")" "$qtg" "$ltg" \
    "$(awk "BEGIN{print $qtg/$ltg}")" "$bound" "$frac"
done
if [[ "$BW" != nan ]]; then
  echo "bandwidth probed before each qwen3 round (bound = median probe / file bytes; %bound = median of the rounds' shares): ${PROBES[*]}"
fi
echo "(medians of $ROUNDS alternating rounds; model files in $CACHE; load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
