// Drives the server with the official `openai` npm client (pinned in tools/).
//   node openai_client.mjs '<spec json>'
// spec: {"base": "http://127.0.0.1:PORT/v1", "mode": "replay" | "tools" | "model",
//        "reasoning"?, "content"?, "tool"?: {"name", "arguments"}}
// "replay": the server replays a reply with reasoning and content; "tools": one with a
// tool call; "model": a real (random-weight) model, so only shapes are checked.
// Exits 1 with the failures listed if any check fails.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const OpenAI = require('openai');

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base, apiKey: spec.apiKey || 'none', maxRetries: 0, timeout: 60000 });
const failures = [];
let checks = 0;
const check = (ok, what) => { checks++; if (!ok) failures.push(what); };
const eq = (a, b, what) => check(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
const trim = (s) => (s ?? '').trim();
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

// The served model id (requests naming another model get 404 model_not_found).
let model = 'x';

async function models() {
  const list = await client.models.list();
  check(list.data.length === 1 && typeof list.data[0].id === 'string', 'models.list has one model');
  model = list.data[0]?.id ?? model;
}

async function nonStreaming() {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 64, tools: spec.mode === 'tools' ? tools : undefined });
  const m = r.choices[0].message;
  check(r.object === 'chat.completion', 'object chat.completion');
  check(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0, 'usage counts');
  check(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, 'usage total');
  check(typeof r.usage.prompt_tokens_details?.cached_tokens === 'number', 'cached_tokens');
  if (spec.mode === 'replay') {
    eq(trim(m.content), spec.content, 'content');
    eq(trim(m.reasoning_content), spec.reasoning, 'reasoning_content');
    eq(m.reasoning, m.reasoning_content, 'reasoning alias');
    eq(r.choices[0].finish_reason, 'stop', 'finish_reason');
  } else if (spec.mode === 'tools') {
    eq(r.choices[0].finish_reason, 'tool_calls', 'finish_reason');
    eq(m.tool_calls?.length, 1, 'one tool call');
    eq(m.tool_calls?.[0]?.function?.name, spec.tool.name, 'tool name');
    eq(JSON.parse(m.tool_calls?.[0]?.function?.arguments ?? 'null'), spec.tool.arguments, 'tool arguments');
  } else {
    check(['stop', 'length'].includes(r.choices[0].finish_reason), 'finish_reason stop/length');
    check(typeof m.content === 'string', 'content is a string');
    check(r.usage.completion_tokens <= 64, 'max_tokens honoured');
  }
  return r;
}

async function streaming() {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 64, stream: true, stream_options: { include_usage: true },
    tools: spec.mode === 'tools' ? tools : undefined,
  });
  let content = '', reasoning = '', finish = null, usage = null, chunks = 0;
  const calls = [];
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    content += c.delta.content ?? '';
    reasoning += c.delta.reasoning_content ?? '';
    for (const tc of c.delta.tool_calls ?? []) {
      calls[tc.index] ??= { name: '', arguments: '' };
      calls[tc.index].name += tc.function?.name ?? '';
      calls[tc.index].arguments += tc.function?.arguments ?? '';
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  check(chunks > 2, 'streamed in several chunks');
  check(usage && usage.completion_tokens > 0, 'usage chunk');
  if (spec.mode === 'replay') {
    eq(trim(content), spec.content, 'streamed content');
    eq(trim(reasoning), spec.reasoning, 'streamed reasoning');
    eq(finish, 'stop', 'streamed finish_reason');
  } else if (spec.mode === 'tools') {
    eq(finish, 'tool_calls', 'streamed finish_reason');
    eq(calls.length, 1, 'streamed tool calls');
    eq(calls[0]?.name, spec.tool.name, 'streamed tool name');
    eq(JSON.parse(calls[0]?.arguments || 'null'), spec.tool.arguments, 'streamed tool arguments');
  } else {
    check(['stop', 'length'].includes(finish), 'streamed finish_reason');
  }
}

// The client's own stream accumulator must rebuild the same message.
async function streamHelper() {
  const runner = client.chat.completions.stream({ model, messages, max_tokens: 64, tools: spec.mode === 'tools' ? tools : undefined });
  const final = await runner.finalChatCompletion();
  const m = final.choices[0].message;
  if (spec.mode === 'replay') eq(trim(m.content), spec.content, 'stream helper content');
  if (spec.mode === 'tools') {
    eq(m.tool_calls?.[0]?.function?.name, spec.tool.name, 'stream helper tool name');
    eq(JSON.parse(m.tool_calls?.[0]?.function?.arguments ?? 'null'), spec.tool.arguments, 'stream helper tool arguments');
  }
}

async function errors() {
  for (const [what, body] of [
    ['empty messages', { model, messages: [] }],
    ['unknown role', { model, messages: [{ role: 'wizard', content: 'x' }] }],
    ['bad temperature', { model, messages, temperature: 'hot' }],
  ]) {
    try {
      await client.chat.completions.create(body);
      failures.push(`${what}: no error`);
    } catch (e) {
      check(e instanceof OpenAI.APIError && e.status === 400, `${what}: APIError 400, got ${e.status} ${e.message}`);
      check(typeof e.error?.message === 'string' && e.type === 'invalid_request_error', `${what}: error object`);
    }
  }
  try {
    await client.chat.completions.create({ model: 'no-such-model', messages });
    failures.push('unknown model: no error');
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found', `unknown model: 404 model_not_found, got ${e.status} ${e.code}`);
  }
}

async function completions() {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 16 });
  check(r.object === 'text_completion' && typeof r.choices[0].text === 'string', 'text completion');
  const s = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, stream: true });
  let n = 0;
  for await (const c of s) if (typeof c.choices[0]?.text === 'string') n++;
  check(n > 0, 'streamed text completion');
}

// Aborting a stream: the server sees the disconnect and frees the slot.
async function abort() {
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 2000, stream: true });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta) break;  // leaving the loop aborts the request
  }
  const metricsUrl = spec.base.replace(/\/v1$/, '') + '/metrics';
  let processing = -1;
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(metricsUrl)).text();
    processing = Number(/^qwen3_requests_processing (\d+)/m.exec(text)?.[1]);
    if (processing === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  eq(processing, 0, 'aborted stream frees its slot');
}

try {
  await models();
  await nonStreaming();
  await streaming();
  await streamHelper();
  await errors();
  if (spec.mode !== 'tools') await completions();
  if (spec.mode === 'model') await abort();
} catch (e) {
  failures.push('exception: ' + (e.stack || e));
}
if (failures.length) {
  console.error(`openai client (${spec.mode}): ${failures.length} of ${checks} checks failed:\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log(`openai client (${spec.mode}): ${checks} checks passed`);
