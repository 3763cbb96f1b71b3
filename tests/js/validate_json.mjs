// Independent check of constrained-decoding output: every reply must be JSON that validates
// against its schema with ajv (draft 2020-12) + ajv-formats, pinned in tools/.
//   node validate_json.mjs cases.json
// cases.json: [{"name", "schema", "text"}]. Prints a summary; exits 1 listing failures.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const failures = [];
for (const c of cases) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  let value;
  try {
    value = JSON.parse(c.text);
  } catch (e) {
    failures.push(`${c.name}: not JSON (${e.message}): ${JSON.stringify(c.text).slice(0, 300)}`);
    continue;
  }
  const validate = ajv.compile(c.schema);
  if (!validate(value))
    failures.push(`${c.name}: ${ajv.errorsText(validate.errors)}: ${c.text.slice(0, 300)}`);
}
console.log(`validate_json: ${cases.length - failures.length}/${cases.length} valid`);
for (const f of failures.slice(0, 20)) console.log('FAIL ' + f);
process.exit(failures.length ? 1 : 0);
