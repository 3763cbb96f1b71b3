// Regenerates tests/golden/tokenizer_corpus.json: a generated corpus and the ids the
// reference (@huggingface/tokenizers on Qwen3's tokenizer.json) gives for each string,
// with special-token text parsed and (for a subset) treated as plain text.
// Run: node tools/gen_tokenizer_goldens.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { corpus } from "./tokenizer_corpus.mjs";
import { encode, load } from "./tokenizer_reference.mjs";

const SEED = 20260528;
const COUNT = 2400;
const tok = load();
const plain = load(undefined, { special: false });
const cases = corpus(SEED, COUNT).map((text, i) => {
  const c = { text, ids: encode(tok, text) };
  if (i % 4 === 0 || text.includes("<")) c.ids_no_special = encode(plain, text);
  return c;
});
const out = join(dirname(fileURLToPath(import.meta.url)), "../tests/golden/tokenizer_corpus.json");
// One case per line keeps diffs of a regenerated file readable.
const head = JSON.stringify({ seed: SEED, generator: "tools/gen_tokenizer_goldens.mjs",
  reference: "@huggingface/tokenizers@0.2.0" }).slice(0, -1);
writeFileSync(out, `${head},"cases":[\n${cases.map((c) => JSON.stringify(c)).join(",\n")}\n]}\n`);
console.log(`wrote ${cases.length} cases to ${out}`);
