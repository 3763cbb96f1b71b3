// The web chat page: conversations kept in localStorage as trees (edit and regenerate add
// branches that stay switchable), replies streamed from /v1/chat/completions (SSE) and
// rendered as Markdown with highlighted code and LaTeX math (KaTeX, when the build
// bundled it), reasoning in a collapsible Markdown block, tool calls, per-reply stats and
// notes (turns the server left out to fit the context). Model text is only ever inserted
// through renderMarkdown/highlight (which escape everything; math goes through KaTeX) or
// textContent. Several chats may stream at once; each stream writes into
// its own conversation whichever chat is on screen. Images (attach, paste, drop) go with
// a user message as OpenAI `image_url` data-URL parts when the server has a vision
// encoder (/v1/models meta.vision); they are shown only as <img> of data:image/ URLs.
import { renderMarkdown, escapeHtml } from './markdown.js';
import { highlight } from './highlight.js';
import { mathRenderer } from './math.js';

const $ = (id) => document.getElementById(id);
const md = { math: mathRenderer(window.katex) };  // math null: shown as its source
const STORE = 'qwen3.conversations';
const SETTINGS = 'qwen3.settings';
const narrow = window.matchMedia('(max-width: 760px)');
const newId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
const str = (v) => (typeof v === 'string' ? v : '');
let lastCreated = 0;
const nextCreated = () => (lastCreated = Math.max(Date.now(), lastCreated + 1));

const settings = Object.assign({
  apiKey: '', system: '', maxTokens: '', temperature: '', topP: '', topK: '', minP: '',
  seed: '', presencePenalty: '', thinking: true, theme: 'auto',
}, load(SETTINGS, {}));

const state = {
  conversations: load(STORE, []).map(upgrade).filter(Boolean),
  currentId: null,
  draft: null,              // the new chat on screen, saved once it has a message
  streams: new Map(),       // conversation id -> { controller, nodeId }
  stick: true,              // follow the stream: the user is at the bottom of the chat
  reasoningOpen: new Map(), // node id -> open state the user chose
  editing: null,            // id of the user node being edited
  nCtx: null, modelId: '',
  vision: false,            // the server takes images (qwen3 serve --mmproj)
  attachments: [],          // images in the composer: { url, name }
  search: '',
};

function load(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;
  }
}
function save() {
  try {
    localStorage.setItem(SETTINGS, JSON.stringify(settings));
    localStorage.setItem(STORE, JSON.stringify(state.conversations));
  } catch (e) {
    // Images fill the browser's storage quickly (a few MB): keep the chats without them.
    try {
      localStorage.setItem(STORE, JSON.stringify(state.conversations, (k, v) => (k === 'images' ? undefined : v)));
      if (!state.warnedImages) toast('The images are too large for the browser\'s storage: chats are kept without them');
      state.warnedImages = true;
    } catch {
      toast('Could not save the chats: ' + e.message);
    }
  }
}

// Images are only ever data URLs of the raster types the server decodes.
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_IMAGE_BYTES = 8 << 20;  // the server's limit per image (encoded)
const isImageUrl = (u) => typeof u === 'string' && IMAGE_TYPES.some((t) => u.startsWith(`data:${t};base64,`));


// A stored conversation in the current shape, or null if it is not one. Reads the first
// format (a flat `messages` list) too. A reply that was streaming when the page went
// away is kept as an interrupted partial; an empty one is marked and never sent.
function upgrade(c) {
  if (!c || typeof c !== 'object' || typeof c.id !== 'string') return null;
  const conv = { id: c.id, title: str(c.title) || 'Chat', system: str(c.system), nodes: {}, leaf: null,
                 updated: Number(c.updated) || 0 };
  if (Array.isArray(c.messages)) {
    let parent = null;
    for (const m of c.messages) {
      const n = cleanNode({ ...m, id: newId(), parent });
      if (!n) continue;
      conv.nodes[n.id] = n;
      parent = n.id;
    }
    conv.leaf = parent;
  } else if (c.nodes && typeof c.nodes === 'object') {
    for (const [id, m] of Object.entries(c.nodes)) {
      const n = cleanNode({ ...m, id });
      if (n) conv.nodes[id] = n;
    }
    for (const n of Object.values(conv.nodes)) if (n.parent && !conv.nodes[n.parent]) n.parent = null;
    conv.leaf = conv.nodes[c.leaf] ? c.leaf : null;
  }
  return Object.keys(conv.nodes).length ? conv : null;
}

