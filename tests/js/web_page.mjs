// End-to-end test of the web chat page in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core from tools/), against real `qwen3` servers replaying fixed
// replies (web_page_test.cpp starts them):
//   node web_page.mjs '{"base": URL, "long": URL, "small": URL, "shots": "DIR"}'
// base: a reply with reasoning, code and hostile HTML, slow enough to press Stop;
// long: a reply of many lines (scrolling while it streams, at phone width);
// small: a tiny context, so old turns get left out (the page must say so);
// math: a reply with LaTeX math (KaTeX, bundled into the binary) and Chinese, Japanese and
// Korean text (the glyphs must come from a real CJK font: scripts/setup.sh installs
// fonts-wqy-microhei).
// vision (alone, with "png": a PNG file): a `qwen3 serve --mmproj` server with a random
// Qwen3-VL pair: attach (file input, paste, drop), thumbnails removable, the image sent as
// an OpenAI image_url data-URL part, a streamed reply, a refused image's 400 text shown.
// Screenshots (1280 px and 375 px, light and dark; math and CJK) go to DIR.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.QWEN3_TOOLS_DIR || path.join(here, '../../tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const { chromium } = require('playwright-core');

const spec = JSON.parse(process.argv[2]);
const only = process.argv[3] || '';  // one part: "desktop", "phone", "context", "math" or "vision"
const failures = [];
let checks = 0;
const check = (ok, what) => { checks++; if (!ok) failures.push(what); };
const shot = (name) => path.join(spec.shots, `web_page_${name}.png`);
fs.mkdirSync(spec.shots, { recursive: true });

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
});

const bodies = [];
const consoleErrors = [];
const failedAssets = [];  // the page's own files (not API calls) that did not load
async function openPage(base, viewport) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/v1/')) failedAssets.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => {  // (a reload or close cancels requests: not a failure)
    if (!new URL(r.url()).pathname.startsWith('/v1/') && !/ERR_ABORTED/.test(r.failure()?.errorText)) {
      failedAssets.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
    }
  });
  page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(r.postData())); });
  await page.goto(base + '/');
  await page.waitForSelector('#input');
  await page.waitForFunction(() => document.querySelector('#model-info').textContent.includes('ctx'));
  return page;
}
const count = (page, sel) => page.$$eval(sel, (e) => e.length);
const replies = (page) => count(page, '.msg.assistant');
// Waits until the chat on screen has `n` assistant replies and none is streaming.
async function waitReplies(page, n, timeout = 30000) {
  await page.waitForFunction((n) => document.querySelectorAll('.msg.assistant').length === n &&
    document.querySelector('#stop').hidden, n, { timeout });
}
async function send(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}
const lastReply = '.msg.assistant:last-of-type';

