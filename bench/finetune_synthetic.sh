#!/usr/bin/env bash
# The synthetic-task check of `qwen3 finetune` (issue 15): a random tiny Qwen3 base learns
# a fixed mapping of 50 questions -> answers ("What is the secret word of item N?" ->
# one of 10 words). Prints the training loss over the run (first and last epoch means,
# per-epoch means), then the exact-match rate of greedy answers (`qwen3 run --temp 0
# --no-think`) of the base and of base + trained adapter on the 50 trained prompts (the
# mapping is arbitrary, so only trained prompts have a right answer to learn).
#
#   bench/finetune_synthetic.sh [BUILD_DIR]   (env: EPOCHS=30 LR=3e-3 THREADS=2 WORK=dir)
set -euo pipefail
build=${1:-build}
bin=$(cd "$build" && pwd)/qwen3
work=${WORK:-$(mktemp -d /tmp/finetune_synthetic.XXXXXX)}
epochs=${EPOCHS:-30}
lr=${LR:-3e-3}
threads=${THREADS:-2}
mkdir -p "$work"

words=(apple river stone cloud maple tiger lemon piano rocket silver)
answer() { echo "${words[$(((${1} * 7 + 3) % 10))]}"; }
: >"$work/data.jsonl"
for n in $(seq 1 50); do
  printf '{"messages":[{"role":"user","content":"What is the secret word of item %d?"},{"role":"assistant","content":"%s"}]}\n' \
    "$n" "$(answer "$n")" >>"$work/data.jsonl"
done

"$bin" gen-model --preset tiny --seed 3 -o "$work/base.gguf" >/dev/null
start=$(date +%s.%N)
"$bin" finetune -m "$work/base.gguf" --data "$work/data.jsonl" -o "$work/adapter" \
  --rank 16 --alpha 32 --targets all --epochs "$epochs" --batch 5 --lr "$lr" -t "$threads" \
  --save-every 0 2>"$work/train.log"
end=$(date +%s.%N)
echo "training: $(grep -c '^step ' "$work/train.log") steps in $(echo "$end - $start" | bc) s;" \
  "$(tail -2 "$work/train.log" | head -1 | sed 's/.*  \([0-9.]* tokens\/s\)/\1/')"
# Mean loss per epoch (10 steps of 5 conversations each).
awk '/^step /{for(i=1;i<=NF;i++) if($i=="loss") l=$(i+1); s+=l; c++; if(c==10){e++; printf "epoch %d mean loss %.4f\n", e, s/c; s=0; c=0}}' \
  "$work/train.log" | awk 'NR==1 || NR%5==0'

score() {  # $1: extra flags; prints the number of exact matches out of 50
  local ok=0
  for n in $(seq 1 50); do
    out=$("$bin" run -m "$work/base.gguf" $1 -p "What is the secret word of item $n?" \
      --no-think --temp 0 -n 8 -t 1 2>/dev/null | tr -d '\n')
    [ "$out" = "$(answer "$n")" ] && ok=$((ok + 1))
  done
  echo "$ok"
}
echo "exact match, base:             $(score "")/50"
echo "exact match, base + adapter:   $(score "--lora $work/adapter")/50"
echo "(work dir: $work)"
