// LaTeX math for the Markdown renderer (markdown.js calls `math(tex, display)`), drawn by
// KaTeX: the page loads it from /katex/ (bundled from npm at build time, see
// CMakeLists.txt); the tests pass the npm package itself. KaTeX escapes all text and,
// with trust off, refuses \href, \url, \includegraphics and \html*, so its HTML can be
// inserted as is. Results are cached: a streaming reply is re-rendered on every chunk.

export const KATEX_OPTIONS = Object.freeze({
  throwOnError: true,  // markdown.js shows the source (and the error) instead
  trust: false,
  strict: 'ignore',    // e.g. Chinese text inside \text{}: render it, no console noise
  maxSize: 50,         // em; caps \rule and \kern sizes
  maxExpand: 1000,     // caps macro expansion (\def loops)
  output: 'htmlAndMathml',
});

// A renderer over `katex` (the module or window.katex), or null when there is none.
export function mathRenderer(katex) {
  if (!katex || typeof katex.renderToString !== 'function') return null;
  const cache = new Map();
  return (tex, display) => {
    const key = (display ? 'D' : 'I') + tex;
    let hit = cache.get(key);
    if (!hit) {
      try {
        hit = { html: katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display }) };
      } catch (e) {
        hit = { error: String(e && e.message ? e.message : e) };
      }
      if (cache.size >= 2000) cache.clear();
      cache.set(key, hit);
    }
    if (hit.error !== undefined) throw new Error(hit.error);
    return hit.html;
  };
}
