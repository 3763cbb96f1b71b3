// End-to-end test of the web chat page in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core from tools/).
//   node web_page.mjs '{"base": "http://127.0.0.1:PORT", "screenshot": "out.png"}'
// The server replays a reply with reasoning, a code block and hostile HTML, slowly
// enough (a few ms per token) to see it stream and to press Stop.
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
const failures = [];
let checks = 0;
const check = (ok, what) => { checks++; if (!ok) failures.push(what); };

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1100, height: 800 },
});
try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const bodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(r.postData())); });

  await page.goto(spec.base + '/');
  await page.waitForSelector('#input');
  const info = await page.waitForFunction(() => document.querySelector('#model-info').textContent.includes('ctx'));
  check(!!info, 'model info shown');

  // 1. A message, streamed reply: the reasoning shows live, then content, then the stats.
  await page.fill('#input', 'Show me some code');
  await page.press('#input', 'Enter');
  await page.waitForSelector('.msg.assistant details.reasoning', { timeout: 20000 });
  const liveOpen = await page.$eval('.msg.assistant details.reasoning', (d) => d.open);
  check(liveOpen, 'reasoning block open while thinking');
  check(await page.isVisible('#stop'), 'stop button visible while generating');
  await page.waitForSelector('.msg.assistant .stats', { timeout: 30000 });
  const stats = await page.textContent('.msg.assistant .stats');
  check(/ttft \d+ ms/.test(stats) && /tok\/s/.test(stats), `stats show ttft and tok/s: "${stats}"`);
  check(await page.$eval('.msg.assistant details.reasoning', (d) => !d.open), 'reasoning collapsed after the reply');
  const reasoning = await page.textContent('.msg.assistant details.reasoning .body');
  check(reasoning.includes('Thinking about **markdown**.'), `reasoning text: "${reasoning}"`);
  check(await page.$eval('.msg.assistant .content pre code.language-python', (c) => c.textContent) === 'print("hi")', 'code block rendered');
  check(await page.$$eval('.msg.assistant .content strong', (s) => s.some((e) => e.textContent === 'bold')), 'bold rendered');
  // The model's HTML is text, not markup.
  const content = await page.textContent('.msg.assistant .content');
  check(content.includes('<script>window.xssA=1</script><img src=x onerror="window.xssB=2">'), 'HTML shown as text');
  check(await page.evaluate(() => window.xssA === undefined && window.xssB === undefined), 'no script ran');
  check(await page.$$eval('#messages script, #messages img', (els) => els.length) === 0, 'no injected elements');
  check(await page.isVisible('#send') && !(await page.isVisible('#stop')), 'send button back');
  check(bodies[0]?.stream === true && bodies[0]?.chat_template_kwargs?.enable_thinking === true, 'request streams with thinking on');

  // 2. Thinking off goes into the request.
  await page.uncheck('#thinking');
  await page.fill('#input', 'Again, without thinking');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .stats').length === 2, null, { timeout: 30000 });
  check(bodies[1]?.chat_template_kwargs?.enable_thinking === false, 'thinking switch off in the request');
  check(bodies[1]?.messages?.length === 3, `history sent: ${bodies[1]?.messages?.length} messages`);

  // 3. Stop: the reply ends early and is marked stopped.
  await page.fill('#input', 'One more');
  await page.press('#input', 'Enter');
  await page.waitForSelector('#stop:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant').length === 3 &&
    document.querySelectorAll('.msg.assistant')[2].textContent.length > 0);
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .stats').length === 3, null, { timeout: 10000 });
  const stopped = await page.$$eval('.msg.assistant .stats', (s) => s[2].textContent);
  check(stopped.includes('stopped'), `stopped reply marked: "${stopped}"`);

  await page.screenshot({ path: spec.screenshot, fullPage: false });

  // 4. Conversations survive a reload (localStorage); New chat starts an empty one.
  await page.reload();
  await page.waitForSelector('.msg.assistant');
  check(await page.$$eval('.msg', (m) => m.length) === 6, 'conversation restored after reload');
  await page.click('#new-chat');
  check(await page.$$eval('.msg', (m) => m.length) === 0, 'new chat is empty');
  check(await page.$$eval('#conversations li', (l) => l.length) === 2, 'two conversations listed');
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('qwen3.conversations')));
  check(stored.length === 2 && stored[1].messages.length === 6, 'conversations in localStorage');
  check(consoleErrors.length === 0, 'no page errors: ' + consoleErrors.join('; '));
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
console.log(`web page: ${checks} checks passed; screenshot ${spec.screenshot}`);
