// Aggregate streaming throughput of an OpenAI-compatible server with N concurrent clients
// (qwen3 serve or llama-server; issue 11's measurement). Each client streams `rounds`
// chat completions of exactly `max_tokens` tokens (ignore_eos) one after another; all
// clients start together. Prints one JSON object: aggregate decode tok/s (completion
// tokens of all clients / wall time), TTFT p50/p95, inter-token p50, the server's RSS.
//   node bench/serve_clients.mjs '{"base":"http://127.0.0.1:PORT","pid":PID,"clients":4,
//                                 "max_tokens":64,"rounds":2,"prompt_words":100}'
import fs from 'node:fs';

const spec = Object.assign({ clients: 1, max_tokens: 64, rounds: 2, prompt_words: 100 },
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

// A prompt of about `prompt_words` plain words, different per request (no prefix reuse).
function prompt(i) {
  const words = [];
  for (let k = 0; k < spec.prompt_words; ++k) words.push(`w${(i * 7919 + k * 31) % 1000}`);
  return `Request ${i}. ` + words.join(' ');
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
  out.tokens += spec.max_tokens;  // ignore_eos: every request yields exactly max_tokens
  out.chunks += chunks;
}

const out = { ttft: [], itl: [], tokens: 0, chunks: 0 };
const t0 = performance.now();
await Promise.all(Array.from({ length: spec.clients }, async (_, c) => {
  for (let r = 0; r < spec.rounds; ++r) await one(c * 1000 + r, out);
}));
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  clients: spec.clients, requests: spec.clients * spec.rounds,
  aggregate_tps: +(out.tokens / secs).toFixed(1),
  ttft_p50_ms: pct(out.ttft, 0.5), ttft_p95_ms: pct(out.ttft, 0.95),
  itl_p50_ms: pct(out.itl, 0.5), rss_mb: rssMb(spec.pid), seconds: +secs.toFixed(1),
}));
