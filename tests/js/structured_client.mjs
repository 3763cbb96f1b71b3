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

// spec.verbose: print what an unfinished reply spent its tokens on.
function unfinished(what, r, s) {
  if (!spec.verbose) return;
  const m = r.choices[0].message;
  const args = (m.tool_calls ?? []).map((t) => t.function.arguments).join(' | ');
  console.log(`UNFINISHED ${what}: ${r.usage?.completion_tokens} tokens, reasoning ${(m.reasoning_content ?? '').length} chars, content ${(m.content ?? '').length} chars, ${(m.tool_calls ?? []).length} calls`);
  console.log('  schema ' + JSON.stringify(s).slice(0, 600));
  console.log('  content ' + JSON.stringify((m.content ?? '') + args).slice(0, 1500));
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
  // The same helper with a plain JSON Schema response_format: parsed = the JSON reply.
  const js = { type: 'object', properties: { city: { type: 'string', maxLength: 16 }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'], additionalProperties: false };
  const r2 = await parse.parse({ model, messages: user, response_format: { type: 'json_schema', json_schema: { name: 'trip', schema: js, strict: true } }, ...variant(2) });
  const m2 = r2.choices[0].message;
  const vjs = ajv.compile(js);
  check(m2.parsed !== null && typeof m2.parsed === 'object' && vjs(m2.parsed), `json schema parse: ${m2.content}`);
}

// Whether a schema bounds every string and array (the 80%-finish target applies to
// these): a pattern with * + or {n,} and no maxLength is unbounded.
function isBounded(s) {
  if (Array.isArray(s)) return s.every(isBounded);
  if (!s || typeof s !== 'object') return true;
  if (s.pattern !== undefined && s.maxLength === undefined && /[*+]|\{\d+,\}/.test(s.pattern)) return false;
  return Object.entries(s).every(([k, v]) => k === 'enum' || k === 'const' || isBounded(v));
}

// 2. response_format json_schema over generated schemas.
let valid = 0, finished = 0, total = 0, bounded = 0, boundedFinished = 0;
for (let i = 0; i < (spec.schemas ?? 24); i++) {
  const s = schema();
  const r = await client.chat.completions.create({ model, messages: user,
    response_format: { type: 'json_schema', json_schema: { name: 's' + i, schema: s, strict: true } }, ...variant(i) });
  const c = r.choices[0];
  const b = isBounded(s);
  total++;
  if (b) bounded++;
  if (c.finish_reason === 'length') { unfinished(`schema ${i}${b ? '' : ' (unbounded)'}`, r, s); continue; }
  finished++;
  if (b) boundedFinished++;
  let v;
  try { v = JSON.parse(c.message.content); } catch (e) { check(false, `schema ${i}: not JSON: ${c.message.content}`); continue; }
  const validate = ajv.compile(s);
  if (validate(v)) valid++;
  else check(false, `schema ${i}: ${ajv.errorsText(validate.errors)}: ${c.message.content}`);
}
console.log(`schemas: ${valid}/${finished} finished replies valid; finished within 1024 tokens: ${boundedFinished}/${bounded} bounded schemas, ${finished}/${total} all`);
check(boundedFinished * 10 >= bounded * 8, `only ${boundedFinished} of ${bounded} bounded schemas finished`);

// 3. tool_choice required / named over generated tool sets.
let calls = 0, tool_ok = 0, toolSets = 0, boundedSets = 0, boundedOk = 0;
for (let i = 0; i < (spec.tools ?? 12); i++) {
  const tools = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) tools.push({ type: 'function', function: { name: `fn_${i}_${k}`, description: 'a tool', parameters: object(1) } });
  const named = i % 3 === 2;
  const r = await client.chat.completions.create({ model, messages: user, tools,
    tool_choice: named ? { type: 'function', function: { name: tools[0].function.name } } : 'required',
    parallel_tool_calls: i % 2 === 0, ...variant(i) });
  const c = r.choices[0];
  const b = isBounded(tools);
  toolSets++;
  if (b) boundedSets++;
  if (c.finish_reason === 'length') { unfinished(`tools ${i}${b ? '' : ' (unbounded)'}`, r, tools); continue; }
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
  if (ok && b) boundedOk++;
}
console.log(`tools: ${tool_ok}/${calls} finished responses are valid tool calls; finished valid within 1024 tokens: ${boundedOk}/${boundedSets} bounded tool sets, ${tool_ok}/${toolSets} all`);
// Every finished response is valid calls (checked above); every tool set whose parameters
// bound their strings and arrays must finish (required / named).
check(boundedOk === boundedSets, `only ${boundedOk} of ${boundedSets} bounded tool sets answered with finished valid calls`);

// 3b. Streamed tool calls (tool_choice required / auto / named, thinking on and off): the
// first delta of a call carries index, id, type, name and arguments ""; the argument
// pieces joined equal the arguments of the same request unstreamed and parse as JSON; no
// markup or special token reaches the content.
let streamed = 0, streamedCalls = 0, pieces = 0;
for (let i = 0; i < (spec.streamed ?? spec.tools ?? 12); i++) {
  const tools = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) tools.push({ type: 'function', function: { name: `fs_${i}_${k}`, description: 'a tool', parameters: object(1) } });
  const choice = [ 'required', 'auto', { type: 'function', function: { name: tools[0].function.name } } ][i % 3];
  const req = { model, messages: user, tools, tool_choice: choice, parallel_tool_calls: i % 2 === 0, ...variant(i), temperature: i % 4 === 1 ? 0.8 : 0 };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true });
  const calls = [];
  let content = '', finish = null;
  for await (const chunk of stream) {
    const ch = chunk.choices[0];
    if (!ch) continue;
    if (ch.finish_reason) finish = ch.finish_reason;
    const d = ch.delta ?? {};
    if (d.content) content += d.content;
    for (const tc of d.tool_calls ?? []) {
      if (!calls[tc.index]) {
        check(typeof tc.id === 'string' && tc.id.length > 0 && tc.type === 'function' && typeof tc.function?.name === 'string' && tc.function?.arguments === '',
          `stream ${i}: first delta of call ${tc.index} is ${JSON.stringify(tc)}`);
        calls[tc.index] = { id: tc.id, name: tc.function?.name, arguments: '' };
      } else {
        check(tc.id === undefined && tc.function?.name === undefined && typeof tc.function?.arguments === 'string',
          `stream ${i}: a later delta of call ${tc.index} is ${JSON.stringify(tc)}`);
        calls[tc.index].arguments += tc.function?.arguments ?? '';
        pieces++;
      }
    }
  }
  for (const bad of ['<tool_call', '</tool_call', '<|', '<think', '</think']) check(!content.includes(bad), `stream ${i}: content has ${bad}: ${JSON.stringify(content).slice(0, 200)}`);
  const w = whole.choices[0];
  check(finish === w.finish_reason, `stream ${i}: finish ${finish} vs ${w.finish_reason}`);
  check(content === (w.message.content ?? ''), `stream ${i}: content ${JSON.stringify(content).slice(0, 100)} vs ${JSON.stringify(w.message.content).slice(0, 100)}`);
  const wc = w.message.tool_calls ?? [];
  check(calls.length === wc.length, `stream ${i}: ${calls.length} calls streamed, ${wc.length} unstreamed`);
  for (let k = 0; k < Math.min(calls.length, wc.length); k++) {
    check(calls[k].name === wc[k].function.name, `stream ${i}: call ${k} name ${calls[k].name} vs ${wc[k].function.name}`);
    check(calls[k].arguments === wc[k].function.arguments, `stream ${i}: call ${k} arguments ${calls[k].arguments} vs ${wc[k].function.arguments}`);
    if (finish !== 'length') {
      try { JSON.parse(calls[k].arguments); } catch { check(false, `stream ${i}: call ${k} arguments are not JSON: ${calls[k].arguments}`); }
    }
  }
  streamed++;
  streamedCalls += calls.length;
}
console.log(`streamed tool calls: ${streamed} requests, ${streamedCalls} calls in ${pieces} argument pieces, each joined equal to the unstreamed reply`);

