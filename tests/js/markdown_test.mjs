// Tests the web page's Markdown renderer (src/server/web/markdown.js) in node:
// known renderings, then a generated corpus of hostile inputs checking that the output
// only ever holds the renderer's own tags and attributes (no injected HTML). The same
// for the code highlighter (src/server/web/highlight.js): only its own spans, and the
// code's text comes back unchanged. Then the math: delimiters against KaTeX's own output
// (the pinned npm package the page bundles), prices and code left alone, errors as the
// source, every prefix of a streaming reply, and hostile TeX (no links, scripts or
// handlers come out of KaTeX).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, escapeHtml } from '../../src/server/web/markdown.js';
import { highlight } from '../../src/server/web/highlight.js';
import { mathRenderer, KATEX_OPTIONS } from '../../src/server/web/math.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const katex = createRequire(path.join(toolsDir, 'package.json'))('katex');

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
  'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'hr', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'div']);
const pieces = ['<script>', '</script>', '<img src=x onerror=alert(1)>', '"', "'", '&', '&lt;', '`', '```',
  '```html', '**', '*', '_', '~~', '[a](', 'javascript:alert(1)', ')', 'https://x.y/"onmouseover="a', '\n',
  '\n\n', '# ', '- ', '1. ', '> ', '|', '---', ' ', 'text', '<a href="javascript:x">', '<svg/onload=1>',
  '<!--', '-->', '\u0000', '\u00000\u0000', '[l](https://a.b/_x_)', '\u00e9', '<', '>', '=', 'on',
  '$', '$$', '\\(', '\\)', '\\[', '\\]', '\\$', '\u0001', '\u00010\u0001', 'x$'];
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
      assert.ok(['href', 'class', 'target', 'rel', 'start', 'title'].includes(name), `attribute ${name} from ${JSON.stringify(md)}`);
      if (name === 'href') assert.match(value, /^(https?:\/\/|mailto:)/i, `href ${value}`);
      if (name !== 'href' && name !== 'title') assert.doesNotMatch(value, /[<>&]/, `attribute value ${value}`);
      if (name === 'title') assert.doesNotMatch(value, /[<>"]/, `title ${value}`);
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

// ---- math ----
const math = mathRenderer(katex);
const K = (tex, display = false) => katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display });
const eqm = (md, html) => { assert.equal(renderMarkdown(md, { math }), html, `rendering ${JSON.stringify(md)}`); checks++; };
eqm('$x^2$', `<p>${K('x^2')}</p>`);
eqm('Euler: $e^{i\\pi}+1=0$.', `<p>Euler: ${K('e^{i\\pi}+1=0')}.</p>`);
eqm('$a_1 + b_1$ and $c_2$', `<p>${K('a_1 + b_1')} and ${K('c_2')}</p>`);  // no <em> across them
eqm('\\(a_1\\) and \\[b\\]', `<p>${K('a_1')} and ${K('b', true)}</p>`);
eqm('$$\\sum_i x_i$$', `<div class="math-block">${K('\\sum_i x_i', true)}</div>`);
eqm('Before\n$$\n\\int_0^1 x\\,dx\n$$\nafter', `<p>Before</p>\n<div class="math-block">${K('\n\\int_0^1 x\\,dx\n', true)}</div>\n<p>after</p>`);
eqm('\\[\n\\frac{a}{b}\n\\]', `<div class="math-block">${K('\n\\frac{a}{b}\n', true)}</div>`);
eqm('$$a$$ and $$b$$', `<p>${K('a', true)} and ${K('b', true)}</p>`);
eqm('The sum is $$\n\\sum_i i\n$$\nwhich is nice.', `<p>The sum is ${K('\n\\sum_i i\n', true)}<br>which is nice.</p>`);
eqm('Then\n$$\nx\n$$\nand $$y$$ too', `<p>Then</p>\n<div class="math-block">${K('\nx\n', true)}</div>\n<p>and ${K('y', true)} too</p>`);
eqm('- item $x_1$\n- $\\sqrt{2}$', `<ul><li>item ${K('x_1')}</li><li>${K('\\sqrt{2}')}</li></ul>`);
eqm('| a | $b$ |\n|---|---|\n| $c^2$ | d |', `<table><thead><tr><th>a</th><th>${K('b')}</th></tr></thead><tbody><tr><td>${K('c^2')}</td><td>d</td></tr></tbody></table>`);
eqm('$\\text{勾股定理}$', `<p>${K('\\text{勾股定理}')}</p>`);
// Not math: prices, escaped dollars, spaces inside the dollars, code.
eqm('It costs $5 and $10.', '<p>It costs $5 and $10.</p>');
eqm('From $1,000 to $2,000, or $5/$10.', '<p>From $1,000 to $2,000, or $5/$10.</p>');
eqm('US$5 and US$10', '<p>US$5 and US$10</p>');
eqm('\\$x\\$ is escaped', '<p>$x$ is escaped</p>');
eqm('$ x$ and $x $', '<p>$ x$ and $x $</p>');
eqm('`$x$` and `\\(y\\)`', '<p><code>$x$</code> and <code>\\(y\\)</code></p>');
eqm('```\n$$x$$\n\\[y\\]\n```', '<pre><code>$$x$$\n\\[y\\]</code></pre>');
eqm('$$ $$ and \\( \\)', '<p>$$ $$ and \\( \\)</p>');
eqm('[l](https://a.b/$x$)', `<p>[l](https://a.b/${K('x')})</p>`);  // never math inside an href
// Errors: the source, marked, with KaTeX's message as the title.
const kerr = (tex) => { try { K(tex); } catch (e) { return e.message; } return ''; };
eqm('$\\frac{$', `<p><span class="math-src math-error" title="${escapeHtml(kerr('\\frac{'))}">$\\frac{$</span></p>`);
eqm('$$\n\\def\\a{\\a\\a}\\a\n$$', `<div class="math-block"><span class="math-src math-error" title="${escapeHtml(kerr('\n\\def\\a{\\a\\a}\\a\n'))}">$$\n\\def\\a{\\a\\a}\\a\n$$</span></div>`);
// Without a renderer (KaTeX not bundled): the source, and still no emphasis inside.
eq('$a_1 + b_1$ and _b_', '<p><span class="math-src">$a_1 + b_1$</span> and <em>b</em></p>');
// Streaming: every prefix renders; an open display block shows as its source until it
// closes, then it is KaTeX's.
const reply = 'Area: $\\pi r^2$, price $5.\n\n$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\nDone, `$x$`.';
let sawPending = false;
for (let n = 0; n <= reply.length; n++) {
  const html = renderMarkdown(reply.slice(0, n), { math });
  if (html.includes('<p class="math-pending">$$')) sawPending = true;
  assert.doesNotMatch(html.replace(tagRe, ''), /[<>]/, `raw bracket in prefix ${n}`);
  checks++;
}
assert.ok(sawPending, 'an unclosed display block shows as its source');
eqm(reply, `<p>Area: ${K('\\pi r^2')}, price $5.</p>\n<div class="math-block">${K('\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n', true)}</div>\n<p>Done, <code>$x$</code>.</p>`);
// Hostile TeX through KaTeX: no link, script, image, frame or event handler, no
// javascript: anywhere in a tag, no url() in a style.
const texPieces = ['$', '$$', '\\(', '\\)', '\\[', '\\]', 'x', '^', '_', '{', '}', '\\frac', '\\href{javascript:alert(1)}{x}',
  '\\url{javascript:x}', '\\htmlClass{a}{b}', '\\htmlStyle{background:url(x)}{b}', '\\htmlData{onclick=x}{b}',
  '\\includegraphics{x.png}', '\\def\\a{\\a\\a}\\a', '\\rule{1000em}{1000em}', '<script>', '<img src=x onerror=y>',
  '"', "'", '&', '\\text{', '\\color{red}', '\\textcolor{url(x)}{a}', ' ', '\n', '`', '\\mathrm{', '\\\\', '\\begin{matrix}',
  '\\end{matrix}', '&amp;', '中文', '\\operatorname{on}'];