async function desktop() {
  const page = await openPage(spec.base, { width: 1280, height: 800 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: spec.base });

  // 1. A streamed reply: reasoning live (open), then Markdown content, highlighted code,
  //    the model's HTML as text, stats; reasoning collapsed and rendered as Markdown.
  await page.evaluate(() => {  // records whether the reasoning was ever open and live
    window.sawThinkingOpen = false;
    new MutationObserver(() => {
      const s = document.querySelector('.msg.assistant details.reasoning[open] summary');
      if (s?.textContent === 'Thinking…') window.sawThinkingOpen = true;
    }).observe(document.querySelector('#messages'), { subtree: true, childList: true, attributes: true });
  });
  check(await page.isHidden('#attach'), 'no attach button on a server without a vision encoder');
  await send(page, 'Show me some code');
  await page.waitForSelector('.msg.assistant details.reasoning', { timeout: 20000 });
  check(await page.evaluate(() => window.sawThinkingOpen), 'reasoning block open while thinking');
  check(await page.isVisible('#stop'), 'stop button visible while generating');
  await waitReplies(page, 1);
  const stats = await page.textContent('.msg.assistant .stats');
  check(/ttft \d+ ms/.test(stats) && /tok\/s/.test(stats), `stats show ttft and tok/s: "${stats}"`);
  check(await page.$eval('.msg.assistant details.reasoning', (d) => !d.open), 'reasoning collapsed after the reply');
  check(await page.$eval('.msg.assistant details.reasoning .body strong', (e) => e.textContent) === 'markdown',
        'reasoning rendered as Markdown');
  const code = await page.$eval('.msg.assistant .content pre code.language-python', (c) => ({
    text: c.textContent, fn: c.querySelector('.tok-function')?.textContent, str: c.querySelector('.tok-string')?.textContent }));
  check(code.text === 'print("hi")' && code.fn === 'print' && code.str === '"hi"', `code highlighted: ${JSON.stringify(code)}`);
  const content = await page.textContent('.msg.assistant .content');
  check(content.includes('<script>window.xssA=1</script><img src=x onerror="window.xssB=2">'), 'HTML shown as text');
  check(await page.evaluate(() => window.xssA === undefined && window.xssB === undefined), 'no script ran');
  check(await count(page, '#messages script, #messages img') === 0, 'no injected elements');
  check(bodies.at(-1)?.stream === true && bodies.at(-1)?.chat_template_kwargs?.enable_thinking === true, 'request streams with thinking on');
  await page.screenshot({ path: shot('1280_light') });

  // 2. Copy puts the reply's Markdown on the clipboard.
  await page.click(`${lastReply} .actions button[data-action="copy"]`);
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  check(clip.startsWith('Here is code:') && clip.includes('```python'), `copied text: "${clip.slice(0, 40)}"`);

  // 3. Settings go into the request; thinking off.
  await page.click('#settings summary');
  await page.fill('#top-k', '20');
  await page.fill('#seed', '7');
  await page.fill('#max-tokens', '500');
  await page.fill('#system-prompt', 'Be brief.');
  await page.uncheck('#thinking');
  await send(page, 'Again, without thinking');
  await waitReplies(page, 2);
  const b2 = bodies.at(-1);
  check(b2.chat_template_kwargs?.enable_thinking === false && b2.top_k === 20 && b2.seed === 7 && b2.max_tokens === 500,
        `settings in the request: ${JSON.stringify({ ...b2, messages: undefined })}`);
  check(b2.messages.length === 4 && b2.messages[0].role === 'system' && b2.messages[0].content === 'Be brief.',
        `history with the system prompt: ${b2.messages.length} messages`);

  // 4. Stop: the reply ends early, kept and marked as incomplete.
  await send(page, 'One more');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant').length === 3 &&
    document.querySelectorAll('.msg.assistant')[2].querySelector('.content').textContent.length > 0, null, { timeout: 20000 });
  await page.click('#stop');
  await waitReplies(page, 3, 10000);
  check((await page.textContent(`${lastReply} .stats`)).includes('stopped'), 'stopped reply marked in the stats');
  check(await page.isVisible(`${lastReply} .partial`), 'stopped reply marked incomplete');

  // 5. Regenerate: a second version; both stay reachable with the switcher.
  await page.click(`${lastReply} button[data-action="regenerate"]`);
  await waitReplies(page, 3);
  check(bodies.at(-1).messages.length === 6, `regenerate sends the history up to the user message: ${bodies.at(-1).messages.length}`);
  check((await page.textContent(`${lastReply} .branch`)).includes('2/2'), 'regenerated reply is version 2/2');
  await page.click(`${lastReply} button[title="Previous version"]`);
  check(await page.isVisible(`${lastReply} .partial`), 'version 1 is the stopped reply');
  await page.click(`${lastReply} button[title="Next version"]`);

  // 6. Edit the first message: a new branch from there, the old one kept.
  await page.click('.msg.user >> nth=0 >> button[data-action="edit"]');
  await page.fill('.msg.user textarea.edit', 'Show me other code');
  await page.click('.msg.user button[data-action="send"]');
  await waitReplies(page, 1);
  check(bodies.at(-1).messages.filter((m) => m.role !== 'system').length === 1, 'edit sends only the edited message');
  check((await page.textContent('.msg.user .branch')).includes('2/2'), 'edited message is version 2/2');
  await page.click('.msg.user button[title="Previous version"]');
  check(await replies(page) === 3, 'the first branch keeps its three replies');
  check(await page.textContent('.msg.user .content') === 'Show me some code', 'the first branch keeps the old message');

  // 7. A failed request keeps the typed text and offers a retry that works.
  await page.fill('#temperature', '9');
  await page.dispatchEvent('#temperature', 'change');
  await send(page, 'This one fails');
  await page.waitForSelector(`${lastReply} .error-text`, { timeout: 10000 });
  check(await page.inputValue('#input') === 'This one fails', 'failed message is back in the input');
  check(/temperature/i.test(await page.textContent(`${lastReply} .error-text`)), 'the server\'s error is shown');
  const historyBefore = bodies.length;
  await page.fill('#temperature', '');
  await page.dispatchEvent('#temperature', 'change');
  await page.click(`${lastReply} button[data-action="retry"]`);
  await waitReplies(page, 4);
  check(bodies.length === historyBefore + 1 && !bodies.at(-1).messages.some((m) => m.role === 'assistant' && !m.content),
        'retry sends no empty reply');
  check(await count(page, '.msg.error') === 0 && await page.inputValue('#input') === '', 'retry replaced the failed reply');

  // 8. A reload while the reply is still in its reasoning: the empty reply is marked
  //    interrupted and is not sent as history next time.
  await page.check('#thinking');
  await send(page, 'Reload during this');
  await page.waitForSelector(`${lastReply} details.reasoning`, { timeout: 20000 });
  await page.reload();
  await page.waitForSelector('.msg.assistant');
  check(/interrupted/i.test(await page.textContent(`${lastReply}`)), 'reply cut by the reload is marked interrupted');
  await send(page, 'After the reload');
  await waitReplies(page, 5);
  const hist = bodies.at(-1).messages;
  check(hist.every((m) => m.role !== 'assistant' || m.content), 'no empty assistant message in the history');
  check(hist.filter((m) => m.role === 'user').length === 5, `history after the reload: ${hist.length} messages`);

  // 9. Switching chats while a reply streams: it keeps streaming into its own chat.
  await page.click('#new-chat');
  await page.click('#new-chat');
  check(await count(page, '#conversations li') === 2, 'New chat twice makes one empty chat');
  await send(page, 'Second chat');
  await page.waitForSelector('#stop:not([hidden])');
  await page.click('#conversations li:nth-child(2) span');
  check(await page.isVisible('#send'), 'the other chat is not busy');
  await page.waitForFunction(() => !document.querySelector('#conversations .busy'), null, { timeout: 30000 });
  check(await replies(page) === 5, 'the first chat got no stray reply');
  await page.click('#conversations li:nth-child(1) span');
  check(await replies(page) === 1 && (await page.textContent('.msg.assistant .stats')).includes('tok'),
        'the reply finished in its own chat');

  // 10. Dark mode: the system setting, and the toggle.
  await page.emulateMedia({ colorScheme: 'dark' });
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await bg();
  check(dark === 'rgb(23, 24, 28)', `dark background from the system setting: ${dark}`);
  await page.screenshot({ path: shot('1280_dark') });
  await page.click('#theme');  // auto -> light
  check(await bg() === 'rgb(246, 246, 247)', 'toggle to light');
  await page.click('#theme');  // light -> dark
  await page.emulateMedia({ colorScheme: 'light' });
  check(await bg() === 'rgb(23, 24, 28)', 'toggle to dark wins over the system');
  await page.click('#theme');  // back to auto

  // 11. Export, delete with undo, import: the chats come back.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const file = path.join(userDataDir, 'export.json');
  await download.saveAs(file);
  const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
  check(exported.conversations?.length === 2, `exported ${exported.conversations?.length} chats`);
  await page.click('#conversations li:nth-child(1) button');
  check(await count(page, '#conversations li') === 1, 'delete removes the chat');
  await page.click('#toast-undo');
  check(await count(page, '#conversations li') === 2, 'undo brings it back');
  await page.evaluate(() => { localStorage.removeItem('qwen3.conversations'); });
  await page.reload();
  await page.waitForSelector('#input');
  check(await count(page, '.msg') === 0, 'no chats after clearing the storage');
  await page.setInputFiles('#import-file', file);
  await page.waitForFunction(() => document.querySelectorAll('#conversations li').length === 3);
  await page.click('#conversations li:nth-child(3) span');
  check(await replies(page) === 5, 'imported chat has its replies');
  await page.click('.msg.user >> nth=0 >> button[title="Next version"]');
  check(await replies(page) === 1, 'imported chat keeps its branches');
  await page.close();
}

