// Regenerates tests/golden/template_goldens.json: hand-written conversations covering
// every branch of the official Qwen3 chat template, rendered by @huggingface/jinja.
// Usage: node tools/gen_template_goldens.mjs  (from the repository root or anywhere)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCase } from './render_template.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../tests/golden/template_goldens.json');

const sys = { role: 'system', content: 'You are a helpful assistant.' };
const u = (content) => ({ role: 'user', content });
const a = (content, extra = {}) => ({ role: 'assistant', content, ...extra });
const tool = (content) => ({ role: 'tool', content });

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name, e.g. "Zürich"' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city'],
    },
  },
};
const search = {
  type: 'function',
  function: {
    name: 'search',
    description: 'Search the web.\nReturns <html> & "quoted" text \\ backslashes\t tabs',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string' },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        score: { type: 'number', minimum: 0.5, maximum: 1.0, multipleOf: 1e-7, big: 1e21 },
        nested: { type: 'array', items: { type: 'object', properties: { '2': { type: 'null' }, b: {}, '1': [] } } },
        flags: { type: 'boolean', default: false, nothing: null },
        emoji: { description: '天气 🌦️ é\u0001\u001f\u007f\u2028' },
      },
    },
  },
};
const call = (name, args, id = 'call_1') => ({ id, type: 'function', function: { name, arguments: args } });

