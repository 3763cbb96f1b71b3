#!/usr/bin/env bash
# Logits cross-check against llama.cpp for Qwen3 MoE (qwen3moe) and YaRN: random-weight
# GGUFs written by `qwen3 gen-model` (several shapes, F32 / Q8_0 / Q4_K_M, tied and
# untied) are run by `qwen3 logits` and by bench/llamacpp_logits.cpp linked against the
# libllama of the node-llama-cpp@3.21.1 release (bench/build_llamacpp.sh's tree; build its
# `llama` target first). Prints per case max|diff|/max|ref|, rms(diff)/rms(ref) and how
# many positions have the same arg-max token; PASS when within the bounds below.
#
# Usage: bench/moe_crosscheck.sh [--qwen3 BIN] [--threads 2] [--cases "moe yarn real"] [--keep]
#   moe:  tiny-moe and a 256-wide 16-expert shape, f32 / q8_0 / q4_k_m, tied and untied
#   yarn: a tiny dense model with YaRN factor 4 over 32,768: 33,000 tokens, last 8 rows
#         (positions 32,992..32,999) compared
#   real: the 30b-a3b shape with 1 block, q4_k_m
set -euo pipefail

source "$(dirname "$0")/lib.sh"
CASES="moe yarn real"
while [[ $# -gt 0 ]]; do
  bench_option "$@"
  if ((TAKEN)); then shift "$TAKEN"; continue; fi
  case "$1" in
    --cases) CASES="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$HERE/llamacpp_logits_tool.sh"
bench_workdir moe_crosscheck

FAILS=0
# compare NAME OURS THEIRS MAX_TOL
compare() {
  python3 - "$@" <<'EOF'
import array, math, sys
name, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
x = array.array('f'); x.frombytes(open(a, 'rb').read())
y = array.array('f'); y.frombytes(open(b, 'rb').read())
assert len(x) == len(y), (len(x), len(y))
V = 151936 if len(x) % 151936 == 0 else 151669
n = len(x) // V
md = max(abs(p - q) for p, q in zip(x, y)); mr = max(abs(q) for q in y)
d2 = sum((p - q) ** 2 for p, q in zip(x, y)); r2 = sum(q * q for q in y)
same = sum(1 for t in range(n)
           if max(range(V), key=lambda i: x[t*V+i]) == max(range(V), key=lambda i: y[t*V+i]))
rel, rms = md / mr, math.sqrt(d2 / r2)
ok = rel < tol
print(f"{'PASS' if ok else 'FAIL'} {name:<34} max rel {rel:.2e}  rms rel {rms:.2e}  "
      f"argmax {same}/{n}  (bound {tol:g})")
sys.exit(0 if ok else 1)
EOF
}

# run_case NAME TOL LAST N_IDS ID_LIMIT GEN_MODEL_ARGS...
run_case() {
  local name="$1" tol="$2" last="$3" n="$4" limit="$5"; shift 5
  local m="$WORK/$name.gguf"
  "$QWEN3" gen-model --tokenizer "$TOK" --seed 3 -o "$m" "$@" 2>/dev/null
  python3 -c "import random; random.seed(7); print(','.join(str(random.randrange($limit)) for _ in range($n)))" > "$WORK/ids.txt"
  local lastopt=()
  [[ "$last" -gt 0 ]] && lastopt=(--last "$last")
  "$QWEN3" logits -m "$m" --ids "$(cat "$WORK/ids.txt")" -o "$WORK/ours.f32" -t "$THREADS" "${lastopt[@]}"
  "$TOOL" "$m" "$WORK/ids.txt" "$WORK/theirs.f32" --threads "$THREADS" "${lastopt[@]}"
  compare "$name" "$WORK/ours.f32" "$WORK/theirs.f32" "$tol" || FAILS=$((FAILS + 1))
  rm -f "$m"
}

for c in $CASES; do
  case "$c" in
    moe)
      for t in f32 q8_0 q4_k_m; do
        tol=$([[ $t == f32 ]] && echo 0.01 || echo 0.05)
        run_case "tiny-moe-$t-tied" "$tol" 0 24 151643 --preset tiny-moe --type "$t"
        run_case "tiny-moe-$t-untied" "$tol" 0 24 151643 --preset tiny-moe --type "$t" --tied false
        run_case "moe256x16top4-$t-untied" "$tol" 0 24 151643 --preset tiny-moe --hidden 256 \
          --experts 16 --experts-used 4 --ff-exp 256 --layers 2 --type "$t" --tied false
        run_case "moe256x8top2-$t-tied" "$tol" 0 24 151643 --preset tiny-moe --hidden 256 \
          --ff-exp 256 --layers 2 --type "$t"
      done
      ;;
    yarn)
      run_case "yarn4-tiny-f32-pos32992" 0.01 8 33000 100 --preset tiny --type f32 \
        --ctx-train 40960 --yarn 4 --yarn-orig 32768
      run_case "yarn4-tiny-moe-q8_0-pos32992" 0.05 8 33000 100 --preset tiny-moe --type q8_0 \
        --ctx-train 40960 --yarn 4 --yarn-orig 32768
      ;;
    real)
      run_case "30b-a3b-1layer-q4_k_m" 0.05 0 16 151643 --preset 30b-a3b --layers 1 --type q4_k_m
      ;;
    *) echo "unknown case set $c" >&2; exit 2 ;;
  esac
done
echo "failures: $FAILS"
[[ $FAILS == 0 ]]
