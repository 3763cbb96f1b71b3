// Reference encode throughput: @huggingface/tokenizers on the same corpus and in the
// same two shapes as bench/tokenizer_bench.cpp. Prints MB/s (1 MB = 1e6 bytes of UTF-8).
//   node bench/tokenizer_ref.mjs [seconds per case, default 2]
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode, load } from "../tools/tokenizer_reference.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const texts = JSON.parse(readFileSync(join(here, "../tests/golden/tokenizer_corpus.json"), "utf8"))
  .cases.map((c) => c.text);
const seconds = Number(process.argv[2] ?? 2);
const tok = load();
const bytes = (s) => Buffer.byteLength(s, "utf8");

function measure(name, nbytes, fn) {
  fn();  // warm the caches, as Google Benchmark's first iterations do
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    fn();
    ++iters;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const mbps = (nbytes * iters) / elapsed / 1e6;
  console.log(`${name}\t${mbps.toFixed(2)} MB/s\t(${iters} iterations, ${(elapsed / iters * 1e3).toFixed(1)} ms each)`);
}

const total = texts.reduce((a, t) => a + bytes(t), 0);
measure("EncodeCorpusStrings", total, () => { for (const t of texts) encode(tok, t); });
const doc = texts.map((t) => t + "\n").join("");
measure("EncodeCorpusDocument", bytes(doc), () => encode(tok, doc));
