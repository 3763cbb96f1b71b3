// Reference renderer for any chat template: @huggingface/jinja renders a template file
// with a JSON array of contexts (each an object of template variables: messages, tools,
// add_generation_prompt, enable_thinking, bos_token, ...), one node process per batch.
// Usage: node tools/render_jinja.mjs TEMPLATE.jinja CASES.json
//        node tools/render_jinja.mjs --inline CASES.json   (cases are {template, context})
// Prints a JSON array with, per context, the rendered string or {"error": message}
// (a template that fails to parse gives one {"error"} per case).
import { readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';

function renderOne(source, ctx) {
  let t;
  try {
    t = new Template(source);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
  try {
    return t.render(ctx);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

if (process.argv[2] === '--inline') {
  const cases = JSON.parse(readFileSync(process.argv[3] ?? 0, 'utf8'));
  process.stdout.write(JSON.stringify(cases.map((c) => renderOne(c.template, c.context))));
  process.exit(0);
}

const source = readFileSync(process.argv[2], 'utf8');
const contexts = JSON.parse(readFileSync(process.argv[3] ?? 0, 'utf8'));
let template = null;
let parseError = null;
try {
  template = new Template(source);
} catch (e) {
  parseError = String(e && e.message ? e.message : e);
}
const out = contexts.map((ctx) => {
  if (parseError !== null) return { error: parseError };
  try {
    return template.render(ctx);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(out));