function cleanNode(m) {
  if (!m || (m.role !== 'user' && m.role !== 'assistant')) return null;
  const n = { id: m.id, parent: typeof m.parent === 'string' ? m.parent : null, role: m.role,
              content: str(m.content), created: Number(m.created) || 0 };
  if (m.role === 'user' && Array.isArray(m.images) && m.images.some(isImageUrl)) n.images = m.images.filter(isImageUrl);
  if (m.role === 'assistant') {
    n.reasoning = str(m.reasoning);
    n.tool_calls = Array.isArray(m.tool_calls)
      ? m.tool_calls.filter((t) => t && t.function).map((t) => ({
        id: str(t.id), type: 'function',
        function: { name: str(t.function.name), arguments: str(t.function.arguments) } }))
      : [];
    if (m.error) n.error = str(m.error);
    if (m.note) n.note = str(m.note);
    if (m.partial) n.partial = true;
    if (m.stats && typeof m.stats === 'object') n.stats = m.stats;
    if (m.streaming) {
      n.partial = true;
      if (!n.content && !n.tool_calls.length) n.error ||= 'interrupted: the page was closed before the reply came';
    }
  }
  return n;
}

// ---- conversations ----

function current() {
  return state.conversations.find((c) => c.id === state.currentId) || state.draft;
}
function isEmpty(conv) {
  return !Object.keys(conv.nodes).length;
}
function pathOf(conv, leaf = conv.leaf) {
  const out = [];
  for (let id = leaf; id && conv.nodes[id]; id = conv.nodes[id].parent) out.push(conv.nodes[id]);
  return out.reverse();
}
function siblings(conv, node) {
  return Object.values(conv.nodes).filter((n) => n.parent === node.parent)
    .sort((a, b) => a.created - b.created);
}
// The newest leaf below `node` (the branch the user last worked on there).
function deepest(conv, node) {
  for (;;) {
    const kids = Object.values(conv.nodes).filter((n) => n.parent === node.id);
    if (!kids.length) return node.id;
    node = kids.reduce((a, b) => (a.created >= b.created ? a : b));
  }
}
function addNode(conv, fields) {
  const n = { id: newId(), created: nextCreated(), ...fields };
  conv.nodes[n.id] = n;
  conv.leaf = n.id;
  conv.updated = Date.now();
  if (state.draft === conv) {  // the first message makes the draft a real conversation
    state.conversations.unshift(conv);
    state.draft = null;
  }
  return n;
}
function removeNode(conv, id) {
  const n = conv.nodes[id];
  if (!n) return;
  for (const k of Object.values(conv.nodes)) if (k.parent === id) removeNode(conv, k.id);
  delete conv.nodes[id];
  if (conv.leaf === id) conv.leaf = n.parent;
}

function newConversation() {
  const cur = current();
  if (cur && isEmpty(cur)) {  // no pile of empty chats: the empty one on screen is reused
    $('input').focus();
    return;
  }
  state.draft = { id: newId(), title: 'New chat', system: settings.system, nodes: {}, leaf: null, updated: Date.now() };
  state.currentId = state.draft.id;
  state.editing = null;
  closeSideOnPhone();
  renderAll();
  $('input').focus();
}

function switchTo(id) {
  state.currentId = id;
  if (state.draft && state.draft.id !== id) state.draft = null;
  state.editing = null;
  state.stick = true;
  closeSideOnPhone();
  renderAll();
}

function deleteConversation(c) {
  state.streams.get(c.id)?.controller.abort();
  const index = state.conversations.indexOf(c);
  state.conversations = state.conversations.filter((x) => x !== c);
  save();
  if (state.currentId === c.id) {
    state.currentId = state.conversations[0]?.id ?? null;
    if (!state.currentId) { newConversation(); return toast('Chat deleted', undo); }
  }
  renderAll();
  toast('Chat deleted', undo);
  function undo() {
    if (state.conversations.includes(c)) return;
    state.conversations.splice(Math.min(index, state.conversations.length), 0, c);
    save();
    switchTo(c.id);
  }
}

