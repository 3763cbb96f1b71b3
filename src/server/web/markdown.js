// A small Markdown renderer for model replies. Safety first: every piece of model text is
// HTML-escaped before any markup is added, so a reply can never inject elements or
// attributes; links are kept only for http(s)/mailto URLs. Handles what chat replies use:
// fenced code (also an unclosed fence while streaming), inline code, headings, lists,
// block quotes, bold/italic/strike, links, tables, horizontal rules and paragraphs.
// Math: $...$ and \(...\) inline, $$...$$ and \[...\] display (a block when on lines of
// their own), never inside code; \$ is a dollar, and a price ("$5 and $10") is not math
// (Pandoc's rule: no space after the opening $, none before the closing one, no digit
// after it). The TeX goes to `opts.math(tex, display)` (math.js: KaTeX), whose HTML is
// trusted; without it, or when it throws, the source is shown as escaped text. An
// unclosed display block (a reply still streaming) is shown as its source until it closes.

export function escapeHtml(s) {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function safeUrl(url) {
  const u = url.trim();
  return /^(https?:\/\/|mailto:)/i.test(u) ? u : null;
}

// Inline markup on raw text (line breaks become <br>): code spans are cut out first so
// nothing inside them is interpreted, then math; everything else is escaped, then the
// markup patterns are applied.
export function renderInline(text, opts = {}) {
  const parts = text.split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    if (i % 3 === 0) out += inlineText(parts[i], opts);
    else if (i % 3 === 2) out += '<code>' + escapeHtml(parts[i].trim() || parts[i]) + '</code>';
  }
  return out;
}

const isSpace = (c) => c === undefined || /\s/.test(c);

// Splits text into plain pieces (strings) and math ({tex, display, src}).
export function splitMath(text) {
  const out = [];
  let plain = '';
  const push = (tex, display, src) => {
    if (plain) out.push(plain);
    plain = '';
    out.push({ tex, display, src });
  };
  let i = 0;
  let noClosingDollar = false;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '\\') {
      if (next === '$') { plain += '$'; i += 2; continue; }
      if (next === '(' || next === '[') {
        const close = next === '(' ? '\\)' : '\\]';
        const end = text.indexOf(close, i + 2);
        if (end > i + 2 && text.slice(i + 2, end).trim()) {
          push(text.slice(i + 2, end), next === '[', text.slice(i, end + 2));
          i = end + 2;
          continue;
        }
      }
      plain += next === '\\' ? '\\\\' : c;  // "\\(" is a backslash and a parenthesis
      i += next === '\\' ? 2 : 1;
      continue;
    }
    if (c === '$' && next === '$') {
      const end = text.indexOf('$$', i + 2);
      if (end > i + 2 && text.slice(i + 2, end).trim()) {
        push(text.slice(i + 2, end), true, text.slice(i, end + 2));
        i = end + 2;
      } else {
        plain += '$$';
        i += 2;
      }
      continue;
    }
    if (c === '$' && !isSpace(next) && !noClosingDollar) {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\\') { j++; continue; }  // \$ inside math
        if (text[j] === '$' && !isSpace(text[j - 1]) && !/[0-9]/.test(text[j + 1] || '')) break;
      }
      if (j < text.length) {
        push(text.slice(i + 1, j), false, text.slice(i, j + 1));
        i = j + 1;
        continue;
      }
      noClosingDollar = true;  // none after i, so none after any later $ either
    }
    plain += c;
    i++;
  }
  if (plain) out.push(plain);
  return out;
}

// One piece of math as HTML: the renderer's, or the escaped source (with the error).
function mathHtml(m, opts) {
  if (opts.math) {
    try {
      return opts.math(m.tex, m.display);
    } catch (e) {
      const msg = String(e && e.message ? e.message : e);
      return `<span class="math-src math-error" title="${escapeHtml(msg)}">${escapeHtml(m.src)}</span>`;
    }
  }
  return `<span class="math-src">${escapeHtml(m.src)}</span>`;
}

function inlineText(raw, opts) {
  // Math becomes placeholders before escaping (\u0001 marks them), so nothing touches it.
  const maths = [];
  raw = splitMath(raw.replace(/[\u0000\u0001]/g, '\ufffd')).map((p) => {
    if (typeof p === 'string') return p;
    maths.push(mathHtml(p, opts));
    return `\u0001${maths.length - 1}\u0001`;
  }).join('');
  let s = escapeHtml(raw);  // NUL marks our link placeholders
  // Links become placeholders first, so the emphasis patterns below never touch their
  // URLs or attributes. The URL is checked unescaped and written escaped (href="").
  const links = [];
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s\u0001]+)\)/g, (m, label, url) => {
    if (!safeUrl(url.replace(/&amp;/g, '&'))) return m;
    links.push([url, label]);
    return `\u0000${links.length - 1}\u0000`;
  });
  s = emphasis(s).replace(/\n/g, '<br>');
  s = s.replace(/\u0000(\d+)\u0000/g, (m, i) => {
    const [url, label] = links[Number(i)];
    return `<a href="${url}" target="_blank" rel="noopener noreferrer">${emphasis(label)}</a>`;
  });
  return s.replace(/\u0001(\d+)\u0001/g, (m, i) => maths[Number(i)]);
}

