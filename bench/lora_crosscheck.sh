#!/usr/bin/env bash
# LoRA logits cross-check against llama.cpp: a random-weight Qwen3 GGUF (`qwen3 gen-model`)
# and a random LoRA adapter written by `qwen3 gen-lora` both as a PEFT folder and as a
# llama.cpp adapter GGUF. `qwen3 logits --lora` (with the PEFT folder and with the GGUF)
# is compared to bench/llamacpp_logits.cpp --lora (libllama of the node-llama-cpp@3.21.1
# release, bench/build_llamacpp.sh's tree, llama_adapter_lora_init +
# llama_set_adapters_lora). Also checks that the PEFT and GGUF runs of ours agree, and that
# the adapter changes the logits (so the comparison is not vacuous). Prints per case
# max|diff|/max|ref| and rms; PASS within the dense bounds of bench/moe_crosscheck.sh
# (F32 base 1e-2, quantized 5e-2).
#
# Usage: bench/lora_crosscheck.sh [--qwen3 BIN] [--threads 2] [--keep]
set -euo pipefail

source "$(dirname "$0")/lib.sh"
while [[ $# -gt 0 ]]; do
  bench_option "$@"
  if ((TAKEN)); then shift "$TAKEN"; continue; fi
  case "$1" in
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$HERE/llamacpp_logits_tool.sh"
bench_workdir lora_crosscheck

FAILS=0
# compare NAME OURS THEIRS MAX_TOL [MIN_REL]: PASS if rel < MAX_TOL (and >= MIN_REL if given:
# the two runs must differ, e.g. adapter vs base).
compare() {
  python3 - "$@" <<'PY'
import array, math, sys
name, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lo = float(sys.argv[5]) if len(sys.argv) > 5 else None
x = array.array('f'); x.frombytes(open(a, 'rb').read())
y = array.array('f'); y.frombytes(open(b, 'rb').read())
assert len(x) == len(y), (len(x), len(y))
md = max(abs(p - q) for p, q in zip(x, y)); mr = max(abs(q) for q in y)
d2 = sum((p - q) ** 2 for p, q in zip(x, y)); r2 = sum(q * q for q in y)
rel, rms = md / mr, math.sqrt(d2 / r2)
ok = rel >= lo if lo is not None else rel < tol
bound = f">= {lo:g}" if lo is not None else f"< {tol:g}"
print(f"{'PASS' if ok else 'FAIL'} {name:<44} max rel {rel:.2e}  rms rel {rms:.2e}  ({bound})")
sys.exit(0 if ok else 1)
PY
}

python3 -c "import random; random.seed(7); print(','.join(str(random.randrange(151643)) for _ in range(24)))" > "$WORK/ids.txt"
IDS="$(cat "$WORK/ids.txt")"

# run_case NAME TOL BASE_TYPE LORA_TYPE SCALE1 [SCALE2] -- GEN_LORA_ARGS...
run_case() {
  local name="$1" tol="$2" btype="$3" ltype="$4" s1="$5" s2="$6"; shift 6
  local m="$WORK/base-$btype.gguf"
  [[ -f "$m" ]] || "$QWEN3" gen-model --preset tiny --tokenizer "$TOK" --seed 3 --type "$btype" -o "$m" 2>/dev/null
  "$QWEN3" gen-lora -m "$m" --type "$ltype" --seed 11 --peft "$WORK/a.peft" --gguf "$WORK/a.gguf" "$@"
  local ours_peft=(--lora "$WORK/a.peft:$s1") ours_gguf=(--lora "$WORK/a.gguf:$s1") theirs=(--lora "$WORK/a.gguf:$s1")
  if [[ -n "$s2" ]]; then
    "$QWEN3" gen-lora -m "$m" --type "$ltype" --seed 12 --rank 4 --alpha 8 --targets q,v,down \
      --peft "$WORK/b.peft" --gguf "$WORK/b.gguf"
    ours_peft+=(--lora "$WORK/b.peft:$s2"); ours_gguf+=(--lora "$WORK/b.gguf:$s2"); theirs+=(--lora "$WORK/b.gguf:$s2")
  fi
  "$QWEN3" logits -m "$m" --ids "$IDS" -o "$WORK/base.f32" -t "$THREADS" --kv-f32
  "$QWEN3" logits -m "$m" --ids "$IDS" -o "$WORK/peft.f32" -t "$THREADS" --kv-f32 "${ours_peft[@]}"
  "$QWEN3" logits -m "$m" --ids "$IDS" -o "$WORK/gguf.f32" -t "$THREADS" --kv-f32 "${ours_gguf[@]}"
  "$TOOL" "$m" "$WORK/ids.txt" "$WORK/theirs.f32" --threads "$THREADS" --kv-f32 "${theirs[@]}"
  compare "$name: peft vs llama.cpp" "$WORK/peft.f32" "$WORK/theirs.f32" "$tol" || FAILS=$((FAILS + 1))
  compare "$name: gguf vs llama.cpp" "$WORK/gguf.f32" "$WORK/theirs.f32" "$tol" || FAILS=$((FAILS + 1))
  compare "$name: peft vs gguf (ours)" "$WORK/peft.f32" "$WORK/gguf.f32" 1e-6 || FAILS=$((FAILS + 1))
  compare "$name: adapter vs base (differ)" "$WORK/peft.f32" "$WORK/base.f32" 0 0.05 || FAILS=$((FAILS + 1))
  rm -rf "$WORK"/a.* "$WORK"/b.*
}

run_case "f32 base, f32 r16 all, scale 1" 0.01 f32 f32 1 "" --rank 16 --alpha 32
run_case "f32 base, f32 r8 rslora, scale 0.7" 0.01 f32 f32 0.7 "" --rank 8 --alpha 16 --rslora
run_case "f32 base, f16 r16 all + r4 q,v,down" 0.01 f32 f16 1 -0.5 --rank 16 --alpha 32
run_case "q8_0 base, bf16 r16 all, scale 1" 0.05 q8_0 bf16 1 "" --rank 16 --alpha 32
run_case "q4_0 base, f32 r16 q,k,v,o, scale 2" 0.05 q4_0 f32 2 "" --rank 16 --alpha 16 --targets q,k,v,o
echo "failures: $FAILS"
[[ $FAILS == 0 ]]