// A new conversation holding the path up to `node` (a fork to try something else).
function branchAt(conv, node) {
  const c = { id: newId(), title: conv.title + ' (branch)', system: conv.system, nodes: {}, leaf: null, updated: Date.now() };
  for (const n of pathOf(conv, node.id)) c.nodes[n.id] = JSON.parse(JSON.stringify(n));
  c.leaf = node.id;
  state.conversations.unshift(c);
  save();
  switchTo(c.id);
}

// ---- rendering ----

function renderList() {
  const ul = $('conversations');
  ul.textContent = '';
  const q = state.search.trim().toLowerCase();
  const all = state.draft ? [state.draft, ...state.conversations] : state.conversations;
  for (const c of all) {
    if (q && !c.title.toLowerCase().includes(q) &&
        !Object.values(c.nodes).some((n) => n.content.toLowerCase().includes(q))) continue;
    const li = document.createElement('li');
    if (c.id === state.currentId) li.className = 'active';
    const span = document.createElement('span');
    span.textContent = c.title;
    if (state.streams.has(c.id)) span.className = 'busy';
    span.onclick = () => switchTo(c.id);
    li.append(span);
    if (c !== state.draft) {
      const del = document.createElement('button');
      del.textContent = '×';
      del.title = 'Delete';
      del.setAttribute('aria-label', 'Delete ' + c.title);
      del.onclick = () => deleteConversation(c);
      li.append(del);
    }
    ul.append(li);
  }
}

function button(label, title, fn) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.title = title;
  b.dataset.action = label.toLowerCase();
  b.onclick = fn;
  return b;
}

// "‹ 2/3 ›" for a message that has other versions (edits or regenerations).
function branchSwitcher(conv, node) {
  const sibs = siblings(conv, node);
  if (sibs.length < 2) return null;
  const i = sibs.indexOf(node);
  const wrap = document.createElement('span');
  wrap.className = 'branch';
  const go = (d) => () => {
    const s = sibs[(i + d + sibs.length) % sibs.length];
    conv.leaf = deepest(conv, s);
    save();
    renderMessages();
  };
  const label = document.createElement('span');
  label.textContent = `${i + 1}/${sibs.length}`;
  wrap.append(button('‹', 'Previous version', go(-1)), label, button('›', 'Next version', go(1)));
  return wrap;
}