// 4. GBNF grammars (llama.cpp's "grammar" field) and regexes ("regex"); each reply is checked
// by an independent JavaScript recogniser of the same language (a RegExp, JSON.parse, a
// bracket counter). Bounded languages must finish.
const balanced = (t) => { let d = 0; for (const ch of t) { d += ch === '(' ? 1 : ch === ')' ? -1 : 0; if (d < 0) return false; } return d === 0 && /^[()]+$/.test(t); };
const grammars = [
  { g: 'root ::= "(" [0-9]{1,3} ") " [a-z]{2,8}', ok: (t) => /^\([0-9]{1,3}\) [a-z]{2,8}$/.test(t) },
  { g: 'root ::= expr\nexpr ::= term ([-+*/] term){0,4}\nterm ::= [1-9] [0-9]{0,2} | "(" [0-9]{1,2} ")"', ok: (t) => /^([1-9][0-9]{0,2}|\([0-9]{1,2}\))([-+*/]([1-9][0-9]{0,2}|\([0-9]{1,2}\))){0,4}$/.test(t) },
  { g: 'root ::= row ("\\n" row){0,3}\nrow ::= field ("," field){1,3}\nfield ::= [a-z0-9]{1,8}', ok: (t) => /^[a-z0-9]{1,8}(,[a-z0-9]{1,8}){1,3}(\n[a-z0-9]{1,8}(,[a-z0-9]{1,8}){1,3}){0,3}$/.test(t) },
  { g: 'root ::= ("yes" | "no") ", because " [a-z ]{1,40} "."', ok: (t) => /^(yes|no), because [a-z ]{1,40}\.$/.test(t) },
  { g: '# a list of small numbers\nroot ::= "[" (num (", " num){0,5})? "]"\nnum ::= "0" | [1-9] [0-9]{0,2}', ok: (t) => /^\[((0|[1-9][0-9]{0,2})(, (0|[1-9][0-9]{0,2})){0,5})?\]$/.test(t) && Array.isArray(JSON.parse(t)) },
  { g: 'root ::= kv ("\\n" kv){0,4}\nkv ::= [a-z_]{1,12} "=" ([0-9]{1,6} | "\\"" [^"\\\\\\x00-\\x1F]{0,16} "\\"")', ok: (t) => /^[a-z_]{1,12}=([0-9]{1,6}|"[^"\\\x00-\x1F]{0,16}")(\n[a-z_]{1,12}=([0-9]{1,6}|"[^"\\\x00-\x1F]{0,16}")){0,4}$/u.test(t) },
  { g: 'root ::= piece? file rank ("x" file rank)? ("+" | "#")?\npiece ::= [KQRBN]\nfile ::= [a-h]\nrank ::= [1-8]', ok: (t) => /^[KQRBN]?[a-h][1-8](x[a-h][1-8])?[+#]?$/.test(t) },
  { g: 'root ::= [α-ω]{1,5} " " [\\u4E00-\\u9FFF]{1,3}', ok: (t) => /^[α-ω]{1,5} [\u4E00-\u9FFF]{1,3}$/u.test(t) },
  { g: 'root ::= date (", " date){0,2}\ndate ::= "20" [0-9] [0-9] "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [12] [0-9])', ok: (t) => /^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])(, 20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])){0,2}$/.test(t) },
  { g: 'root ::= p\np ::= "(" p? ")" p?', ok: balanced, unbounded: true },
];
const regexes = [
  { re: '[A-Z]{2}-\\d{4}' }, { re: '\\d{3}-\\d{3}-\\d{4}' }, { re: '(red|green|blue)( and (red|green|blue)){0,2}' },
  { re: '[a-z]{1,10}@[a-z]{1,10}\\.(com|org|net)' }, { re: '(0|[1-9]\\d{0,2})(\\.\\d{1,2})?' },
  { re: '(?:[01]\\d|2[0-3]):[0-5]\\d' }, { re: '[A-Za-z][A-Za-z0-9_]{0,15}' }, { re: '#[0-9a-fA-F]{6}' },
  { re: '(yes|no|maybe)' }, { re: 'v\\d{1,2}\\.\\d{1,2}\\.\\d{1,3}' }, { re: '[^,\\n]{1,12}(,[^,\\n]{1,12}){0,3}' },
  { re: '[a-z]+(_[a-z]+)*', unbounded: true },
];
for (const [kind, list, n] of [['grammar', grammars, spec.grammars ?? 10], ['regex', regexes, spec.regexes ?? 12]]) {
  let ok = 0, fin = 0, tot = 0, btot = 0, bfin = 0;
  for (let i = 0; i < n; i++) {
    const item = list[i % list.length];
    const field = kind === 'grammar' ? { grammar: item.g } : { regex: item.re };
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Answer.' }], ...field, ...variant(i + Math.floor(i / list.length)) });
    const c = r.choices[0];
    tot++;
    if (!item.unbounded) btot++;
    if (c.finish_reason === 'length') { unfinished(`${kind} ${i}${item.unbounded ? ' (unbounded)' : ''}`, r, item); continue; }
    fin++;
    if (!item.unbounded) bfin++;
    const t = c.message.content ?? '';
    const good = kind === 'grammar' ? item.ok(t) : new RegExp('^(?:' + item.re + ')$', 'u').test(t);
    if (good) ok++;
    else check(false, `${kind} ${i}: ${JSON.stringify(t).slice(0, 200)} does not match ${item.g ?? item.re}`);
  }
  console.log(`${kind === "regex" ? "regexes" : "grammars"}: ${ok}/${fin} finished replies match; finished within 1024 tokens: ${bfin}/${btot} bounded, ${fin}/${tot} all`);
  check(bfin * 10 >= btot * 8, `only ${bfin} of ${btot} bounded ${kind}s finished`);
}

// 5. A bad schema is a 400 naming the problem.
try {
  await client.chat.completions.create({ model, messages: user, response_format: { type: 'json_schema', json_schema: { name: 'bad', schema: { type: 'integer', multipleOf: 3 } } } });
  check(false, 'bad schema: no error');
} catch (e) {
  check(e.status === 400 && /multipleOf/.test(e.message), `bad schema: ${e.status} ${e.message}`);
}

for (const f of failures.slice(0, 20)) console.log('FAIL ' + f);
process.exit(failures.length ? 1 : 0);