function emphasis(s) {
  s = s.replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/__([^_\n]+)__/g, '<strong>$1</strong>');
  s = s.replace(/(^|[^*])\*([^*\n]+)\*(?!\*)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[^\w])_([^_\n]+)_(?!\w)/g, '$1<em>$2</em>');
  return s.replace(/~~([^~\n]+)~~/g, '<del>$1</del>');
}

function isTableSeparator(line) {
  return /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
}

function tableCells(line) {
  let l = line.trim();
  if (l.startsWith('|')) l = l.slice(1);
  if (l.endsWith('|')) l = l.slice(0, -1);
  return l.split('|').map((c) => c.trim());
}

// A display-math block starting at lines[i] ("$$" or "\\[" first on the line): the TeX,
// the index of its last line and what follows the closing delimiter there, or null
// when the math closes on its first line with text after it (then it is inline math).
function mathBlock(lines, i) {
  const open = lines[i].match(/^\s*(\$\$|\\\[)(.*)$/);
  if (!open) return null;
  const close = open[1] === '$$' ? '$$' : '\\]';
  const body = [];
  for (let j = i, rest = open[2]; j < lines.length; rest = lines[++j]) {
    const k = rest.indexOf(close);
    if (k < 0) { body.push(rest); continue; }
    const after = rest.slice(k + close.length);
    if (j === i && after.trim()) return null;
    body.push(rest.slice(0, k));
    return { open: open[1], tex: body.join('\n'), end: j, after, closed: true };
  }
  return { open: open[1], tex: body.join('\n'), end: lines.length - 1, after: '', closed: false };
}

export function renderMarkdown(src, opts = {}) {
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let para = [];
  const inline = (t) => renderInline(t, opts);
  const flushPara = () => {
    if (para.length) out.push('<p>' + inline(para.join('\n')) + '</p>');
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const block = mathBlock(lines, i);
    // A "$$" line that closes a "$$" the paragraph opened ("the sum is $$", "x", "$$") is
    // part of that paragraph, not the start of a block.
    const closesPara = block?.open === '$$' && (para.join('\n').match(/\$\$/g) || []).length % 2 === 1;
    if (block && block.tex.trim() && !closesPara) {
      flushPara();
      if (block.closed) {
        const src = block.open + block.tex + (block.open === '$$' ? '$$' : '\\]');
        out.push('<div class="math-block">' + mathHtml({ tex: block.tex, display: true, src }, opts) + '</div>');
      } else {  // still streaming (or never closed): the source as it is
        out.push('<p class="math-pending">' + escapeHtml(lines.slice(i).join('\n').trim()).replace(/\n/g, '<br>') + '</p>');
      }
      if (block.after.trim()) {
        lines[block.end] = block.after;
        i = block.end;
      } else {
        i = block.end + 1;
      }
      continue;
    }
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w+#.-]*)\s*$/);
    if (fence) {
      flushPara();
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;  // the closing fence (or past the end while the reply is still streaming)
      const lang = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : '';
      const label = fence[2] ? `<span class="code-lang">${escapeHtml(fence[2])}</span>` : '';
      out.push(`<pre>${label}<code${lang}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      flushPara();
      const n = heading[1].length;
      out.push(`<h${n}>${inline(heading[2].replace(/\s+#+\s*$/, ''))}</h${n}>`);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flushPara();
      out.push('<hr>');
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      flushPara();
      const quote = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quote.push(lines[i++].replace(/^\s*>\s?/, ''));
      out.push('<blockquote>' + renderMarkdown(quote.join('\n'), opts) + '</blockquote>');
      continue;
    }
    const item = line.match(/^(\s*)([-*+]|\d+[.)])\s+(.*)$/);
    if (item) {
      flushPara();
      const ordered = /\d/.test(item[2]);
      const tag = ordered ? 'ol' : 'ul';
      const start = ordered ? parseInt(item[2], 10) : 1;
      const items = [];
      while (i < lines.length) {
        const m = lines[i].match(/^(\s*)([-*+]|\d+[.)])\s+(.*)$/);
        if (m && /\d/.test(m[2]) === ordered) {
          items.push(m[3]);
        } else if (items.length && /^\s{2,}\S/.test(lines[i])) {
          items[items.length - 1] += '\n' + lines[i].trim();  // continuation line
        } else {
          break;
        }
        i++;
      }
      const attr = ordered && start !== 1 ? ` start="${start}"` : '';
      out.push(`<${tag}${attr}>` +
               items.map((t) => '<li>' + inline(t) + '</li>')
                   .join('') + `</${tag}>`);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && isTableSeparator(lines[i + 1])) {
      flushPara();
      const head = tableCells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(tableCells(lines[i++]));
      out.push('<table><thead><tr>' + head.map((c) => '<th>' + inline(c) + '</th>').join('') +
               '</tr></thead><tbody>' +
               rows.map((r) => '<tr>' + r.map((c) => '<td>' + inline(c) + '</td>').join('') + '</tr>')
                   .join('') + '</tbody></table>');
      continue;
    }
    if (!line.trim()) {
      flushPara();
      i++;
      continue;
    }
    para.push(line);
    i++;
  }
  flushPara();
  return out.join('\n');
}
