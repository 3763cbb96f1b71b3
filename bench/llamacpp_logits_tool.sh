# Sourced by the logits cross-checks (moe_crosscheck.sh, lora_crosscheck.sh): finds the
# llama.cpp reference build of bench/build_llamacpp.sh and builds bench/llamacpp_logits.cpp
# against its libllama when missing or older than the source (or llamacpp_ids.h). Needs
# HERE (bench/) and QWEN3 (our binary); sets BENCH_DIR, LL (the llama.cpp checkout) and TOOL
# (the logits driver).
BENCH_DIR="${QWEN3_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3-bench}"
LL="$BENCH_DIR/llama.cpp"
[[ -x "$QWEN3" ]] || { echo "no qwen3 binary at $QWEN3" >&2; exit 2; }
[[ -e "$LL/build/bin/libllama.so" ]] ||
  { echo "no $LL/build/bin/libllama.so: cmake --build $LL/build --target llama" >&2; exit 2; }
TOOL="$BENCH_DIR/llamacpp_logits"
if [[ ! -x "$TOOL" || "$HERE/llamacpp_logits.cpp" -nt "$TOOL" ||
      "$HERE/llamacpp_ids.h" -nt "$TOOL" ]]; then
  g++ -O2 -std=c++17 "$HERE/llamacpp_logits.cpp" -I"$LL/include" -I"$LL/ggml/include" \
    -L"$LL/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$LL/build/bin" -o "$TOOL"
fi
