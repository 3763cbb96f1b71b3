// Aggregate streaming throughput of an OpenAI-compatible server with N concurrent clients
// (qwen3 serve or llama-server; issue 11's measurement). Each client streams `rounds`
// chat completions of exactly `max_tokens` tokens (ignore_eos) one after another. Client
// c starts at c * stagger_ms (0: all together), so with a stagger of one request's
// duration / clients the arrivals are spread out and TTFT is that of a request arriving
// while the others decode. Prints one JSON object:
//   aggregate_tps  completion tokens of all clients / wall time (prefill included)
//   decode_tps     clients x the median per-request decode rate ((tokens - 1) / time
//                  from the first to the last token)
//   steady_tps     tokens per second while every client is active (from the last client's
//                  start to the first client's end; each request's tokens taken as spread
//                  evenly between its first and last one): the throughput at N streams
//   ttft p50/p95, inter-token p50, the server's RSS after the run.
//   node bench/serve_clients.mjs '{"base":"http://127.0.0.1:PORT","pid":PID,"clients":4,
//                                 "max_tokens":64,"rounds":2,"prompt_words":118,"stagger_ms":0}'
// The prompt is `prompt_words` common English words (one token each with their leading
// space), different per request (no prefix reuse); 118 words + the chat template = ~128
// tokens.
import fs from 'node:fs';

const spec = Object.assign({ clients: 1, max_tokens: 64, rounds: 2, prompt_words: 118, stagger_ms: 0 },
                           JSON.parse(process.argv[2]));
const url = spec.base + '/v1/chat/completions';

function rssMb(pid) {
  if (!pid) return null;
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1) : null;
};

const WORDS = ('time year people way day man thing woman life child world school state family ' +
  'student group country problem hand part place case week company system program question ' +
  'work government number night point home water room mother area money story fact month lot ' +
  'right study book eye job word business issue side kind head house service friend father ' +
  'power hour game line end member law car city name team minute idea kid body information ' +
  'back parent face others level office door health person art war history party result ' +
  'change morning reason research girl guy moment air teacher force education foot boy age ' +
  'policy music market sense nation plan college interest death experience effect use class ' +
  'control care field development role effort rate heart drug show leader light voice wife ' +
  'police mind price report decision son view relationship town road arm difference value ' +
  'building action model season society tax director position player record paper space ' +
  'ground form event official matter center couple site project activity star table need ' +
  'court oil situation cost industry figure street image phone data picture practice piece ' +
  'land product doctor wall patient worker news test movie north love support technology').split(' ');

// About `prompt_words` tokens of plain words, different per request.
function prompt(i) {
  const words = [];
  let x = (i + 1) * 2654435761 >>> 0;
  for (let k = 0; k < spec.prompt_words; ++k) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words.push(WORDS[x % WORDS.length]);
  }
  return words.join(' ');
}

async function one(i, out) {
  const t0 = performance.now();
  const body = {
    stream: true, max_tokens: spec.max_tokens, ignore_eos: true, temperature: 0,
    messages: [{ role: 'user', content: prompt(i) }],
    chat_template_kwargs: { enable_thinking: false },
  };
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify(body), signal: AbortSignal.timeout(600000) });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '', first = null, last = null, chunks = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, k);
      buf = buf.slice(k + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const j = JSON.parse(ev.slice(6));
      if (j.error) throw new Error('error event: ' + JSON.stringify(j.error));
      const d = j.choices?.[0]?.delta;
      if (d && (d.content || d.reasoning_content)) {
        const now = performance.now();
        if (first === null) first = now; else out.itl.push(now - last);
        last = now;
        ++chunks;
      }
    }
  }
  out.ttft.push(first - t0);
  if (last > first) out.rate.push((spec.max_tokens - 1) / ((last - first) / 1000));
  out.spans.push([first, last]);
  out.tokens += spec.max_tokens;  // ignore_eos: every request yields exactly max_tokens
  out.chunks += chunks;
}

// Node loads its HTTP client (undici) and compiles it on the first fetch(): ~0.15-0.3 s of
// CPU that would otherwise run inside the measured window, on the cores the server uses
// (a tenth or more of a one-client, one-round run on 2 cores). One untimed request first.
await (await fetch(spec.base + '/health', { signal: AbortSignal.timeout(10000) })).text();

const out = { ttft: [], itl: [], rate: [], spans: [], tokens: 0, chunks: 0 };
const t0 = performance.now();
const starts = [], ends = [];
await Promise.all(Array.from({ length: spec.clients }, async (_, c) => {
  if (spec.stagger_ms > 0) await new Promise((r) => setTimeout(r, c * spec.stagger_ms));
  starts.push(performance.now());
  for (let r = 0; r < spec.rounds; ++r) await one(c * 1000 + r, out);
  ends.push(performance.now());
}));
const secs = (performance.now() - t0) / 1000;
const w0 = Math.max(...starts), w1 = Math.min(...ends);
let inWindow = 0;
for (const [a, b] of out.spans)
  if (b > a) inWindow += (spec.max_tokens - 1) * Math.max(0, Math.min(b, w1) - Math.max(a, w0)) / (b - a);
const steady = w1 > w0 ? +(inWindow / ((w1 - w0) / 1000)).toFixed(1) : null;
console.log(JSON.stringify({
  clients: spec.clients, requests: spec.clients * spec.rounds,
  aggregate_tps: +(out.tokens / secs).toFixed(1),
  decode_tps: +(spec.clients * pct(out.rate, 0.5)).toFixed(1), steady_tps: steady,
  ttft_p50_ms: pct(out.ttft, 0.5), ttft_p95_ms: pct(out.ttft, 0.95),
  itl_p50_ms: pct(out.itl, 0.5), rss_mb: rssMb(spec.pid), seconds: +secs.toFixed(1),
}));
