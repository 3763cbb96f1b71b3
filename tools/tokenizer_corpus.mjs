// Deterministic generator of tokenizer test strings (shared by the golden generator,
// the live reference test and the benchmark). Random code points are restricted to
// characters assigned in Unicode 15.0 (the version of Debian 12's utf8proc): node's
// ICU knows a newer Unicode, so code points it calls assigned are additionally checked
// against the ranges added after 15.0 (POST_15_0 below).

export function rng(seed) {  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code points assigned in Unicode 15.1, 16.0 and 17.0 (whole new blocks and the
// additions inside older blocks that matter for \p{L}, \p{N}, \s and NFC).
const POST_15_0 = [
  [0x2ffc, 0x2fff], [0x31e4, 0x31e5], [0x31ef, 0x31ef], [0x2ebf0, 0x2ee5d], [0x30000, 0x3ffff],
  [0x0897, 0x0897], [0x1c89, 0x1c8a], [0x2427, 0x2429], [0xa7cb, 0xa7cd], [0xa7d0, 0xa7dc],
  [0xa7f1, 0xa7f1], [0x105c0, 0x105ff], [0x10d40, 0x10d8f], [0x10ec2, 0x10ec7],
  [0x10ed0, 0x10eff], [0x10e80, 0x10ebf], [0x10940, 0x1095f], [0x11380, 0x113ff],
  [0x11b60, 0x11b7f], [0x11bc0, 0x11bff], [0x11dB0, 0x11def], [0x11f5a, 0x11f5a],
  [0x116d0, 0x116ff], [0x13460, 0x143ff], [0x16100, 0x1613f], [0x16d40, 0x16d7f],
  [0x16ea0, 0x16edf], [0x16ff2, 0x16fff], [0x18cff, 0x18cff], [0x18d09, 0x18d1e],
  [0x1cc00, 0x1ceff], [0x1e5d0, 0x1e5ff], [0x1e6c0, 0x1e6ff], [0x1f8b0, 0x1f8ff],
  [0x1fa00, 0x1faff], [0x1fb00, 0x1fbff], [0x1e030, 0x1e08f], [0x1d2c0, 0x1d2df],
  [0x2b73a, 0x2b73f], [0x2b81e, 0x2b81f], [0x2cea2, 0x2ceaf], [0x1f6d8, 0x1f6df],
  [0x1f7da, 0x1f7ff], [0x0c5c, 0x0c5c], [0x0cdc, 0x0cdc], [0x1ac0, 0x1aff],
  [0xa7ce, 0xa7cf], [0x10d00, 0x10d3f], [0x1e4d0, 0x1e4ff], [0x11f00, 0x11f5f],
];
const ASSIGNED = /^[^\p{Cn}\p{Cs}\p{Co}]$/u;

export function assigned_in_15_0(cp) {
  if (cp > 0x10ffff || cp >= 0xe0000 && cp < 0xf0000 && cp > 0xe01ef) return false;
  for (const [a, b] of POST_15_0) if (cp >= a && cp <= b) return false;
  return ASSIGNED.test(String.fromCodePoint(cp));
}

const pick = (r, arr) => arr[Math.floor(r() * arr.length)];
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

function from_range(r, lo, hi, n) {
  let s = "";
  while ([...s].length < n) {
    const cp = int(r, lo, hi);
    if (assigned_in_15_0(cp)) s += String.fromCodePoint(cp);
  }
  return s;
}

// Any code point of Unicode 15.0, weighted towards the BMP.
export function random_char(r) {
  for (;;) {
    const u = r();
    const cp = u < 0.5 ? int(r, 0, 0x7ff) : u < 0.85 ? int(r, 0x800, 0xffff) : int(r, 0x10000, 0x2ffff);
    if (assigned_in_15_0(cp)) return String.fromCodePoint(cp);
  }
}

const SCRIPTS = {
  cjk: [0x4e00, 0x9fff], hiragana: [0x3041, 0x3096], katakana: [0x30a1, 0x30fa],
  cyrillic: [0x0410, 0x044f], arabic: [0x0621, 0x064a], devanagari: [0x0905, 0x0939],
  thai: [0x0e01, 0x0e3a], hangul: [0xac00, 0xd7a3], greek: [0x0391, 0x03c9],
  hebrew: [0x05d0, 0x05ea], latin_ext: [0x00c0, 0x024f], armenian: [0x0531, 0x0587],
  georgian: [0x10d0, 0x10fa], tamil: [0x0b85, 0x0bb9], bengali: [0x0985, 0x09b9],
};
const PHRASES = [
  "你好，世界！今天天气很好。", "我喜欢学习人工智能和机器学习。", "日本語のテキストを処理します。",
  "Привет, мир! Как дела?", "Съешь же ещё этих мягких французских булок.",
  "مرحبا بالعالم، كيف حالك؟", "नमस्ते दुनिया, आप कैसे हैं?", "สวัสดีครับ ยินดีที่ได้รู้จัก",
  "안녕하세요, 세계! 반갑습니다.", "Γειά σου Κόσμε", "שלום עולם", "Ünïcödé façade naïve café",
  "Tiếng Việt có dấu: Hà Nội, Sài Gòn", "Zażółć gęślą jaźń", "Ελληνικά και English μαζί",
];
const EMOJI = [
  "👨‍👩‍👧‍👦", "👩🏽‍💻", "👍🏻", "👍🏿", "🏳️‍🌈", "🇺🇸🇯🇵", "1️⃣", "❤️‍🔥", "🧑🏾‍🤝‍🧑🏼", "😀😃😄",
  "🤖", "🫠", "👨‍❤️‍💋‍👨", "🐈‍⬛", "✌🏼", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
];
const COMBINING = [
  "e\u0301", "A\u030a", "o\u0308\u0304", "\u1100\u1161\u11a8", "\u212b", "\u2126", "\u212a",
  ">\u0338", "=\u0338", "n\u0303", "c\u0327", "\u0041\u0323\u0302", "\u0065\u0302\u0323",
  "\u05d1\u05bc", "\u0915\u093c", "\u0627\u0653", "\u30ab\u3099", "\u0301abc", "x\u0300\u0301",
  "\u1e9b\u0323", "\u00c5", "\u0344", "\u0f73", "\ufb2c",
];
const CODE = [
  "def f(x):\n    return x ** 2  # square\n",
  "int main() {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
  "for (let i = 0; i < n; ++i) { sum += a[i]; }",
  "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "<div class=\"x\">Hello &amp; welcome</div>",
  "    if (a && b || !c) {\n        x = y->z[3];\n    }\n",
  "#include <vector>\nstd::vector<int> v{1,2,3};", "$ ls -la | grep '.cpp' > out.txt 2>&1",
  "x = [i*2 for i in range(10) if i % 3 == 0]", "fn main() -> Result<(), Box<dyn Error>> {}",
  "const re = /^[a-z]+$/gi; // regex", "a:=b; c+=d; e<<=2; f>>>=1; g!==h",
];
const WS = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", " \n", "\n ",
  "\u00a0", "\u3000", "\u2028", "\u0085", "\ufeff", "\u200b", "\u2003", "\u202f", "\u000b", "\u000c",
  " \t \n", "    \n    ", "\n\n\n   "];
const SPECIALS = [
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
  "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
  "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
  "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
  "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
];
const NEAR_SPECIALS = ["<|im_", "<|im_start", "im_end|>", "<think", "</think", "<|endoftext|",
  "<<|im_end|>>", "<tool_call", "< think>", "<|IM_START|>", "<THINK>"];
const WORDS = ["the", "The", "HELLO", "world", "don't", "I'M", "you'Re", "they'VE", "we'll",
  "it'S", "she'd", "'ll", "'LL", "'s", "'ſ", "''s", "O'Neil", "rock'n'roll", "can't", "Y'ALL",
  "hello", "token", "Qwen3", "GPU", "e-mail", "naïve", "über", "ÉCOLE", "straße", "ǅemal"];
const NUMBERS = () => ["0", "42", "3.14159", "1,000,000", "2024-01-15", "١٢٣٤", "１２３", "²³",
  "½", "Ⅻ", "0x1F", "1e-9", "-17", "99.9%", "$5.00", "৩৪", "๑๒"];

function digits(r, n) {
  let s = "";
  for (let i = 0; i < n; ++i) s += String(int(r, 0, 9));
  return s;
}

// One test string from a weighted mix of all the pieces above.
function mixed(r) {
  const parts = [];
  const n = int(r, 1, 8);
  for (let i = 0; i < n; ++i) {
    const k = int(r, 0, 11);
    if (k === 0) parts.push(pick(r, PHRASES));
    else if (k === 1) parts.push(pick(r, EMOJI));
    else if (k === 2) parts.push(pick(r, COMBINING));
    else if (k === 3) parts.push(pick(r, CODE));
    else if (k === 4) parts.push(pick(r, WS));
    else if (k === 5) parts.push(pick(r, SPECIALS));
    else if (k === 6) parts.push(pick(r, WORDS));
    else if (k === 7) parts.push(pick(r, NUMBERS()));
    else if (k === 8) parts.push(random_char(r));
    else if (k === 9) parts.push(pick(r, NEAR_SPECIALS));
    else if (k === 10) {
      const [lo, hi] = SCRIPTS[pick(r, Object.keys(SCRIPTS))];
      parts.push(from_range(r, lo, hi, int(r, 1, 12)));
    } else parts.push(digits(r, int(r, 1, 20)));
  }
  return parts.join(r() < 0.5 ? "" : pick(r, [" ", "\n", "", " ", "\t", "\r\n"]));
}

function random_unicode(r) {
  const n = int(r, 1, 24);
  let s = "";
  for (let i = 0; i < n; ++i) s += r() < 0.15 ? pick(r, WS) : random_char(r);
  return s;
}

function random_ascii(r) {
  const n = int(r, 1, 40);
  let s = "";
  for (let i = 0; i < n; ++i) s += String.fromCharCode(r() < 0.1 ? pick(r, [9, 10, 13]) : int(r, 32, 126));
  return s;
}

// Strings grouped by what they exercise; `count` strings per call, same seed -> same list.
export function corpus(seed, count) {
  const r = rng(seed);
  const out = [];
  const fixed = [
    "", " ", "a", "Hello world", "Hello, world!", "  leading", "trailing   ", "a  b   c    d",
    "x \n y", "line1\r\nline2\r\n", "tab\tseparated\tvalues", "\n\n\nx", "x\n\n\n",
    ...PHRASES, ...EMOJI, ...COMBINING, ...CODE, ...WS, ...SPECIALS, ...NEAR_SPECIALS, ...WORDS,
    ...NUMBERS(), SPECIALS.join(""), SPECIALS.join(" "), "<think>\n\n</think>\n\n",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "<think>\u0338", "a<|im_end|>\u0301",
  ];
  for (const f of fixed) out.push(f);
  const makers = [mixed, mixed, mixed, random_unicode, random_unicode, random_ascii,
    (q) => pick(q, WORDS).toUpperCase() + pick(q, WS) + pick(q, WORDS),
    (q) => digits(q, int(q, 1, 60)),
    (q) => pick(q, WS).repeat(int(q, 1, 20)) + pick(q, WORDS) + pick(q, WS).repeat(int(q, 1, 5)),
    (q) => pick(q, PHRASES) + pick(q, SPECIALS) + pick(q, PHRASES)];
  while (out.length < count) out.push(pick(r, makers)(r));
  return out.slice(0, count);
}