// Highlights the code blocks of rendered Markdown and gives each a copy button.
function enhanceCode(root) {
  for (const code of root.querySelectorAll('pre > code')) {
    const lang = (code.className.match(/language-([\w+#.-]+)/) || [])[1];
    const text = code.textContent;
    if (lang) code.innerHTML = highlight(text, lang);
    const b = button('Copy', 'Copy the code', () => copyText(text, b));
    b.className = 'copy-code';
    code.parentElement.append(b);
  }
}

function fillAssistant(div, conv, m) {
  div.textContent = '';
  div.classList.toggle('error', !!m.error);
  const live = state.streams.get(conv.id)?.nodeId === m.id;
  if (m.reasoning) {
    const d = document.createElement('details');
    d.className = 'reasoning';
    const auto = live && !m.content && !(m.tool_calls || []).length;
    d.open = state.reasoningOpen.has(m.id) ? state.reasoningOpen.get(m.id) : auto;
    const chosen = d.open;
    d.addEventListener('toggle', () => { if (d.open !== chosen) state.reasoningOpen.set(m.id, d.open); });
    const s = document.createElement('summary');
    s.textContent = auto ? 'Thinking…' : `Thought${m.stats?.thinkMs ? ` for ${(m.stats.thinkMs / 1000).toFixed(1)} s` : ''}`;
    const body = document.createElement('div');
    body.className = 'body';
    body.innerHTML = renderMarkdown(m.reasoning, md);
    enhanceCode(body);
    d.append(s, body);
    div.append(d);
  }
  const content = document.createElement('div');
  content.className = 'content';
  content.innerHTML = renderMarkdown(m.content || '', md);
  enhanceCode(content);
  div.append(content);
  for (const tc of m.tool_calls || []) {
    const t = document.createElement('div');
    t.className = 'tool-call';
    t.textContent = `🔧 ${tc.function.name}(${tc.function.arguments})`;
    div.append(t);
  }
  if (m.note) {
    const n = document.createElement('div');
    n.className = 'note';
    n.textContent = m.note;
    div.append(n);
  }
  if (m.partial && !live) {
    const p = document.createElement('div');
    p.className = 'partial';
    p.textContent = m.stats?.finish === 'stopped' ? 'Stopped: the reply is incomplete.' : 'Interrupted: the reply is incomplete.';
    div.append(p);
  }
  if (m.error) {
    const e = document.createElement('div');
    e.className = 'error-text';
    e.textContent = 'Error: ' + m.error;
    div.append(e);
  }
  if (m.stats) {
    const st = document.createElement('div');
    st.className = 'stats';
    const parts = [];
    if (m.stats.ttftMs != null) parts.push(`ttft ${Math.round(m.stats.ttftMs)} ms`);
    if (m.stats.tps != null) parts.push(`${m.stats.tps.toFixed(1)} tok/s`);
    if (m.stats.tokens != null) parts.push(`${m.stats.tokens} tokens`);
    if (m.stats.cached) parts.push(`${m.stats.cached} cached`);
    if (m.stats.finish) parts.push(m.stats.finish);
    st.textContent = parts.join(' · ');
    div.append(st);
  }
  if (live) return;
  const actions = document.createElement('div');
  actions.className = 'actions';
  const sw = branchSwitcher(conv, m);
  if (sw) actions.append(sw);
  const busy = state.streams.has(conv.id);
  if (m.error && !m.content) {
    actions.append(button('Retry', 'Send the request again', () => {
      if (state.streams.has(conv.id)) return;
      if ($('input').value.trim() === conv.nodes[m.parent]?.content) $('input').value = '';
      regenerate(conv, m, true);
    }));
  } else {
    const b = button('Copy', 'Copy the reply (Markdown)', () => copyText(m.content, b));
    actions.append(b);
    if (!busy) actions.append(button('Regenerate', 'Another reply (this one is kept as a version)', () => regenerate(conv, m)));
    actions.append(button('Branch', 'A new chat from here', () => branchAt(conv, m)));
  }
  div.append(actions);
}

function fillUser(div, conv, m) {
  div.textContent = '';
  if (state.editing === m.id) {
    const ta = document.createElement('textarea');
    ta.className = 'edit';
    ta.value = m.content;
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      button('Send', 'Send the edited message (the old one is kept as a version)', () => {
        const text = ta.value.trim();
        if ((!text && !m.images) || state.streams.has(conv.id)) return;
        state.editing = null;
        const u = addNode(conv, { parent: m.parent, role: 'user', content: text });
        if (m.images) u.images = m.images;
        generate(conv, u);
      }),
      button('Cancel', 'Keep the message as it was', () => { state.editing = null; renderMessages(); }));
    if (m.images?.length) div.append(thumbnails(m.images));  // they go with the edited text
    div.append(ta, actions);
    setTimeout(() => ta.focus(), 0);
    return;
  }
  if (m.images?.length) div.append(thumbnails(m.images));
  const content = document.createElement('div');
  content.className = 'content';
  content.textContent = m.content;
  const actions = document.createElement('div');
  actions.className = 'actions';
  const sw = branchSwitcher(conv, m);
  if (sw) actions.append(sw);
  const b = button('Copy', 'Copy the message', () => copyText(m.content, b));
  actions.append(b);
  if (!state.streams.has(conv.id)) {
    actions.append(button('Edit', 'Edit and send again', () => { state.editing = m.id; renderMessages(); }));
  }
  div.append(content, actions);
}

function thumbnail(url, alt) {
  const img = document.createElement('img');
  img.className = 'thumb';
  img.alt = alt;
  if (!isImageUrl(url)) return img;
  img.src = url;
  img.title = 'Open the image';
  img.onclick = () => {  // (browsers refuse to navigate to a data URL: show it in a blank tab)
    const w = window.open('', '_blank');
    if (!w) return;
    const full = w.document.createElement('img');
    full.src = url;
    w.document.body.append(full);
  };
  return img;
}
function thumbnails(urls) {
  const row = document.createElement('div');
  row.className = 'images';
  urls.forEach((u, i) => row.append(thumbnail(u, `image ${i + 1}`)));
  return row;
}

// ---- images in the composer ----

function renderAttachments() {
  const box = $('attachments');
  box.textContent = '';
  state.attachments.forEach((a, i) => {
    const wrap = document.createElement('span');
    wrap.className = 'attachment';
    const del = button('×', `Remove ${a.name}`, () => { state.attachments.splice(i, 1); renderAttachments(); });
    del.dataset.action = 'remove-image';
    del.setAttribute('aria-label', `Remove ${a.name}`);
    wrap.append(thumbnail(a.url, a.name), del);
    box.append(wrap);
  });
  box.hidden = !state.attachments.length;
}

function showAttach() {
  $('attach').hidden = !state.vision;
}

// Files picked, pasted or dropped: images go into the composer; anything else is a toast.
async function addImages(files) {
  files = [...files];
  if (!files.length) return;
  if (!state.vision) {
    return toast('This server takes no images: start it with a vision model and --mmproj');
  }
  for (const f of files) {
    if (!IMAGE_TYPES.includes(f.type)) {
      toast(`${f.name || 'The file'} is not a PNG, JPEG or WebP image`);
      continue;
    }
    if (f.size > MAX_IMAGE_BYTES) {
      toast(`${f.name || 'The image'} is ${(f.size / 1048576).toFixed(1)} MB: the server takes images up to 8 MB`);
      continue;
    }
    const url = await new Promise((resolve) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => resolve(null);
      r.readAsDataURL(f);
    });
    if (!isImageUrl(url)) {
      toast(`Could not read ${f.name || 'the image'}`);
      continue;
    }
    state.attachments.push({ url, name: f.name || 'pasted image' });
  }
  renderAttachments();
  $('input').focus();
}

function messageDiv(conv, m) {
  const div = document.createElement('div');
  div.className = 'msg ' + m.role;
  div.dataset.id = m.id;
  if (m.role === 'assistant') fillAssistant(div, conv, m);
  else fillUser(div, conv, m);
  return div;
}

function nearBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
}
function followStream() {
  const box = $('messages');
  if (state.stick) box.scrollTop = box.scrollHeight;
  $('to-bottom').hidden = state.stick || nearBottom(box);
}

function renderMessages() {
  const conv = current();
  const box = $('messages');
  box.textContent = '';
  if (!conv) return;
  for (const m of pathOf(conv)) box.append(messageDiv(conv, m));
  followStream();
  $('title').textContent = isEmpty(conv) ? 'New chat' : conv.title;
  $('system-prompt').value = conv.system;
  setBusy(state.streams.has(conv.id));
  showContext();
}

function renderAll() {
  renderList();
  renderMessages();
}

// Redraws one message of `conv` if it is on screen (the stream of a chat in the
// background just updates its data).
function redrawNode(conv, node) {
  if (current() !== conv) return;
  const div = document.querySelector(`#messages [data-id="${CSS.escape(node.id)}"]`);
  if (!div) return;
  fillAssistant(div, conv, node);
  followStream();
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
}

function showContext() {
  const conv = current();
  const last = conv ? pathOf(conv).filter((n) => n.role === 'assistant' && n.stats?.used).pop() : null;
  const parts = [state.modelId || 'model'];
  if (state.nCtx) parts.push(last ? `ctx ${last.stats.used} / ${state.nCtx}` : `ctx ${state.nCtx}`);
  if (state.modelId) $('model-info').textContent = parts.join(' · ');
  $('model-info').title = 'Tokens of the context the last reply used, of the context size';
}

let toastTimer = null;
function toast(text, undo = null) {
  $('toast-text').textContent = text;
  $('toast-undo').hidden = !undo;
  $('toast-undo').onclick = () => { $('toast').hidden = true; undo?.(); };
  $('toast').hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { $('toast').hidden = true; }, 6000);
}

