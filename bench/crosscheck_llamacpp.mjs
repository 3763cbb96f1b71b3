// Greedy-decoding cross-check against llama.cpp (node-llama-cpp@3.21.1, its prebuilt CPU
// binary): a random Qwen3 checkpoint in the Hugging Face layout is written by
// `qwen3 gen-model --format hf`, converted by `qwen3 convert --type q8_0`, and both
// engines decode the same prompt ids greedily for --steps tokens from the same GGUF.
// Our side recomputes the logits of the whole sequence each step (`qwen3 logits`), so
// every step also reports the top-1 / top-2 logit margin: random weights give fairly
// flat logits, and a step whose margin is below the two engines' numeric difference can
// flip the argmax. So when the two token lists differ, the script also scores our logits
// along llama.cpp's own greedy path (one `qwen3 logits` call, teacher forcing): if at
// every step llama.cpp's token is our argmax or within --tie-eps logits of it, the lists
// differ only by near-ties (printed as "PASS (near-tie)"); otherwise FAIL.
//
// Run through bench/crosscheck_llamacpp.sh (it installs node-llama-cpp outside the repo).
// Usage: node crosscheck_llamacpp.mjs --qwen3 BIN [--preset tiny|0.6b] [--steps 16]
//          [--seed 1] [--threads 2] [--prompt TEXT] [--tie-eps 0.02] [--keep]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const QWEN3 = opt("--qwen3", "");
const PRESET = opt("--preset", "tiny");
const STEPS = Number(opt("--steps", "16"));
const SEED = opt("--seed", "1");
const THREADS = Number(opt("--threads", "2"));
const PROMPT = opt("--prompt", "The capital of France is");
const KEEP = args.includes("--keep");
const TIE_EPS = Number(opt("--tie-eps", "0.02"));
if (!QWEN3 || !fs.existsSync(QWEN3)) {
  console.error(`crosscheck: no qwen3 binary at '${QWEN3}' (pass --qwen3 BIN)`);
  process.exit(2);
}

const run = (argv) => execFileSync(QWEN3, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qwen3-crosscheck-"));
const hf = path.join(dir, "hf");
const gguf = path.join(dir, "q8_0.gguf");

let t0 = Date.now();
run(["gen-model", "--preset", PRESET, "--format", "hf", "--seed", SEED, "-o", hf]);
run(["convert", hf, "-o", gguf, "--type", "q8_0", "-q"]);
console.log(`model: random ${PRESET}-shape HF checkpoint (seed ${SEED}) -> ${gguf} (Q8_0), ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const prompt = JSON.parse(run(["tokenize", "-m", gguf, "--text", PROMPT]));
console.log(`prompt: ${JSON.stringify(PROMPT)} -> ${prompt.length} ids [${prompt.join(",")}]`);

// --- ours: greedy through `qwen3 logits`, with margins --------------------------------
t0 = Date.now();
const ours = [];
const margins = [];
const rows = [];
const outFile = path.join(dir, "logits.f32");
// Logit rows of every position of `ids` (n_ids x n_vocab).
const logitRows = (ids) => {
  run(["logits", "-m", gguf, "--ids", ids.join(","), "-t", String(THREADS), "-o", outFile]);
  const buf = fs.readFileSync(outFile);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const nVocab = all.length / ids.length;
  return (pos) => all.subarray(pos * nVocab, (pos + 1) * nVocab);
};
const top2 = (row) => {
  let b1 = -1, b2 = -1;
  for (let i = 0; i < row.length; ++i) {
    if (b1 < 0 || row[i] > row[b1]) { b2 = b1; b1 = i; }
    else if (b2 < 0 || row[i] > row[b2]) b2 = i;
  }
  return [b1, b2];
};
let seq = prompt.slice();
for (let s = 0; s < STEPS; ++s) {
  const last = logitRows(seq)(seq.length - 1);
  const [b1, b2] = top2(last);
  ours.push(b1);
  margins.push(last[b1] - last[b2]);
  rows.push(Float32Array.from(last));
  seq.push(b1);
}
console.log(`qwen3:     [${ours.join(",")}] (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

// --- llama.cpp -----------------------------------------------------------------------
t0 = Date.now();
const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: gguf });
const ctx = await model.createContext({ contextSize: 512, threads: THREADS, batchSize: 512 });
const sequence = ctx.getSequence();
const theirs = [];
for await (const tok of sequence.evaluate(prompt, { temperature: 0 })) {
  theirs.push(tok);
  if (theirs.length >= STEPS) break;
}
const theirPrompt = Array.from(model.tokenize(PROMPT));
console.log(`llama.cpp: [${theirs.join(",")}] (${((Date.now() - t0) / 1000).toFixed(1)} s, ${llama.gpu ? "gpu" : "cpu"} build ${llama.buildType ?? ""})`);
if (JSON.stringify(theirPrompt) !== JSON.stringify(prompt))
  console.log(`note: llama.cpp tokenizes the prompt differently: [${theirPrompt.join(",")}]`);
await ctx.dispose();
await model.dispose();
await llama.dispose();

const minMargin = Math.min(...margins);
console.log(`top-1/top-2 logit margins (ours): min ${minMargin.toFixed(4)}, per step [${margins.map((m) => m.toFixed(3)).join(", ")}]`);
let first = -1;
for (let i = 0; i < STEPS; ++i) if (ours[i] !== theirs[i]) { first = i; break; }
if (KEEP) console.log(`kept ${dir}`);
if (first < 0) {
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
  console.log(`PASS: ${STEPS} greedy tokens identical (qwen3 vs llama.cpp on the same Q8_0 GGUF)`);
  process.exit(0);
}
const row = rows[first];
const gap = row[ours[first]] - row[theirs[first]];
console.log(`first divergence at step ${first}: qwen3 ${ours[first]}, llama.cpp ${theirs[first]}; ` +
  `our logit for ${ours[first]} exceeds ${theirs[first]}'s by ${gap.toFixed(5)}`);
// Teacher forcing: our logits along llama.cpp's path, all steps from one call.
const forced = prompt.concat(theirs.slice(0, STEPS - 1));
const at = logitRows(forced);
let worst = 0, ties = 0, bad = -1;
for (let s = 0; s < STEPS; ++s) {
  const r = at(prompt.length - 1 + s);
  const [b1] = top2(r);
  const g = r[b1] - r[theirs[s]];
  if (b1 !== theirs[s]) {
    ++ties;
    worst = Math.max(worst, g);
    if (g > TIE_EPS && bad < 0) bad = s;
  }
}
if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
if (bad < 0) {
  console.log(`PASS (near-tie): the lists differ, but along llama.cpp's own greedy path its token is ` +
    `our argmax at ${STEPS - ties} of ${STEPS} steps and within ${worst.toFixed(5)} logits of it at the other ${ties} ` +
    `(--tie-eps ${TIE_EPS}): a near-tie flipped by the engines' numeric difference, after which the sequences run apart`);
  process.exit(0);
}
console.log(`FAIL: along llama.cpp's path, step ${bad}: its token ${theirs[bad]} is ${(at(prompt.length - 1 + bad)[top2(at(prompt.length - 1 + bad))[0]] - at(prompt.length - 1 + bad)[theirs[bad]]).toFixed(5)} logits below our argmax (more than --tie-eps ${TIE_EPS})`);
process.exit(1);
