#!/usr/bin/env bash
# Qwen3-VL vision encoder speed side by side with llama.cpp's libmtmd (node-llama-cpp@3.21.1
# release, bench/build_llamacpp.sh's tree): one 448x448 image (784 patches, 196 merged
# tokens) on a random mmproj of the real 2B shape from `qwen3 gen-model`, F32 and F16
# weights. Only the image encode is timed on both sides: ours the encoder call on
# preprocessed pixels (build/vision_encoder_bench, BM_EncodePixels448), llama.cpp's
# mtmd_encode_chunk on an already tokenized chunk (build/bench/llamacpp_mtmd --bench),
# with flash attention off and on (libmtmd's default, "auto", turns it on on the CPU).
# The sides alternate round by round; medians of the wall time and of the process CPU time
# (all threads; the CPU time is the fairer figure on a loaded machine), and the ratios
# llama.cpp / ours (> 1: ours is faster) against llama.cpp's faster setting.
# Usage: bench/compare_vision_encoder.sh [--build DIR] [--threads N] [--rounds R]
#          [--runs N (encodes per process)] [--types "f32 f16"]
set -euo pipefail

BUILD=build
THREADS=2
ROUNDS=3
RUNS=2
TYPES="f32 f16"
while (($#)); do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --types) TYPES="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OURS="$BUILD/vision_encoder_bench"
REF="$BUILD/bench/llamacpp_mtmd"
for b in "$BUILD/qwen3" "$OURS" "$REF"; do
  [[ -x "$b" ]] || { echo "missing $b (cmake --build $BUILD --target qwen3 vision_encoder_bench llamacpp_mtmd)" >&2; exit 2; }
done
DIR="$BUILD/vision_compare"
mkdir -p "$DIR"

# The image: the same pixels as vision_encoder_bench's test_image(448, 448).
python3 - "$DIR/img448.rgb" <<'PY'
import sys
w = h = 448
open(sys.argv[1], "wb").write(bytes(((i * 2654435761) & 0xFFFFFFFF) >> 24 for i in range(w * h * 3)))
PY

median() { tr ',' '\n' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
json_list() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p"; }

echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)  threads: $THREADS  rounds: $ROUNDS x $RUNS encodes"
for TYPE in $TYPES; do
  TEXT="$DIR/text-1.7b-1l-q4_0-$TYPE.gguf"
  MM="$DIR/mmproj-2b-$TYPE.gguf"
  if [[ ! -f "$MM" || ! -f "$TEXT" ]]; then
    echo "writing the random 2B-shape pair ($TYPE mmproj)..." >&2
    "$BUILD/qwen3" gen-model --preset 1.7b --layers 1 --type q4_0 --mmproj "$MM" \
      --vision-preset 2b --mmproj-type "$TYPE" -o "$TEXT" >&2
  fi
  ours_ms=""; ours_cpu=""; ref_ms=""; ref_cpu=""; fa_ms=""; fa_cpu=""
  for ((r = 1; r <= ROUNDS; r++)); do
    out=$(QWEN3_MMPROJ="$MM" "$OURS" --benchmark_filter="BM_EncodePixels448/$THREADS/" \
      --benchmark_repetitions="$RUNS" --benchmark_min_time=0.001 --benchmark_format=json 2>/dev/null)
    ours_ms+=$(echo "$out" | python3 -c 'import json,sys; print(",".join(str(b["real_time"]) for b in json.load(sys.stdin)["benchmarks"] if b.get("run_type") == "iteration"))'),
    ours_cpu+=$(echo "$out" | python3 -c 'import json,sys; print(",".join(str(b["cpu_ms"]) for b in json.load(sys.stdin)["benchmarks"] if b.get("run_type") == "iteration"))'),
    out=$("$REF" "$TEXT" "$MM" "$DIR/ref.f32" --rgb 448 448 "$DIR/img448.rgb" --threads "$THREADS" --bench "$RUNS" 2>>"$DIR/llamacpp.log")
    ref_ms+=$(echo "$out" | json_list runs_ms),
    ref_cpu+=$(echo "$out" | json_list runs_cpu_ms),
    out=$("$REF" "$TEXT" "$MM" "$DIR/ref.f32" --rgb 448 448 "$DIR/img448.rgb" --threads "$THREADS" --bench "$RUNS" --flash-attn 2>>"$DIR/llamacpp.log")
    fa_ms+=$(echo "$out" | json_list runs_ms),
    fa_cpu+=$(echo "$out" | json_list runs_cpu_ms),
    echo "  round $r done ($TYPE)" >&2
  done
  om=$(echo "${ours_ms%,}" | median); oc=$(echo "${ours_cpu%,}" | median)
  rm_=$(echo "${ref_ms%,}" | median); rc=$(echo "${ref_cpu%,}" | median)
  fm=$(echo "${fa_ms%,}" | median); fc=$(echo "${fa_cpu%,}" | median)
  awk -v t="$TYPE" -v om="$om" -v oc="$oc" -v rm="$rm_" -v rc="$rc" -v fm="$fm" -v fc="$fc" 'BEGIN {
    bm = rm < fm ? rm : fm; bc = rc < fc ? rc : fc
    printf "%s mmproj, 448x448, median of the encodes:\n", t
    printf "  ours                     %9.1f ms wall %9.1f ms cpu\n", om, oc
    printf "  llama.cpp (no flash)     %9.1f ms wall %9.1f ms cpu\n", rm, rc
    printf "  llama.cpp (flash attn)   %9.1f ms wall %9.1f ms cpu\n", fm, fc
    printf "  ratio llama.cpp best / ours: %.2fx wall, %.2fx cpu\n", bm / om, bc / oc
  }'
done