async function copyText(text, btn) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  if (btn) {
    const label = btn.textContent;
    btn.textContent = 'Copied';
    setTimeout(() => { btn.textContent = label; }, 1200);
  }
}

// ---- requests ----

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (settings.apiKey) h.Authorization = 'Bearer ' + settings.apiKey;
  return h;
}

// The request history up to `leaf`: earlier reasoning stays out (the template drops it
// anyway), and so does a reply that has nothing in it (failed, or cut before any text).
function apiMessages(conv, leaf) {
  const msgs = [];
  if (conv.system.trim()) msgs.push({ role: 'system', content: conv.system });
  for (const m of pathOf(conv, leaf)) {
    if (m.role === 'assistant' && !m.content && !(m.tool_calls || []).length) continue;
    const out = { role: m.role, content: m.content || '' };
    if (m.role === 'user' && m.images?.length) {
      out.content = m.images.map((url) => ({ type: 'image_url', image_url: { url } }));
      if (m.content) out.content.push({ type: 'text', text: m.content });
    }
    if (m.tool_calls?.length) out.tool_calls = m.tool_calls;
    msgs.push(out);
  }
  return msgs;
}

// Reads an SSE body, calling onEvent for each parsed `data:` JSON.
async function readSse(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return true;
        onEvent(JSON.parse(data));
      }
    }
  }
  return false;
}

