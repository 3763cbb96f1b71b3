// Syntax highlighting for the chat page's code blocks, hand-written and small (no
// library, no CDN): one left-to-right scanner that marks comments, strings, numbers and
// the keywords of common languages. Safety: it works on the raw code text and every
// piece it emits is HTML-escaped, so highlighting can never turn code into markup.
import { escapeHtml } from './markdown.js';

const KEYWORDS = {
  c: 'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while bool true false NULL nullptr',
  cpp: 'alignas alignof and auto bool break case catch char class const constexpr consteval const_cast continue co_await co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long mutable namespace new noexcept nullptr operator private protected public return short signed sizeof static static_assert static_cast struct switch template this throw true try typedef typename union unsigned using virtual void volatile while override final std',
  js: 'async await break case catch class const continue debugger default delete do else export extends false finally for from function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield',
  python: 'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self',
  java: 'abstract boolean break byte case catch char class const continue default do double else enum extends final finally float for if implements import instanceof int interface long native new null package private protected public return short static super switch synchronized this throw throws true false try void volatile while var record',
  go: 'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false string int error',
  rust: 'as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while Some None Ok Err',
  bash: 'if then else elif fi case esac for while until do done in function return exit local export echo set unset shift source',
  sql: 'select from where insert into values update set delete create table drop alter join left right inner outer on group by order having limit and or not null as distinct union primary key',
  json: 'true false null',
};
const ALIASES = {
  h: 'c', cc: 'cpp', 'c++': 'cpp', hpp: 'cpp', cxx: 'cpp', javascript: 'js', jsx: 'js', mjs: 'js',
  ts: 'js', typescript: 'js', tsx: 'js', py: 'python', python3: 'python', kotlin: 'java',
  kt: 'java', cs: 'java', csharp: 'java', golang: 'go', rs: 'rust', sh: 'bash', shell: 'bash',
  zsh: 'bash', console: 'bash', jsonc: 'json', mysql: 'sql', postgresql: 'sql', sqlite: 'sql',
};
const HASH_COMMENTS = new Set(['python', 'bash']);
const SLASH_COMMENTS = new Set(['c', 'cpp', 'js', 'java', 'go', 'rust', 'json']);
const keywordSets = {};

export function languageOf(name) {
  const n = String(name || '').toLowerCase();
  const lang = ALIASES[n] || n;
  return KEYWORDS[lang] ? lang : null;
}

function keywords(lang) {
  if (!keywordSets[lang]) {
    const words = KEYWORDS[lang].split(' ');
    keywordSets[lang] = new Set(lang === 'sql' ? words.concat(words.map((w) => w.toUpperCase())) : words);
  }
  return keywordSets[lang];
}

const span = (cls, text) => `<span class="tok-${cls}">${escapeHtml(text)}</span>`;

// HTML for `code` in language `name`; unknown languages come back escaped only.
export function highlight(code, name) {
  const lang = languageOf(name);
  const src = String(code);
  if (!lang) return escapeHtml(src);
  const kw = keywords(lang);
  let out = '';
  let plain = '';
  const flush = () => { out += escapeHtml(plain); plain = ''; };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const rest = src.startsWith.bind(src);
    let end = -1, cls = null;
    if (SLASH_COMMENTS.has(lang) && rest('//', i)) {
      end = src.indexOf('\n', i); if (end < 0) end = src.length; cls = 'comment';
    } else if (SLASH_COMMENTS.has(lang) && rest('/*', i)) {
      end = src.indexOf('*/', i + 2); end = end < 0 ? src.length : end + 2; cls = 'comment';
    } else if ((HASH_COMMENTS.has(lang) && c === '#') || (lang === 'sql' && rest('--', i))) {
      end = src.indexOf('\n', i); if (end < 0) end = src.length; cls = 'comment';
    } else if (lang === 'python' && (rest('"""', i) || rest("'''", i))) {
      end = src.indexOf(src.slice(i, i + 3), i + 3); end = end < 0 ? src.length : end + 3; cls = 'string';
    } else if (c === '"' || c === "'" || (c === '`' && (lang === 'js' || lang === 'go'))) {
      if (c === "'" && lang === 'rust' && /^'[A-Za-z_]\w*(?!')/.test(src.slice(i, i + 40)) && src[i + 2] !== "'") {
        end = -1;  // a Rust lifetime, not a character literal
      } else {
        end = i + 1;
        while (end < src.length && src[end] !== c) {
          if (src[end] === '\\') end++;
          else if (src[end] === '\n' && c !== '`') break;
          end++;
        }
        end = Math.min(src.length, end + 1);
        cls = 'string';
      }
    } else if (/[0-9]/.test(c) && !/[\w$]/.test(src[i - 1] || '')) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)[a-zA-Z]*/.exec(src.slice(i, i + 64));
      end = i + m[0].length; cls = 'number';
    } else if (/[A-Za-z_$]/.test(c) && !/[\w$]/.test(src[i - 1] || '')) {
      const m = /^[A-Za-z_$][\w$]*/.exec(src.slice(i, i + 128));
      const word = m[0];
      if (kw.has(word)) { end = i + word.length; cls = 'keyword'; }
      else if (src[i + word.length] === '(') { end = i + word.length; cls = 'function'; }
      else { plain += word; i += word.length; continue; }
    }
    if (cls) {
      flush();
      out += span(cls, src.slice(i, end));
      i = end;
    } else {
      plain += c;
      i++;
    }
  }
  flush();
  return out;
}
