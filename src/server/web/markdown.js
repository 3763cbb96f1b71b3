// A small Markdown renderer for model replies. Safety first: every piece of model text is
// HTML-escaped before any markup is added, so a reply can never inject elements or
// attributes; links are kept only for http(s)/mailto URLs. Handles what chat replies use:
// fenced code (also an unclosed fence while streaming), inline code, headings, lists,
// block quotes, bold/italic/strike, links, tables, horizontal rules and paragraphs.

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

// Inline markup on raw text: code spans are cut out first so nothing inside them is
// interpreted; everything else is escaped, then the markup patterns are applied.
export function renderInline(text) {
  const parts = text.split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    if (i % 3 === 0) out += inlineText(parts[i]);
    else if (i % 3 === 2) out += '<code>' + escapeHtml(parts[i].trim() || parts[i]) + '</code>';
  }
  return out;
}

function inlineText(raw) {
  let s = escapeHtml(raw.replace(/\u0000/g, '\ufffd'));  // NUL marks our placeholders
  // Links become placeholders first, so the emphasis patterns below never touch their
  // URLs or attributes. The URL is checked unescaped and written escaped (href="").
  const links = [];
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (m, label, url) => {
    if (!safeUrl(url.replace(/&amp;/g, '&'))) return m;
    links.push([url, label]);
    return `\u0000${links.length - 1}\u0000`;
  });
  s = emphasis(s);
  return s.replace(/\u0000(\d+)\u0000/g, (m, i) => {
    const [url, label] = links[Number(i)];
    return `<a href="${url}" target="_blank" rel="noopener noreferrer">${emphasis(label)}</a>`;
  });
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

export function renderMarkdown(src) {
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let para = [];
  const flushPara = () => {
    if (para.length) out.push('<p>' + para.map(renderInline).join('<br>') + '</p>');
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
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
      out.push(`<h${n}>${renderInline(heading[2].replace(/\s+#+\s*$/, ''))}</h${n}>`);
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
      out.push('<blockquote>' + renderMarkdown(quote.join('\n')) + '</blockquote>');
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
               items.map((t) => '<li>' + t.split('\n').map(renderInline).join('<br>') + '</li>')
                   .join('') + `</${tag}>`);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && isTableSeparator(lines[i + 1])) {
      flushPara();
      const head = tableCells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(tableCells(lines[i++]));
      out.push('<table><thead><tr>' + head.map((c) => '<th>' + renderInline(c) + '</th>').join('') +
               '</tr></thead><tbody>' +
               rows.map((r) => '<tr>' + r.map((c) => '<td>' + renderInline(c) + '</td>').join('') + '</tr>')
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