function samplingFields(body) {
  const num = (v) => (v === '' || v == null || Number.isNaN(Number(v)) ? null : Number(v));
  const set = (field, v) => { if (num(v) != null) body[field] = num(v); };
  set('max_tokens', settings.maxTokens);
  set('temperature', settings.temperature);
  set('top_p', settings.topP);
  set('top_k', settings.topK);
  set('min_p', settings.minP);
  set('seed', settings.seed);
  set('presence_penalty', settings.presencePenalty);
}

function onSubmit() {
  const conv = current();
  const text = $('input').value.trim();
  const images = state.attachments.map((a) => a.url);
  if ((!text && !images.length) || state.streams.has(conv.id)) return;
  // A failed reply with nothing in it is replaced by this message, not kept as history.
  const leaf = conv.nodes[conv.leaf];
  if (leaf && leaf.role === 'assistant' && leaf.error && !leaf.content) {
    const user = conv.nodes[leaf.parent];
    removeNode(conv, leaf.id);
    if (user && !Object.values(conv.nodes).some((n) => n.parent === user.id)) removeNode(conv, user.id);
  }
  $('input').value = '';
  const typedImages = state.attachments;
  state.attachments = [];
  renderAttachments();
  if (isEmpty(conv)) conv.title = text.slice(0, 40) || 'Image';
  const u = addNode(conv, { parent: conv.leaf, role: 'user', content: text });
  if (images.length) u.images = images;
  state.stick = true;
  generate(conv, u, text, typedImages);
}

function regenerate(conv, node, replace = false) {
  if (replace) removeNode(conv, node.id);
  const user = conv.nodes[node.parent];
  if (user) generate(conv, user);
}