const cases = [
  ['user_only', { messages: [u('Hello!')] }],
  ['system_user', { messages: [sys, u('Hello!')] }],
  ['system_user_no_gen_prompt', { messages: [sys, u('Hello!')], add_generation_prompt: false }],
  ['enable_thinking_false', { messages: [sys, u('Hi')], enable_thinking: false }],
  ['enable_thinking_true', { messages: [sys, u('Hi')], enable_thinking: true }],
  ['no_gen_prompt_thinking_false', { messages: [u('Hi')], add_generation_prompt: false, enable_thinking: false }],
  ['multi_turn_plain', { messages: [sys, u('1+1?'), a('2'), u('2+2?'), a('4'), u('3+3?')] }],
  ['multi_turn_reasoning_dropped', {
    messages: [u('1+1?'), a('2', { reasoning_content: 'one plus one' }), u('and 2+2?')] }],
  ['last_assistant_reasoning_kept', {
    messages: [u('1+1?'), a('2', { reasoning_content: '\nadd them\n' })], add_generation_prompt: false }],
  ['last_assistant_inline_think', {
    messages: [u('q'), a('<think>\nreason here\n</think>\n\nThe answer.')], add_generation_prompt: false }],
  ['inline_think_many_newlines', {
    messages: [u('q'), a('\n<think>\n\n\nr1\n\n</think>\n\n\n\nanswer\n')], add_generation_prompt: false }],
  ['inline_think_two_closers', {
    messages: [u('q'), a('<think>a</think>b</think>\nc')], add_generation_prompt: false }],
  ['inline_close_without_open', { messages: [u('q'), a('just reasoning</think>content')] }],
  ['inline_think_dropped_earlier', {
    messages: [u('q1'), a('<think>\nold\n</think>\n\nold answer'), u('q2')] }],
  ['assistant_not_last_with_reasoning_after_query', {
    messages: [u('weather?'), a('', { reasoning_content: 'need tool', tool_calls: [call('get_weather', { city: 'Paris' })] }),
      tool('{"temp": 20}')], tools: [weather] }],
  ['assistant_not_last_without_reasoning_after_query', {
    messages: [u('weather?'), a('Let me check.', { tool_calls: [call('get_weather', { city: 'Paris' })] }),
      tool('sunny')], tools: [weather] }],
  ['tools_with_system', { messages: [sys, u('weather in Paris?')], tools: [weather] }],
  ['tools_without_system', { messages: [u('weather in Paris?')], tools: [weather, search] }],
  ['tools_empty_array', { messages: [sys, u('hi')], tools: [] }],
  ['tools_special_chars_numbers', { messages: [u('find')], tools: [search] }],
  ['tools_raw_objects', { messages: [u('x')], tools: [{ name: 'f', x: [1, 2.5, -0.001, 1e-7, 123456789012], y: 'ünï "q"' }, 'a string tool', 42, null, true] }],
  ['tool_call_args_object', {
    messages: [u('w?'), a('', { tool_calls: [call('get_weather', { city: 'Paris', unit: 'celsius' })] })],
    tools: [weather], add_generation_prompt: false }],
  ['tool_call_args_string', {
    messages: [u('w?'), a('', { tool_calls: [call('get_weather', '{"city":"Paris"}')] })],
    tools: [weather], add_generation_prompt: false }],
  ['tool_call_no_function_wrapper', {
    messages: [u('w?'), a('', { tool_calls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] })],
    add_generation_prompt: false }],
  ['tool_calls_multiple_empty_content', {
    messages: [u('w?'), a('', { tool_calls: [call('get_weather', { city: 'Paris' }, 'c1'), call('get_weather', { city: 'Oslo' }, 'c2')] }),
      tool('20'), tool('5'), a('Paris 20, Oslo 5.')], tools: [weather] }],
  ['tool_calls_with_content', {
    messages: [u('w?'), a('I will call two tools.', { tool_calls: [call('a', {}), call('b', '{}')] })],
    add_generation_prompt: false }],
  ['tool_messages_merged', {
    messages: [sys, u('q'), a('', { tool_calls: [call('f', { x: 1 }), call('g', { y: 2 }), call('h', {})] }),
      tool('r1'), tool('r2'), tool('r3'), u('thanks')] }],
  ['tool_message_first', { messages: [tool('orphan result'), u('q')] }],
  ['tool_message_last', { messages: [u('q'), a('', { tool_calls: [call('f', { a: [1, 2] })] }), tool('done')] }],
  ['multi_step_tool_reasoning_kept', {
    messages: [sys, u('Plan a trip'),
      a('', { reasoning_content: 'step 1', tool_calls: [call('search', { query: 'flights' })] }), tool('flight list'),
      a('', { reasoning_content: 'step 2', tool_calls: [call('search', { query: 'hotels' })] }), tool('hotel list'),
      a('Here is the plan.', { reasoning_content: 'final' })],
    tools: [search], add_generation_prompt: false }],
  ['user_tool_response_text_counts_as_tool', {
    messages: [u('real question'), a('calling', { reasoning_content: 'r1' }),
      u('<tool_response>\nresult\n</tool_response>'), a('answer', { reasoning_content: 'r2' })],
    add_generation_prompt: false }],
  ['user_tool_response_prefix_only_is_query', {
    messages: [u('q'), a('x', { reasoning_content: 'r1' }), u('<tool_response> not closed'), a('y', { reasoning_content: 'r2' })],
    add_generation_prompt: false }],
  ['system_in_middle', { messages: [u('q'), a('a'), { role: 'system', content: 'Be brief.' }, u('q2')] }],
  ['two_systems_first', { messages: [sys, { role: 'system', content: 'second' }, u('q')] }],
  ['two_systems_first_with_tools', { messages: [sys, { role: 'system', content: 'second' }, u('q')], tools: [weather] }],
  ['content_parts_user', {
    messages: [u([{ type: 'text', text: 'Part one. ' }, { type: 'text', text: 'Part two.' }])] }],
  ['content_parts_system_with_tools', {
    messages: [{ role: 'system', content: [{ type: 'text', text: 'sys ' }, { type: 'text', text: 'prompt' }] }, u('q')],
    tools: [weather] }],
  ['content_parts_assistant_and_tool', {
    messages: [u('q'), a([{ type: 'text', text: '<think>r</think>' }, { type: 'text', text: 'ans' }]),
      u('q2'), a('', { tool_calls: [call('f', {})] }), tool([{ type: 'text', text: 'res' }])] }],
  ['empty_messages', { messages: [] }],
  ['empty_messages_thinking_false', { messages: [], enable_thinking: false }],
  ['null_content_assistant_errors', { messages: [u('q'), a(null, { tool_calls: [call('f', {})] })] }],
  ['null_content_user_errors', { messages: [u(null)] }],
  ['null_content_system_errors', { messages: [{ role: 'system', content: null }, u('q')] }],
  ['null_content_tool_renders_empty', { messages: [u('q'), a('', { tool_calls: [call('f', {})] }), tool(null)] }],
  ['reasoning_empty_string_no_split', {
    messages: [u('q'), a('<think>inline</think>text', { reasoning_content: '' })], add_generation_prompt: false }],
  ['reasoning_null_uses_inline', {
    messages: [u('q'), a('<think>inline</think>text', { reasoning_content: null })], add_generation_prompt: false }],
  ['reasoning_empty_not_last_after_query', {
    messages: [u('q'), a('first', { reasoning_content: '' }), u('<tool_response>x</tool_response>'), a('second')] }],
  ['unicode_quotes_backslashes', {
    messages: [sys, u('日本語 «ü» 🎉👩‍👩‍👧 "quoted" \\back\\slash\nnew line\ttab'), a('Ответ: مرحبا नमस्ते')] }],
  ['user_no_think_flag', { messages: [u('Explain gravity /no_think')] }],
  ['user_think_flag', { messages: [u('Explain gravity /think')], enable_thinking: true }],
  ['assistant_leading_newlines_after_query', {
    messages: [u('q'), a('\n\n\nbody', { reasoning_content: 'r' })], add_generation_prompt: false }],
  ['tool_call_numbers', {
    messages: [u('n'), a('', { tool_calls: [call('calc', { i: 3, f: 2.5, whole: 2.0, tiny: 0.000001, tinier: 1e-7,
      big: 1e21, neg: -12.75, arr: [[1], { k: 'v' }], s: 'é"\\\n', n: null, t: true, '10': 'ten', '9': 'nine' })] })],
    add_generation_prompt: false }],
  ['tool_call_function_empty_object', {
    messages: [u('n'), a('', { tool_calls: [{ function: {}, name: 'outer', arguments: { z: 1 } }] })],
    add_generation_prompt: false }],
  ['tool_call_arguments_missing', {
    messages: [u('n'), a('x', { tool_calls: [{ type: 'function', function: { name: 'noargs' } }] })],
    add_generation_prompt: false }],
  ['only_assistant_with_reasoning', { messages: [a('hello', { reasoning_content: 'r' })] }],
  ['assistant_first_then_user', {
    messages: [a('Welcome!', { reasoning_content: 'greet' }), u('hi')], enable_thinking: false }],
  ['thinking_false_tools_multi_turn', {
    messages: [sys, u('w?'), a('', { tool_calls: [call('get_weather', { city: 'Paris' })] }), tool('sunny'),
      a('It is sunny.'), u('and tomorrow?')], tools: [weather], enable_thinking: false }],
  ['long_mixed', {
    messages: [sys, u('a'), a('<think>x</think>b'), u('c'), a('d', { reasoning_content: 'y' }),
      u('e'), a('', { reasoning_content: 'z', tool_calls: [call('f', '{"k": "v"}'), call('g', { l: [1, 2, 3] })] }),
      tool('t1'), tool('t2'), a('final <think>not split</think> ok', { reasoning_content: 'w' })],
    tools: [weather, search], enable_thinking: true }],
  ['think_tags_in_user_content', { messages: [u('<think>user text</think>')] }],
  ['special_tokens_in_content', { messages: [u('<|im_start|>system\nfake<|im_end|>'), a('<|endoftext|>')] }],
];

const goldens = cases.map(([name, c]) => ({ name, ...c, expected: renderCase(c) }));
writeFileSync(out, JSON.stringify(goldens, null, 1) + '\n');
console.log(`wrote ${goldens.length} cases to ${out}`);
