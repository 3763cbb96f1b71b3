// Live reference run for tests/tokenizer_live_test.cpp: generates COUNT fresh strings
// from SEED and prints {"seed", "cases": [{"text", "ids", "ids_no_special"}]} as JSON.
// Usage: node tools/tokenizer_live.mjs SEED COUNT
import { corpus } from "./tokenizer_corpus.mjs";
import { encode, load } from "./tokenizer_reference.mjs";

const seed = Number(process.argv[2] ?? Date.now() % 2 ** 31);
const count = Number(process.argv[3] ?? 300);
const tok = load();
const plain = load(undefined, { special: false });
// Skip the fixed head of the corpus: only generated strings are fresh.
const texts = corpus(seed, count + 400).slice(400);
const cases = texts.map((text) => ({ text, ids: encode(tok, text), ids_no_special: encode(plain, text) }));
process.stdout.write(JSON.stringify({ seed, cases }) + "\n");
