// Tests the web page's Markdown renderer (src/server/web/markdown.js) in node:
// known renderings, then a generated corpus of hostile inputs checking that the output
// only ever holds the renderer's own tags and attributes (no injected HTML). The same
// for the code highlighter (src/server/web/highlight.js): only its own spans, and the
// code's text comes back unchanged.
import assert from 'node:assert/strict';
import { renderMarkdown, escapeHtml } from '../../src/server/web/markdown.js';
import { highlight } from '../../src/server/web/highlight.js';

let checks = 0;
const eq = (md, html) => { assert.equal(renderMarkdown(md), html, `rendering ${JSON.stringify(md)}`); checks++; };

eq('hello', '<p>hello</p>');
eq('**bold** and *it* and `x<y`', '<p><strong>bold</strong> and <em>it</em> and <code>x&lt;y</code></p>');
eq('# Title', '<h1>Title</h1>');
eq('```js\nlet a = "<b>";\n```', '<pre><span class="code-lang">js</span><code class="language-js">let a = &quot;&lt;b&gt;&quot;;</code></pre>');
eq('```\nunclosed <i>', '<pre><code>unclosed &lt;i&gt;</code></pre>');  // still streaming
eq('- a\n- b', '<ul><li>a</li><li>b</li></ul>');
eq('3. c\n4. d', '<ol start="3"><li>c</li><li>d</li></ol>');
eq('> quote', '<blockquote><p>quote</p></blockquote>');
eq('[site](https://example.com/?a=1&b=2)', '<p><a href="https://example.com/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">site</a></p>');
eq('[x](javascript:alert(1))', '<p>[x](javascript:alert(1))</p>');
eq('<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
eq('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>');
eq('| a | b |\n|---|---|\n| 1 | 2 |', '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>');
eq('line1\nline2\n\npara2', '<p>line1<br>line2</p>\n<p>para2</p>');
assert.equal(escapeHtml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;');
checks++;

// Generated hostile inputs: every tag in the output must be one the renderer makes, with
// only its own attributes, and no raw '<' from the input may survive.
const allowed = new Set(['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'span', 'h1', 'h2', 'h3', 'h4',
  'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'hr', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const pieces = ['<script>', '</script>', '<img src=x onerror=alert(1)>', '"', "'", '&', '&lt;', '`', '```',
  '```html', '**', '*', '_', '~~', '[a](', 'javascript:alert(1)', ')', 'https://x.y/"onmouseover="a', '\n',
  '\n\n', '# ', '- ', '1. ', '> ', '|', '---', ' ', 'text', '<a href="javascript:x">', '<svg/onload=1>',
  '<!--', '-->', '\u0000', '\u00000\u0000', '[l](https://a.b/_x_)', '\u00e9', '<', '>', '=', 'on'];
let seed = 12345;
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const tagRe = /<\/?([a-zA-Z0-9]+)([^>]*)>/g;
const attrRe = /\s*([a-z-]+)="([^"]*)"/g;
for (let t = 0; t < 3000; t++) {
  let md = '';
  const n = 1 + rand(25);
  for (let k = 0; k < n; k++) md += pieces[rand(pieces.length)];
  const html = renderMarkdown(md);
  let m;
  tagRe.lastIndex = 0;
  while ((m = tagRe.exec(html))) {
    const tag = m[1].toLowerCase();
    assert.ok(allowed.has(tag), `unexpected <${tag}> from ${JSON.stringify(md)}: ${html}`);
    const rest = m[2].replace(attrRe, (all, name, value) => {
      assert.ok(['href', 'class', 'target', 'rel', 'start'].includes(name), `attribute ${name} from ${JSON.stringify(md)}`);
      if (name === 'href') assert.match(value, /^(https?:\/\/|mailto:)/i, `href ${value}`);
      if (name !== 'href') assert.doesNotMatch(value, /[<>&]/, `attribute value ${value}`);
      return '';
    });
    assert.equal(rest.trim(), '', `stray attribute text in ${m[0]} from ${JSON.stringify(md)}`);
  }
  // Outside tags, the only '<' or '>' are escaped ones.
  assert.doesNotMatch(html.replace(tagRe, ''), /[<>]/, `raw bracket from ${JSON.stringify(md)}`);
  checks++;
}
// The highlighter: known spans, then hostile code in every language.
assert.equal(highlight('return "<b>"; // x', 'js'),
             '<span class="tok-keyword">return</span> <span class="tok-string">&quot;&lt;b&gt;&quot;</span>; <span class="tok-comment">// x</span>');
assert.equal(highlight('def f(): pass  # <i>', 'py'),
             '<span class="tok-keyword">def</span> <span class="tok-function">f</span>(): <span class="tok-keyword">pass</span>  <span class="tok-comment"># &lt;i&gt;</span>');
assert.equal(highlight('<script>', 'no-such-language'), '&lt;script&gt;');
checks += 3;
const unescape = (h) => h.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const codePieces = ['<script>', '"', "'", '`', '//', '/*', '*/', '#', '--', '"""', '\\', '\n', '\n', 'if', 'return',
  'f(', '0x1F', '1.5e3', ' ', '<img onerror=x>', '&', '&amp;', 'span', '</span>', "'a", '\u0000'];
for (const lang of ['c', 'cpp', 'js', 'python', 'java', 'go', 'rust', 'bash', 'sql', 'json', 'x']) {
  for (let t = 0; t < 300; t++) {
    let code = '';
    const n = 1 + rand(30);
    for (let k = 0; k < n; k++) code += codePieces[rand(codePieces.length)];
    const html = highlight(code, lang);
    for (const tag of html.match(/<[^>]*>/g) || []) {
      assert.match(tag, /^(<span class="tok-(keyword|string|number|comment|function)">|<\/span>)$/, `tag ${tag} for ${lang} ${JSON.stringify(code)}`);
    }
    assert.equal(unescape(html.replace(/<[^>]*>/g, '')), code, `text kept for ${lang} ${JSON.stringify(code)}`);
    checks++;
  }
}
console.log(`markdown and highlight: ${checks} checks passed`);
