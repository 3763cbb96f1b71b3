// Per-request LoRA adapters through the official `openai` npm client (pinned in tools/):
// the node client's form of Python's extra_body is an undocumented parameter sent as
// is, so `lora: [{id, scale}]` reaches the server; a bad id is a BadRequestError (400)
// with the OpenAI error shape; /lora-adapters through the client's raw get/post.
//   node lora_client.mjs '<spec json>'
// spec: {"base": ".../v1", "root": "http://host:port", "prompt", "base_text", "a_text",
//        "paths": [adapter 0, adapter 1]}. Exits 1 with the failures listed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const OpenAI = require('openai');

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base, apiKey: 'none', maxRetries: 0, timeout: 60000 });
const root = new OpenAI({ baseURL: spec.root, apiKey: 'none', maxRetries: 0, timeout: 60000 });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const eq = (a, b, what) => check(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);

const complete = (lora) => client.completions.create({
  model: 'lora-test', prompt: spec.prompt, max_tokens: 10, temperature: 0,
  ignore_eos: true, ...(lora ? { lora } : {}),
});

try {
  const list = await root.get('/lora-adapters');
  eq(list.map((a) => a.path), spec.paths, 'GET /lora-adapters paths');
  eq(list.map((a) => a.id), [0, 1], 'GET /lora-adapters ids');

  eq((await complete([{ id: 0, scale: 0 }])).choices[0].text, spec.base_text, 'lora scale 0 = base');
  eq((await complete([{ id: 0, scale: 1 }])).choices[0].text, spec.a_text, 'lora id 0 scale 1');
  // Streaming carries the field too.
  let streamed = '';
  const stream = await client.completions.create({
    model: 'lora-test', prompt: spec.prompt, max_tokens: 10, temperature: 0, ignore_eos: true,
    stream: true, lora: [{ id: 0, scale: 1 }],
  });
  for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
  eq(streamed, spec.a_text, 'streamed with lora');

  try {
    await complete([{ id: 9, scale: 1 }]);
    check(false, 'unknown adapter id accepted');
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError, `unknown id: ${e.constructor.name} ${e.message}`);
    eq(e.status, 400, 'unknown id status');
    eq(e.code, 'unknown_adapter', 'unknown id code');
    eq(e.param, 'lora[0].id', 'unknown id param');
  }

  // The global scales: id 0 at 1, the rest 0; a request without "lora" then runs with them.
  eq(await root.post('/lora-adapters', { body: [{ id: 0, scale: 1 }] }), { success: true }, 'POST /lora-adapters');
  eq((await complete(undefined)).choices[0].text, spec.a_text, 'global scales');
} catch (e) {
  failures.push(`unexpected error: ${e.stack || e}`);
}

if (failures.length) {
  console.error(`lora_client: ${failures.length} failure(s):\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log('lora_client: all checks passed');
