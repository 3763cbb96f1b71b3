// Structured output through the official `openai` client against `qwen3 serve` on a
// random-weight model: beta.chat.completions.parse with a zod schema, response_format
// json_schema over generated real-world-shaped schemas (validated by ajv + ajv-formats),
// tool_choice required over generated tool sets, thinking on (with thinking_budget) and
// off, greedy and sampled, and a 400 for a bad schema.
//   node structured_client.mjs '{"base": "http://127.0.0.1:PORT/v1", "schemas": 24, "tools": 12}'
// Prints counts; exits 1 listing failures.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const OpenAI = require('openai');
const { zodResponseFormat } = require('openai/helpers/zod');
const { z } = require('zod');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base, apiKey: 'none', maxRetries: 0, timeout: 600000 });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

// A seeded generator of schemas shaped like real API payloads.
let seed = spec.seed ?? 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const words = ['id', 'name', 'title', 'email', 'status', 'count', 'price', 'tags', 'created', 'owner',
  'items', 'address', 'city', 'zip', 'score', 'enabled', 'kind', 'level', 'note', 'uuid'];
function leaf(depth) {
  const r = rnd();
  if (r < 0.12) return { type: 'string', maxLength: 1 + Math.floor(rnd() * 24) };
  if (r < 0.2) return { type: 'string', format: pick(['date', 'date-time', 'uuid', 'email', 'time', 'ipv4']) };
  if (r < 0.27) return { type: 'string', pattern: pick(['^[A-Z]{2,3}-[0-9]{3}$', '^[a-z]+(_[a-z]+)?$', '^\\d{5}$', '^(red|green|blue)$']) };
  if (r < 0.36) return { type: 'integer', minimum: -Math.floor(rnd() * 100), maximum: Math.floor(rnd() * 1000) };
  if (r < 0.44) return { type: 'number', minimum: 0, maximum: 1 + Math.floor(rnd() * 500) };
  if (r < 0.5) return { type: 'boolean' };
  if (r < 0.56) return { enum: ['low', 'medium', 'high', 1, null].slice(0, 2 + Math.floor(rnd() * 4)) };
  if (r < 0.6) return { const: pick(['v1', 2, true]) };
  if (r < 0.66) return { type: ['string', 'null'], maxLength: 10 };
  if (r < 0.72) return { anyOf: [{ type: 'integer', minimum: 0, maximum: 9 }, { type: 'string', maxLength: 6 }] };
  if (depth < 2 && r < 0.86) return { type: 'array', items: leaf(depth + 1), minItems: Math.floor(rnd() * 2), maxItems: 2 + Math.floor(rnd() * 3) };
  if (depth < 2) return object(depth + 1);
  return { type: 'string', maxLength: 8 };
}
function object(depth) {
  const n = 1 + Math.floor(rnd() * 5);
  const properties = {};
  const required = [];
  for (let i = 0; i < n; i++) {
    const k = pick(words) + (i ? '_' + i : '');
    properties[k] = leaf(depth);
    if (rnd() < 0.7) required.push(k);
  }
  const o = { type: 'object', properties, required };
  if (rnd() < 0.5) o.additionalProperties = false;
  return o;
}
function schema() {
  const s = object(0);
  if (rnd() < 0.3) {  // a $defs/$ref
    s.$defs = { point: { type: 'object', properties: { x: { type: 'number', minimum: -10, maximum: 10 }, y: { type: 'integer', minimum: 0, maximum: 99 } }, required: ['x', 'y'], additionalProperties: false } };
    s.properties.location = { $ref: '#/$defs/point' };
    s.required.push('location');
  }
  return s;
}

const model = (await client.models.list()).data[0].id;
const user = [{ role: 'user', content: 'Give me the data as JSON.' }];
const variant = (i) => ({
  temperature: i % 2 ? 0.8 : 0,
  seed: 1000 + i,
  max_tokens: 1024,
  chat_template_kwargs: { enable_thinking: i % 4 >= 2 },
  thinking_budget: 24,
});

// 1. beta.chat.completions.parse with zod.
{
  const Person = z.object({ name: z.string().max(20), age: z.number().int().min(0).max(120), tags: z.array(z.enum(['a', 'b', 'c'])).max(3) });
  const parse = client.beta?.chat?.completions?.parse ? client.beta.chat.completions : client.chat.completions;
  const r = await parse.parse({ model, messages: user, response_format: zodResponseFormat(Person, 'person'), ...variant(0) });
  const m = r.choices[0].message;
  check(m.parsed !== null && Person.safeParse(m.parsed).success, `zod parse: ${m.content}`);
}

// 2. response_format json_schema over generated schemas.
let valid = 0, finished = 0, bounded = 0;
for (let i = 0; i < (spec.schemas ?? 24); i++) {
  const s = schema();
  const r = await client.chat.completions.create({ model, messages: user,
    response_format: { type: 'json_schema', json_schema: { name: 's' + i, schema: s, strict: true } }, ...variant(i) });
  const c = r.choices[0];
  bounded++;
  if (c.finish_reason === 'length') continue;
  finished++;
  let v;
  try { v = JSON.parse(c.message.content); } catch (e) { check(false, `schema ${i}: not JSON: ${c.message.content}`); continue; }
  const validate = ajv.compile(s);
  if (validate(v)) valid++;
  else check(false, `schema ${i}: ${ajv.errorsText(validate.errors)}: ${c.message.content}`);
}
console.log(`schemas: ${valid}/${finished} valid, ${finished}/${bounded} finished within 1024 tokens`);
check(finished * 10 >= bounded * 8, `only ${finished} of ${bounded} finished`);

// 3. tool_choice required / named over generated tool sets.
let calls = 0, tool_ok = 0;
for (let i = 0; i < (spec.tools ?? 12); i++) {
  const tools = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) tools.push({ type: 'function', function: { name: `fn_${i}_${k}`, description: 'a tool', parameters: object(1) } });
  const named = i % 3 === 2;
  const r = await client.chat.completions.create({ model, messages: user, tools,
    tool_choice: named ? { type: 'function', function: { name: tools[0].function.name } } : 'required',
    parallel_tool_calls: i % 2 === 0, ...variant(i) });
  const c = r.choices[0];
  if (c.finish_reason === 'length') continue;
  calls++;
  check(c.finish_reason === 'tool_calls' && (c.message.tool_calls ?? []).length > 0, `tools ${i}: no call (${c.finish_reason}) ${c.message.content}`);
  let ok = true;
  for (const tc of c.message.tool_calls ?? []) {
    const t = tools.find((x) => x.function.name === tc.function.name);
    if (!t || (named && t !== tools[0])) { ok = false; check(false, `tools ${i}: unknown tool ${tc.function.name}`); continue; }
    const validate = ajv.compile(t.function.parameters);
    if (!validate(JSON.parse(tc.function.arguments))) { ok = false; check(false, `tools ${i}: ${ajv.errorsText(validate.errors)}: ${tc.function.arguments}`); }
  }
  if (ok) tool_ok++;
}
console.log(`tools: ${tool_ok}/${calls} responses with valid calls`);

// 4. A bad schema is a 400 naming the problem.
try {
  await client.chat.completions.create({ model, messages: user, response_format: { type: 'json_schema', json_schema: { name: 'bad', schema: { type: 'integer', multipleOf: 3 } } } });
  check(false, 'bad schema: no error');
} catch (e) {
  check(e.status === 400 && /multipleOf/.test(e.message), `bad schema: ${e.status} ${e.message}`);
}

for (const f of failures.slice(0, 20)) console.log('FAIL ' + f);
process.exit(failures.length ? 1 : 0);
