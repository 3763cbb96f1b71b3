// Bounded loopback load test of `qwen3 serve` (issue 4 §5).
//   node load_test.mjs '{"base": "http://127.0.0.1:PORT", "pid": SERVER_PID,
//                        "clients": 32, "seconds": 60, "sequential": 1000, "max_tokens": 32}'
// Phase 1: `clients` concurrent streaming chat clients for `seconds`: every request must
// either complete with a well-formed SSE stream (chunks, a finish_reason, [DONE]) or get a
// clean 503 (error object + Retry-After); anything else - a network error, a malformed
// stream, a request over 120 s - is a failure. Phase 2: `sequential` non-streaming
// requests one after another, sampling the server's RSS (/proc/PID/status) to show that
// memory does not grow. Phase 3 (`disconnects` > 0): that many streaming requests,
// `clients` at a time, about 40% of them dropped by the client at a random point (before
// the reply, or after a random number of chunks); the rest must complete whole. Then the
// server must settle (/metrics: no generation running, no KV block held) and its RSS
// after the first 10% of the phase must not grow by more than rss_slack_mb.
// Prints one JSON summary; exits 1 on any failure.
import fs from 'node:fs';

const spec = Object.assign({ clients: 32, seconds: 60, sequential: 1000, max_tokens: 32, rss_slack_mb: 16,
                             disconnects: 0, disconnect_clients: 8, seed: 1 },
                           JSON.parse(process.argv[2]));
const url = spec.base + '/v1/chat/completions';
const failures = [];
const fail = (what) => { if (failures.length < 20) failures.push(what); };

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

// Reads one streamed reply; returns {ok, tokens, ttft} or throws with what was wrong.
async function streamOnce(i) {
  const t0 = performance.now();
  const body = { messages: [{ role: 'user', content: `Load test request ${i}: count to ten.` }],
                 max_tokens: spec.max_tokens, stream: true, stream_options: { include_usage: true } };
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify(body), signal: AbortSignal.timeout(120000) });
  if (res.status === 503) {
    const j = await res.json();
    if (!j.error?.message || res.headers.get('retry-after') == null) throw new Error('503 without error object or Retry-After');
    return { busy: true };
  }
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const text = await res.text();
  let ttft = null;
  const events = text.split('\n\n');
  if (events.pop() !== '') throw new Error('stream does not end with a blank line');
  if (events.pop() !== 'data: [DONE]') throw new Error('stream does not end with [DONE]');
  let finish = null, usage = null;
  for (const e of events) {
    if (!e.startsWith('data: ')) throw new Error(`bad event line: ${e.slice(0, 80)}`);
    const j = JSON.parse(e.slice(6));
    if (j.error) throw new Error('error event: ' + j.error.message);
    if (j.usage) usage = j.usage;
    const c = j.choices[0];
    if (c?.finish_reason) finish = c.finish_reason;
  }
  if (!['stop', 'length'].includes(finish)) throw new Error(`finish_reason ${finish}`);
  if (!usage) throw new Error('no usage chunk');
  ttft = null;
  return { ok: true, tokens: usage.completion_tokens, ms: performance.now() - t0 };
}

// Phase 1: concurrent streaming clients.
const stats = { completed: 0, busy503: 0, failed: 0, tokens: 0, latencies: [] };
const rssBefore = rssMb(spec.pid);
const deadline = performance.now() + spec.seconds * 1000;
let counter = 0;
async function client() {
  while (performance.now() < deadline) {
    const i = counter++;
    try {
      const r = await streamOnce(i);
      if (r.busy) {
        stats.busy503++;
        await new Promise((res) => setTimeout(res, 100));  // honour Retry-After, briefly
      } else {
        stats.completed++;
        stats.tokens += r.tokens;
        stats.latencies.push(r.ms);
      }
    } catch (e) {
      stats.failed++;
      fail(`request ${i}: ${e.message}`);
    }
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: spec.clients }, client));
const phase1s = (performance.now() - t0) / 1000;
const rssAfterLoad = rssMb(spec.pid);
stats.latencies.sort((a, b) => a - b);

// Phase 2: sequential requests, RSS sampled after a warm-up.
const seq = { completed: 0, failed: 0, rss: [] };
for (let i = 0; i < spec.sequential; i++) {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: `Sequential ${i}` }], max_tokens: 8 }),
      signal: AbortSignal.timeout(120000) });
    const j = await res.json();
    if (res.status !== 200 || !j.choices?.[0]?.message) throw new Error(`status ${res.status}`);
    seq.completed++;
  } catch (e) {
    seq.failed++;
    fail(`sequential ${i}: ${e.message}`);
  }
  if (i === Math.min(99, spec.sequential - 1) || (i + 1) % 250 === 0) seq.rss.push([i + 1, rssMb(spec.pid)]);
}
const rssWarm = seq.rss[0]?.[1] ?? NaN;
const rssEnd = rssMb(spec.pid);
const growth = rssEnd - rssWarm;
if (growth > spec.rss_slack_mb) fail(`RSS grew ${growth.toFixed(1)} MB over ${spec.sequential} sequential requests`);