// Streams a reply to `user` (a user node of `conv`) into a new assistant node. `typed`:
// the composer's text (and images), put back into an empty composer if the request fails.
async function generate(conv, user, typed = null, typedImages = []) {
  const reply = addNode(conv, { parent: user.id, role: 'assistant', content: '', reasoning: '',
                                tool_calls: [], stats: null, streaming: true });
  const controller = new AbortController();
  state.streams.set(conv.id, { controller, nodeId: reply.id });
  save();
  renderAll();

  const body = {
    messages: apiMessages(conv, user.id),
    stream: true,
    stream_options: { include_usage: true },
    chat_template_kwargs: { enable_thinking: settings.thinking },
  };
  samplingFields(body);

  const t0 = performance.now();
  let tFirst = null, tFirstContent = null, timings = null, usage = null, finish = null, pieces = 0;
  let pending = false, sawAny = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; redrawNode(conv, reply); });
  };
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(body), signal: controller.signal,
    });
    if (!res.ok) {
      let msg = `HTTP ${res.status}`;
      try { msg = (await res.json()).error.message; } catch {}
      throw new Error(msg);
    }
    const done = await readSse(res, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message || 'the server reported an error');
      if (chunk.timings) timings = chunk.timings;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) return;
      const d = choice.delta || {};
      const r = d.reasoning_content ?? d.reasoning;
      if (r || d.content || d.tool_calls) {
        pieces++;
        sawAny = true;
        if (tFirst == null) tFirst = performance.now();
      }
      if (r) reply.reasoning += r;
      if (d.content) {
        if (tFirstContent == null) tFirstContent = performance.now();
        reply.content += d.content;
      }
      for (const tc of d.tool_calls || []) {
        const slot = reply.tool_calls[tc.index] ||= { id: '', type: 'function', function: { name: '', arguments: '' } };
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.function.name += tc.function.name;
        if (tc.function?.arguments) slot.function.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
      redraw();
    });
    if (!done && !finish) throw new Error('the connection closed before the reply was complete');
  } catch (e) {
    if (e.name === 'AbortError') {
      finish = 'stopped';
      reply.partial = true;
    } else {
      reply.error = e.message || String(e);
      if (sawAny) reply.partial = true;
      if (!sawAny && typed != null && !$('input').value && current() === conv) {
        $('input').value = typed;
        if (!state.attachments.length && typedImages.length) {
          state.attachments = typedImages;
          renderAttachments();
        }
      }
    }
  } finally {
    const t1 = performance.now();
    const tokens = usage?.completion_tokens ?? timings?.predicted_n ?? pieces;
    const ttftMs = timings?.prompt_ms ?? (tFirst != null ? tFirst - t0 : null);
    let tps = timings?.predicted_per_second;
    if (!tps && tFirst != null && tokens > 1) tps = ((tokens - 1) * 1000) / Math.max(1, t1 - tFirst);
    const used = usage ? usage.prompt_tokens + usage.completion_tokens : null;
    if (sawAny || finish) {
      reply.stats = {
        ttftMs, tps: tps ?? null, tokens, finish, used,
        cached: usage?.prompt_tokens_details?.cached_tokens || 0,
        thinkMs: reply.reasoning && tFirst != null ? (tFirstContent ?? t1) - tFirst : null,
      };
    }
    const dropped = timings?.dropped_turns;
    if (dropped > 0) {
      reply.note = `${dropped} earlier ${dropped === 1 ? 'turn was' : 'turns were'} left out of this reply's ` +
                   `prompt: the conversation no longer fits the context${state.nCtx ? ` (${state.nCtx} tokens)` : ''}.`;
    }
    delete reply.streaming;
    state.streams.delete(conv.id);
    save();
    if (current() === conv) {
      renderMessages();
      $('input').focus();
    }
    renderList();
  }
}

async function showModel() {
  try {
    const res = await fetch('/v1/models', { headers: headers() });
    if (res.status === 401) {
      $('model-info').textContent = 'This server needs an API key (Settings).';
      openSide();
      $('settings').open = true;
      return;
    }
    const m = (await res.json()).data[0];
    state.modelId = m.id;
    state.nCtx = m.meta?.n_ctx ?? null;
    state.vision = m.meta?.vision === true;
    showAttach();
    showContext();
  } catch {
    $('model-info').textContent = 'Server not reachable.';
  }
}

// ---- settings, theme, sidebar, import/export ----

function bindSettings() {
  const bind = (id, key, prop = 'value') => {
    const el = $(id);
    el[prop] = settings[key];
    el.addEventListener('change', () => { settings[key] = el[prop]; save(); if (key === 'apiKey') showModel(); });
  };
  bind('api-key', 'apiKey');
  bind('max-tokens', 'maxTokens');
  bind('temperature', 'temperature');
  bind('top-p', 'topP');
  bind('top-k', 'topK');
  bind('min-p', 'minP');
  bind('seed', 'seed');
  bind('presence-penalty', 'presencePenalty');
  bind('thinking', 'thinking', 'checked');
  $('system-prompt').addEventListener('input', () => {
    const conv = current();
    conv.system = $('system-prompt').value;
    settings.system = conv.system;  // the default for the next new chat
    save();
  });
}

