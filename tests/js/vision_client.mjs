// Qwen3-VL images through the official `openai` npm client (image_url parts, base64 data
// URLs), against `qwen3 serve --mmproj` on a random-weight pair.
//   node vision_client.mjs '<spec json>'
// spec: {"base": "http://127.0.0.1:PORT/v1", "mode": "vision" | "no_mmproj",
//        "prompt", "images": {"a": FILE, "b": FILE, "big": FILE, "text": FILE},
//        "expect": {"a": {"text", "prompt_tokens"}, "b": ..., "ab": ...}}
// "expect" holds `qwen3 run --mmproj --image` greedy replies for the same prompts.
// Exits 1 with the failures listed if any check fails.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const OpenAI = require('openai');

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base, apiKey: 'none', maxRetries: 0, timeout: 120000 });
const root = spec.base.replace(/\/v1$/, '');
const failures = [];
let checks = 0;
const check = (ok, what) => { checks++; if (!ok) failures.push(what); };
const eq = (a, b, what) => check(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);

const dataUrl = (file, mime = 'image/png') => `data:${mime};base64,${fs.readFileSync(file).toString('base64')}`;
const imagePart = (url) => ({ type: 'image_url', image_url: { url } });
const userWith = (...urls) => [{ role: 'user', content: [...urls.map(imagePart), { type: 'text', text: spec.prompt }] }];
const greedy = { temperature: 0, presence_penalty: 0, frequency_penalty: 0, max_tokens: 8 };

let model = 'x';

async function hitTokens() {
  const text = await (await fetch(`${root}/metrics`)).text();
  const m = text.match(/^qwen3_prefix_cache_hit_tokens_total (\d+)/m);
  return m ? Number(m[1]) : NaN;
}

async function reply(messages, what, want) {
  const r = await client.chat.completions.create({ model, messages, ...greedy });
  eq(r.choices[0].message.content, want.text, `${what}: unstreamed reply`);
  eq(r.usage.prompt_tokens, want.prompt_tokens, `${what}: prompt tokens`);
  const stream = await client.chat.completions.create({ model, messages, ...greedy, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  eq(text, want.text, `${what}: streamed reply`);
  return r.choices[0].message.content;
}

async function refused(messages, status, fragment, what) {
  try {
    await client.chat.completions.create({ model, messages, ...greedy });
    check(false, `${what}: accepted`);
  } catch (e) {
    eq(e.status, status, `${what}: status`);
    const msg = e.error?.message ?? e.message ?? '';
    check(msg.includes(fragment), `${what}: message '${msg}' lacks '${fragment}'`);
  }
}

async function vision() {
  const [a, b] = [dataUrl(spec.images.a), dataUrl(spec.images.b)];
  const one = await reply(userWith(a), 'one image', spec.expect.a);
  await reply(userWith(a, b), 'two images', spec.expect.ab);
  // The same text with another image: its own reply, and no KV block shared past the image.
  const before = await hitTokens();
  const first = await client.chat.completions.create({ model, messages: userWith(b), ...greedy });
  const after = await hitTokens();
  eq(first.choices[0].message.content, spec.expect.b.text, 'the other image: first reply');
  const other = await reply(userWith(b), 'the other image', spec.expect.b);
  check(one !== other, 'two images give the same reply');
  check(after - before <= spec.expect.image_start, `prefix cache hits past the image: ${after - before} tokens (image at ${spec.expect.image_start})`);
  // The first image again: its blocks are still cached and taken.
  const mid = await hitTokens();
  const again = await client.chat.completions.create({ model, messages: userWith(a), ...greedy });
  eq(again.choices[0].message.content, spec.expect.a.text, 'the first image again');
  check(await hitTokens() - mid >= 16, 'the first image again took no cached blocks');
  // An image between two text parts, in a system + user conversation: accepted.
  const mixed = await client.chat.completions.create({ model, ...greedy, messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Look: ' }, imagePart(a), { type: 'text', text: ' and say.' }] }] });
  check(typeof mixed.choices[0].message.content === 'string', 'image between text parts');
  // Errors.
  await refused(userWith('data:image/png;base64,@@@notbase64'), 400, 'base64', 'bad base64');
  await refused(userWith(`data:image/png;base64,${Buffer.from('hello, not an image').toString('base64')}`), 400, 'not a usable image', 'non-image bytes');
  await refused(userWith(dataUrl(spec.images.big)), 400, 'not a usable image', 'too large');
  await refused(userWith('https://example.com/cat.png'), 400, 'does not fetch', 'remote URL');
  await refused(userWith('data:text/plain;base64,aGVsbG8='), 400, 'not an image', 'text media type');
  await refused([{ role: 'assistant', content: [imagePart(a)] }, { role: 'user', content: 'hi' }], 400, 'only user messages', 'image from the assistant');
}

async function noMmproj() {
  await refused(userWith(dataUrl(spec.images.a)), 400, '--mmproj', 'no mmproj');
  const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], ...greedy });
  check(typeof r.choices[0].message.content === 'string', 'text still served without --mmproj');
}

try {
  model = (await client.models.list()).data[0].id;
  if (spec.mode === 'vision') await vision();
  else await noMmproj();
} catch (e) {
  failures.push(`exception: ${e.stack || e}`);
}
if (failures.length) {
  console.error(`${failures.length} of ${checks} checks failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`${checks} checks passed`);