// Phase 3: random disconnects.
let rngState = spec.seed >>> 0 || 1;
const rand = () => {  // xorshift32, so a run can be repeated
  rngState ^= rngState << 13; rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5; rngState >>>= 0;
  return rngState / 4294967296;
};
const metricsUrl = spec.base + '/metrics';
async function metric(name) {
  const text = await (await fetch(metricsUrl)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}
// One streamed request; drop: null (read it all) or {ms} / {chunks} to abort at.
async function dropOnce(i, drop) {
  const ac = new AbortController();
  let timer = null;
  if (drop?.ms !== undefined) timer = setTimeout(() => ac.abort(), drop.ms);
  const body = { messages: [{ role: 'user', content: `Disconnect test ${i}: ${'word '.repeat(i % 40)}` }],
                 max_tokens: spec.max_tokens, stream: true, ignore_eos: true, temperature: 0.8, seed: i };
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                   body: JSON.stringify(body), signal: ac.signal });
    if (res.status === 503) { await res.text(); return 'busy'; }
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '', chunks = 0, done = false, finish = null;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += dec.decode(value, { stream: true });
      let k;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, k);
        buf = buf.slice(k + 2);
        if (ev === 'data: [DONE]') { done = true; continue; }
        const j = JSON.parse(ev.slice(6));
        if (j.error) throw new Error('error event: ' + j.error.message);
        if (j.choices?.[0]?.finish_reason) finish = j.choices[0].finish_reason;
        ++chunks;
      }
      if (drop?.chunks !== undefined && chunks >= drop.chunks) { ac.abort(); return 'dropped'; }
    }
    if (!done || finish !== 'length') throw new Error(`stream ended without [DONE] or length (${finish})`);
    return 'completed';
  } catch (e) {
    if (ac.signal.aborted) return 'dropped';
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
const disc = { requests: spec.disconnects, completed: 0, dropped: 0, busy503: 0, failed: 0, rss: [] };
if (spec.disconnects > 0) {
  let next = 0;
  const warmAt = Math.max(1, Math.floor(spec.disconnects / 10));
  const t3 = performance.now();
  await Promise.all(Array.from({ length: spec.disconnect_clients }, async () => {
    for (let i; (i = next++) < spec.disconnects;) {
      const r = rand();
      const drop = r < 0.15 ? { ms: Math.floor(rand() * 30) }
                 : r < 0.4 ? { chunks: 1 + Math.floor(rand() * spec.max_tokens) } : null;
      try {
        let out;
        while ((out = await dropOnce(i, drop)) === 'busy') {
          disc.busy503++;
          await new Promise((res) => setTimeout(res, 50));
        }
        if (out === 'dropped') disc.dropped++; else disc.completed++;
      } catch (e) {
        disc.failed++;
        fail(`disconnect phase ${i}: ${e.message}`);
      }
      if (i + 1 === warmAt || (i + 1) % 250 === 0 || i + 1 === spec.disconnects)
        disc.rss.push([i + 1, Number(rssMb(spec.pid).toFixed(1))]);
    }
  }));
  disc.seconds = Number(((performance.now() - t3) / 1000).toFixed(1));
  // Every dropped generation must end and give its KV blocks back.
  let busy = NaN, held = NaN;
  for (let k = 0; k < 200; ++k) {
    busy = await metric('qwen3_requests_processing');
    held = await metric('qwen3_kv_blocks_used');
    if (busy === 0 && (held === 0 || Number.isNaN(held))) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  disc.settled = { processing: busy, kv_blocks_used: held,
                   preemptions: await metric('qwen3_kv_preemptions_total') };
  if (busy !== 0 || held > 0) fail(`after the disconnect phase: ${busy} generations running, ${held} KV blocks held`);
  const warm = disc.rss.find(([n]) => n >= warmAt)?.[1] ?? NaN;
  disc.rss_growth_mb = Number((rssMb(spec.pid) - warm).toFixed(1));
  if (disc.rss_growth_mb > spec.rss_slack_mb)
    fail(`RSS grew ${disc.rss_growth_mb} MB over ${spec.disconnects} requests with disconnects`);
}

const summary = {
  clients: spec.clients, seconds: Number(phase1s.toFixed(1)),
  completed: stats.completed, busy_503: stats.busy503, failed: stats.failed,
  requests_per_s: Number((stats.completed / phase1s).toFixed(2)),
  tokens_per_s: Number((stats.tokens / phase1s).toFixed(1)),
  latency_ms: { p50: Math.round(pct(stats.latencies, 0.5)), p95: Math.round(pct(stats.latencies, 0.95)),
                max: Math.round(stats.latencies.at(-1) ?? 0) },
  sequential: { requests: spec.sequential, completed: seq.completed, failed: seq.failed,
                rss_mb_samples: seq.rss.map(([n, mb]) => [n, Number(mb.toFixed(1))]) },
  disconnects: disc,
  rss_mb: { start: Number(rssBefore.toFixed(1)), after_load: Number(rssAfterLoad.toFixed(1)),
            end: Number(rssEnd.toFixed(1)), growth_after_warmup: Number(growth.toFixed(1)) },
  failures,
};
console.log(JSON.stringify(summary, null, 1));
process.exit(stats.failed || seq.failed || disc.failed || failures.length ? 1 : 0);