async function phone() {
  const page = await openPage(spec.long, { width: 375, height: 700 });
  const noSideScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth &&
    [...document.querySelectorAll('.msg')].every((m) => m.scrollWidth <= m.clientWidth + 1));
  check(!(await page.isVisible('#sidebar')), 'sidebar hidden at 375 px');
  check(await page.$eval('#messages', (m) => m.clientWidth) >= 340, 'chat uses the width');
  await page.click('#toggle-side');
  check(await page.isVisible('#sidebar') && await page.isVisible('#new-chat'), 'sidebar opens as a drawer');
  await page.click('#close-side');
  check(!(await page.isVisible('#sidebar')), 'drawer closes');

  // A long word and URL wrap inside the bubble; the reply streams many lines.
  await send(page, 'x'.repeat(300) + ' https://example.com/' + 'a/'.repeat(120));
  await page.waitForFunction(() => {
    const box = document.querySelector('#messages');
    return box.scrollHeight > box.clientHeight * 2;
  }, null, { timeout: 30000 });
  check(await noSideScroll(), 'no horizontal scroll at 375 px');
  // Scroll up with the wheel while it streams: the page must not pull it back down.
  await page.mouse.move(180, 300);
  await page.mouse.wheel(0, -100000);
  // (The wheel scrolls smoothly: on a loaded machine it takes longer than a frame or two.)
  await page.waitForFunction(() => document.querySelector('#messages').scrollTop === 0, null, { timeout: 5000 })
    .catch(() => {});
  const top0 = await page.$eval('#messages', (b) => b.scrollTop);
  const h0 = await page.$eval('#messages', (b) => b.scrollHeight);
  await page.waitForFunction((h0) => document.querySelector('#messages').scrollHeight > h0 + 200, h0, { timeout: 20000 });
  const top1 = await page.$eval('#messages', (b) => b.scrollTop);
  check(top0 === 0 && top1 === 0, `view stays where the user scrolled: ${top0} -> ${top1}`);
  check(await page.isVisible('#to-bottom'), 'a jump-to-newest button shows');
  await page.click('#to-bottom');
  await page.waitForTimeout(300);
  const atBottom = () => page.$eval('#messages', (b) => b.scrollHeight - b.scrollTop - b.clientHeight < 45);
  check(await atBottom(), 'the button goes to the bottom');
  await page.waitForTimeout(500);
  check(await atBottom(), 'and the view follows the stream again');
  await waitReplies(page, 1, 60000);
  check(await noSideScroll(), 'no horizontal scroll after the reply');
  await page.screenshot({ path: shot('375_light') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: shot('375_dark') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.close();
}

async function contextNote() {
  const page = await openPage(spec.small, { width: 1280, height: 800 });
  await page.click('#settings summary');
  await page.fill('#max-tokens', '24');  // the reply reserve: a prompt of 72 tokens fits
  await page.dispatchEvent('#max-tokens', 'change');
  for (let i = 1; i <= 4 && !(await page.$('.msg.assistant .note')); i++) {
    await send(page, `Turn ${i}: tell me more about it`);
    await waitReplies(page, i);
  }
  const note = await page.$eval('.msg.assistant .note', (n) => n.textContent).catch(() => '');
  check(/left out/.test(note) && /context/.test(note), `the page says old turns were left out: "${note}"`);
  await page.close();
}

// The font families fontconfig has for a language ("zh", "ja", "ko").
function fontFamilies(lang) {
  try {
    return execFileSync('fc-list', [`:lang=${lang}`, 'family'], { encoding: 'utf8' })
      .split('\n').flatMap((l) => l.split(',')).map((f) => f.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

// The fonts Chromium used for the text directly inside `selector` (DevTools protocol).
async function fontsUsed(page, selector) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

async function mathAndCjk() {
  const page = await openPage(spec.math, { width: 1280, height: 800 });
  // Records, while the reply streams, whether math was already drawn and whether an open
  // display block showed as its source.
  await page.evaluate(() => {
    window.mathSeen = { katex: false, pending: false };
    new MutationObserver(() => {
      if (document.querySelector('#stop').hidden) return;
      const c = document.querySelector('.msg.assistant:last-of-type .content');
      if (c?.querySelector('.katex')) window.mathSeen.katex = true;
      if (c?.querySelector('.math-pending')) window.mathSeen.pending = true;
    }).observe(document.querySelector('#messages'), { subtree: true, childList: true });
  });
  await send(page, '勾股定理是什么？ピタゴラスの定理を説明してください。');
  await waitReplies(page, 1);
  const seen = await page.evaluate(() => window.mathSeen);
  check(seen.katex, 'math is drawn while the reply streams');
  check(seen.pending, 'an unfinished display block shows as its source while streaming');
  const c = `${lastReply} .content`;
  const r = await page.$eval(c, (el) => ({
    inline: [...el.querySelectorAll('.katex')].filter((k) => !k.closest('.katex-display')).length,
    display: el.querySelectorAll('.math-block .katex-display').length,
    errors: [...el.querySelectorAll('.math-error')].map((e) => e.textContent),
    pending: el.querySelectorAll('.math-pending').length,
    code: [...el.querySelectorAll('code')].map((e) => e.textContent),
    text: el.textContent,
    fracHeight: el.querySelector('.math-block')?.getBoundingClientRect().height ?? 0,
  }));
  check(r.inline === 3 && r.display === 2, `math drawn: ${r.inline} inline, ${r.display} display`);
  check(r.errors.length === 1 && r.errors[0] === '$\\frac{1$', `a broken formula shows as its source: ${JSON.stringify(r.errors)}`);
  check(r.pending === 0, 'no display block left as source');
  check(r.text.includes('prices $5 and $10,') && r.text.includes('the $ sign'), 'prices and an escaped dollar stay text');
  check(r.code.includes('$code$'), `math in code stays code: ${JSON.stringify(r.code)}`);
  check(r.fracHeight > 30, `the display math block is laid out (${r.fracHeight} px high)`);
  check(await count(page, `${lastReply} details.reasoning .body .katex`) === 1, 'math in the reasoning');
  const katexFonts = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replace(/"/g, ''));
  });
  check(katexFonts.includes('KaTeX_Main') && katexFonts.includes('KaTeX_Math'),
        `KaTeX's fonts loaded from the binary: ${katexFonts.join(', ')}`);

  // CJK text is drawn with a CJK font (not boxes).
  const cjk = new Set([...fontFamilies('zh'), ...fontFamilies('ja'), ...fontFamilies('ko')]);
  check(cjk.size > 0, 'a CJK font is installed (scripts/setup.sh installs fonts-wqy-microhei)');
  await page.$$eval(`${c} p`, (ps) => ps.find((p) => p.textContent.includes('日本語'))?.setAttribute('data-cjk', ''));
  for (const sel of ['.msg.user .content', `${c} p[data-cjk]`]) {
    const fonts = await fontsUsed(page, sel);
    const used = fonts.filter((f) => cjk.has(f.familyName) && f.glyphCount > 0);
    check(used.length > 0, `CJK glyphs in ${sel} from a CJK font: ${JSON.stringify(fonts)}`);
  }
  await page.screenshot({ path: shot('1280_math_cjk') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 375, height: 700 });
  await page.evaluate(() => { document.querySelector('#messages').scrollTop = 0; });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth &&
    [...document.querySelectorAll('.msg')].every((m) => m.scrollWidth <= m.clientWidth + 1)), 'math: no horizontal scroll at 375 px');
  await page.screenshot({ path: shot('375_math_cjk_dark') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.close();
}

// Images on a server with a vision encoder (a random Qwen3-VL pair: the reply is noise,
// but it streams).
async function vision() {
  const page = await openPage(spec.vision, { width: 1280, height: 800 });
  await page.waitForSelector('#attach', { state: 'visible', timeout: 5000 })
    .catch(() => check(false, 'attach button shown on a server with --mmproj'));
  await page.click('#settings summary');
  await page.fill('#max-tokens', '8');
  await page.fill('#temperature', '0');
  await page.uncheck('#thinking');
  await page.click('#settings summary');
  const png = fs.readFileSync(spec.png);
  const thumbs = () => count(page, '#attachments .thumb');
  await page.setInputFiles('#attach-file', spec.png);
  await page.waitForSelector('#attachments .thumb');
  // A second image, removed again; a paste and a drop each add one.
  await page.setInputFiles('#attach-file', { name: 'second.png', mimeType: 'image/png', buffer: png });
  await page.waitForFunction(() => document.querySelectorAll('#attachments .thumb').length === 2);
  await page.click('#attachments .attachment:last-child button[data-action="remove-image"]');
  check(await thumbs() === 1, 'a thumbnail is removable');
  for (const how of ['paste', 'drop']) {
    await page.evaluate(([b64, how]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `${how}.png`, { type: 'image/png' }));
      const ev = how === 'paste'
        ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })
        : new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
      document.querySelector(how === 'paste' ? '#input' : '#messages').dispatchEvent(ev);
    }, [png.toString('base64'), how]);
    await page.waitForFunction(() => document.querySelectorAll('#attachments .thumb').length === 2, null, { timeout: 5000 })
      .catch(() => {});
    check(await thumbs() === 2, `an image ${how}d into the composer shows a thumbnail`);
    await page.click('#attachments .attachment:last-child button[data-action="remove-image"]');
  }
  // Not an image: a toast, nothing attached.
  await page.setInputFiles('#attach-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
  await page.waitForFunction(() => !document.querySelector('#toast').hidden);
  check((await page.textContent('#toast-text')).includes('not a PNG, JPEG or WebP'), 'a text file is refused with a toast');
  check(await thumbs() === 1, 'one image in the composer');
  await page.evaluate(() => { document.querySelector('#toast').hidden = true; });
  await page.fill('#input', 'What is in this picture?');
  await page.screenshot({ path: shot('1280_vision_composer') });

  await send(page, 'What is in this picture?');
  await waitReplies(page, 1, 30000);
  const sent = bodies.at(-1)?.messages?.at(-1)?.content;
  check(Array.isArray(sent) && sent.length === 2 && sent[0].type === 'image_url' &&
        sent[0].image_url.url === 'data:image/png;base64,' + png.toString('base64') &&
        sent[1].type === 'text' && sent[1].text === 'What is in this picture?',
        `the image goes as an image_url data-URL part: ${JSON.stringify(sent)?.slice(0, 200)}`);
  check(await thumbs() === 0 && await page.isHidden('#attachments'), 'the composer is empty after sending');
  check(await count(page, '.msg.user .images img.thumb') === 1, 'the sent message shows its image');
  const r = await page.$eval(lastReply, (d) => ({
    text: (d.querySelector('.content')?.textContent || '') + (d.querySelector('.reasoning .body')?.textContent || ''),
    error: d.querySelector('.error-text')?.textContent || '', stats: d.querySelector('.stats')?.textContent || '' }));
  check(!r.error && /\d+ tokens/.test(r.stats) && !/^0 tokens/.test(r.stats), `a streamed reply to the image: ${JSON.stringify(r)}`);
  const file = shot('1280_vision');
  await page.screenshot({ path: file });
  console.log(`web page: image screenshot ${file}`);

  // A file the browser takes for a PNG but the server cannot decode: the 400's text.
  await page.setInputFiles('#attach-file', { name: 'broken.png', mimeType: 'image/png', buffer: png.subarray(0, 60) });
  await page.waitForSelector('#attachments .thumb');
  await send(page, 'And this one?');
  await waitReplies(page, 2, 30000);
  const err = await page.textContent(`${lastReply} .error-text`).catch(() => '');
  check(/image_url\.url' is not a usable image/.test(err), `the server's refusal is shown: "${err}"`);
  check(await page.inputValue('#input') === 'And this one?' && await thumbs() === 1,
        'the refused message and its image come back into the composer');
  await page.screenshot({ path: shot('1280_vision_refused') });
  // Editing a message with an image sends the image with the new text.
  await page.click('.msg.user:first-of-type .actions button[data-action="edit"]');
  check(await count(page, '.msg.user:first-of-type .images img.thumb') === 1, 'the image shows while editing');
  await page.fill('.msg.user:first-of-type textarea.edit', 'Describe it.');
  await page.click('.msg.user:first-of-type .actions button[data-action="send"]');
  await waitReplies(page, 1, 30000);
  const edited = bodies.at(-1)?.messages?.at(-1)?.content;
  check(Array.isArray(edited) && edited[0]?.image_url?.url === sent[0].image_url.url && edited[1]?.text === 'Describe it.',
        `an edited message keeps its image: ${JSON.stringify(edited)?.slice(0, 120)}`);
  await page.setViewportSize({ width: 375, height: 700 });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth &&
    [...document.querySelectorAll('.msg')].every((m) => m.scrollWidth <= m.clientWidth + 1)), 'images: no horizontal scroll at 375 px');
  await page.screenshot({ path: shot('375_vision') });
  await page.close();
}

try {
  if (only === 'vision') await vision();
  if (!only || only === 'desktop') await desktop();
  if (!only || only === 'phone') await phone();
  if (!only || only === 'context') await contextNote();
  if (!only || only === 'math') await mathAndCjk();
  check(consoleErrors.length === 0, 'no page errors: ' + consoleErrors.join('; '));
  check(failedAssets.length === 0, 'every file of the page loads: ' + failedAssets.join('; '));
} catch (e) {
  failures.push('exception: ' + (e.stack || e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`web page: ${failures.length} of ${checks} checks failed:\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log(`web page: ${checks} checks passed; screenshots in ${spec.shots}`);