const THEMES = ['auto', 'light', 'dark'];
function applyTheme() {
  if (settings.theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = settings.theme;
  $('theme').title = `Theme: ${settings.theme} (click to change)`;
  $('theme').textContent = { auto: '◐', light: '☀', dark: '☾' }[settings.theme] || '◐';
}

function openSide() {
  document.body.classList.add('side-open');
  document.body.classList.remove('side-closed');
}
function closeSideOnPhone() {
  if (narrow.matches) document.body.classList.remove('side-open');
}

function exportChats() {
  const data = JSON.stringify({ format: 'qwen3-chats', version: 2, conversations: state.conversations }, null, 1);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type: 'application/json' }));
  a.download = `qwen3-chats-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function importChats(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return toast('Import failed: not JSON (' + e.message + ')');
  }
  const list = Array.isArray(data) ? data : data?.conversations;
  if (!Array.isArray(list)) return toast('Import failed: no "conversations" list in the file');
  let added = 0;
  for (const raw of list) {
    const c = upgrade(raw);
    if (!c) continue;
    if (state.conversations.some((x) => x.id === c.id)) c.id = newId();
    state.conversations.push(c);
    added++;
  }
  save();
  renderAll();
  toast(`Imported ${added} ${added === 1 ? 'chat' : 'chats'}` +
        (added < list.length ? ` (${list.length - added} skipped: not chats)` : ''));
}

// ---- events ----

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  onSubmit();
});
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});
$('attach').addEventListener('click', () => $('attach-file').click());
$('attach-file').addEventListener('change', async () => {
  await addImages($('attach-file').files);
  $('attach-file').value = '';
});
$('input').addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.files || [])];
  if (!files.length) return;  // text pastes as usual
  // Without a vision encoder a paste that also has text still pastes the text.
  if (state.vision || !e.clipboardData.getData('text/plain')) e.preventDefault();
  addImages(files);
});
// Files dropped anywhere on the page go to the composer (a drop the page does not take
// would make the browser leave the chat to show the file).
const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
document.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  $('composer').classList.add('dropping');
});
document.addEventListener('dragleave', (e) => {
  if (!e.relatedTarget) $('composer').classList.remove('dropping');
});
document.addEventListener('drop', (e) => {
  $('composer').classList.remove('dropping');
  if (!e.dataTransfer?.files.length) return;
  e.preventDefault();
  addImages(e.dataTransfer.files);
});
$('stop').addEventListener('click', () => state.streams.get(current()?.id)?.controller.abort());
$('new-chat').addEventListener('click', newConversation);
$('messages').addEventListener('scroll', () => {
  state.stick = nearBottom($('messages'));
  $('to-bottom').hidden = state.stick;
});
$('to-bottom').addEventListener('click', () => { state.stick = true; followStream(); });
$('search').addEventListener('input', () => { state.search = $('search').value; renderList(); });
$('theme').addEventListener('click', () => {
  settings.theme = THEMES[(THEMES.indexOf(settings.theme) + 1) % THEMES.length];
  applyTheme();
  save();
});
$('toggle-side').addEventListener('click', () => {
  if (narrow.matches) document.body.classList.toggle('side-open');
  else document.body.classList.toggle('side-closed');
});
$('close-side').addEventListener('click', () => document.body.classList.remove('side-open'));
$('export').addEventListener('click', exportChats);
$('import').addEventListener('click', () => $('import-file').click());
$('import-file').addEventListener('change', async () => {
  const f = $('import-file').files[0];
  if (f) importChats(await f.text());
  $('import-file').value = '';
});
// Another tab changed the chats: take them over unless this tab is streaming.
window.addEventListener('storage', (e) => {
  if (e.key !== STORE || state.streams.size) return;
  state.conversations = load(STORE, []).map(upgrade).filter(Boolean);
  if (!current()) state.currentId = state.conversations[0]?.id ?? null;
  renderAll();
});

applyTheme();
bindSettings();
save();  // the upgraded form (interrupted replies marked) replaces what was stored
state.currentId = state.conversations[0]?.id ?? null;
if (!state.currentId) newConversation(); else renderAll();
showModel();
// For tests and curious users: the renderers are reachable from the console.
window.qwen3 = { renderMarkdown: (src) => renderMarkdown(src, md), escapeHtml, highlight, importChats };