for (let t = 0; t < 1500; t++) {
  let md = '';
  const n = 1 + rand(14);
  for (let k = 0; k < n; k++) md += texPieces[rand(texPieces.length)];
  const html = renderMarkdown(md, { math });
  let m;
  tagRe.lastIndex = 0;
  while ((m = tagRe.exec(html))) {
    const tag = m[1].toLowerCase();
    assert.ok(!['script', 'img', 'a', 'iframe', 'object', 'embed', 'style', 'link', 'image', 'use', 'foreignobject'].includes(tag),
              `<${tag}> from ${JSON.stringify(md)}`);
    assert.doesNotMatch(m[2], /\s(on[a-z]+|href|src|xlink:href|action|formaction)\s*=/i, `attribute in ${m[0]} from ${JSON.stringify(md)}`);
    for (const [, name, value] of m[2].matchAll(/\s*([a-zA-Z:-]+)="([^"]*)"/g)) {
      if (name !== 'title') assert.doesNotMatch(value, /javascript:|url\(|expression\(/i, `${name} in ${m[0]} from ${JSON.stringify(md)}`);
    }
  }
  assert.doesNotMatch(html.replace(tagRe, ''), /[<>]/, `raw bracket from ${JSON.stringify(md)}`);
  checks++;
}
console.log(`markdown, highlight and math: ${checks} checks passed`);
