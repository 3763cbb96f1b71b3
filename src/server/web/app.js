// The web chat page: conversations in localStorage, replies streamed from
// /v1/chat/completions (SSE) and rendered as Markdown, reasoning shown live in a
// collapsible block, tool calls shown, a stop button, per-reply stats.
import { renderMarkdown, escapeHtml } from './markdown.js';

const $ = (id) => document.getElementById(id);
const STORE = 'qwen3.conversations';
const SETTINGS = 'qwen3.settings';

const state = {
  conversations: load(STORE, []),
  currentId: null,
  controller: null,  // AbortController of the running request
};
const settings = Object.assign({ apiKey: '', system: '', maxTokens: '', temperature: '', thinking: true },
                               load(SETTINGS, {}));

function load(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;
  }
}
function save() {
  localStorage.setItem(STORE, JSON.stringify(state.conversations));
  localStorage.setItem(SETTINGS, JSON.stringify(settings));
}

function current() {
  return state.conversations.find((c) => c.id === state.currentId);
}

function newConversation() {
  const c = { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 6), title: 'New chat', messages: [] };
  state.conversations.unshift(c);
  state.currentId = c.id;
  save();
  renderAll();
}

function renderList() {
  const ul = $('conversations');
  ul.textContent = '';
  for (const c of state.conversations) {
    const li = document.createElement('li');
    if (c.id === state.currentId) li.className = 'active';
    const span = document.createElement('span');
    span.textContent = c.title;
    span.onclick = () => { if (!state.controller) { state.currentId = c.id; renderAll(); } };
    const del = document.createElement('button');
    del.textContent = '×';
    del.title = 'Delete';
    del.onclick = () => {
      if (state.controller) return;
      state.conversations = state.conversations.filter((x) => x.id !== c.id);
      if (state.currentId === c.id) state.currentId = state.conversations[0]?.id ?? null;
      save();
      if (!state.currentId) newConversation(); else renderAll();
    };
    li.append(span, del);
    ul.append(li);
  }
}

// One assistant message: reasoning block, Markdown content, tool calls, stats.
function fillAssistant(div, m, live) {
  div.textContent = '';
  if (m.reasoning) {
    const d = document.createElement('details');
    d.className = 'reasoning';
    d.open = live && !m.content && !(m.tool_calls || []).length;
    const s = document.createElement('summary');
    s.textContent = d.open ? 'Thinking…' : `Thought${m.stats?.thinkMs ? ` for ${(m.stats.thinkMs / 1000).toFixed(1)} s` : ''}`;
    const body = document.createElement('div');
    body.className = 'body';
    body.textContent = m.reasoning;
    d.append(s, body);
    div.append(d);
  }
  const content = document.createElement('div');
  content.className = 'content';
  content.innerHTML = renderMarkdown(m.content || '');
  div.append(content);
  for (const tc of m.tool_calls || []) {
    const t = document.createElement('div');
    t.className = 'tool-call';
    t.textContent = `🔧 ${tc.function.name}(${tc.function.arguments})`;
    div.append(t);
  }
  if (m.error) {
    div.classList.add('error');
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
}

function messageDiv(m, live = false) {
  const div = document.createElement('div');
  div.className = 'msg ' + m.role;
  if (m.role === 'assistant') fillAssistant(div, m, live);
  else div.textContent = m.content;
  return div;
}

function renderMessages() {
  const box = $('messages');
  box.textContent = '';
  for (const m of current()?.messages || []) box.append(messageDiv(m));
  box.scrollTop = box.scrollHeight;
}

function renderAll() {
  renderList();
  renderMessages();
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('input').disabled = busy;
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (settings.apiKey) h.Authorization = 'Bearer ' + settings.apiKey;
  return h;
}

// The request history: earlier reasoning stays out (the template drops it anyway).
function apiMessages(conv) {
  const msgs = [];
  if (settings.system.trim()) msgs.push({ role: 'system', content: settings.system });
  for (const m of conv.messages) {
    if (m.error && !m.content && !(m.tool_calls || []).length) continue;
    const out = { role: m.role, content: m.content || '' };
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
        if (data === '[DONE]') return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

async function send(text) {
  const conv = current();
  conv.messages.push({ role: 'user', content: text });
  if (conv.title === 'New chat') conv.title = text.slice(0, 40);
  const reply = { role: 'assistant', content: '', reasoning: '', tool_calls: [], stats: null };
  conv.messages.push(reply);
  save();
  renderAll();
  const box = $('messages');
  const div = box.lastElementChild;
  fillAssistant(div, reply, true);

  const body = {
    messages: apiMessages({ messages: conv.messages.slice(0, -1) }),
    stream: true,
    stream_options: { include_usage: true },
    chat_template_kwargs: { enable_thinking: settings.thinking },
  };
  if (settings.maxTokens) body.max_tokens = Number(settings.maxTokens);
  if (settings.temperature !== '') body.temperature = Number(settings.temperature);

  state.controller = new AbortController();
  setBusy(true);
  const t0 = performance.now();
  let tFirst = null, tFirstContent = null, timings = null, usage = null, finish = null, pieces = 0;
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fillAssistant(div, reply, true);
      box.scrollTop = box.scrollHeight;
    });
  };
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(body), signal: state.controller.signal,
    });
    if (!res.ok) {
      let msg = `HTTP ${res.status}`;
      try { msg = (await res.json()).error.message; } catch {}
      throw new Error(msg);
    }
    await readSse(res, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.timings) timings = chunk.timings;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) return;
      const d = choice.delta || {};
      const r = d.reasoning_content ?? d.reasoning;
      if (r || d.content || d.tool_calls) {
        pieces++;
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
  } catch (e) {
    if (e.name === 'AbortError') finish = 'stopped';
    else reply.error = e.message;
  } finally {
    const t1 = performance.now();
    const tokens = usage?.completion_tokens ?? timings?.predicted_n ?? pieces;
    const ttftMs = timings?.prompt_ms ?? (tFirst != null ? tFirst - t0 : null);
    let tps = timings?.predicted_per_second;
    if (!tps && tFirst != null && tokens > 1) tps = ((tokens - 1) * 1000) / Math.max(1, t1 - tFirst);
    reply.stats = {
      ttftMs, tps: tps ?? null, tokens, finish,
      cached: usage?.prompt_tokens_details?.cached_tokens || 0,
      thinkMs: reply.reasoning && tFirst != null ? (tFirstContent ?? t1) - tFirst : null,
    };
    state.controller = null;
    setBusy(false);
    save();
    fillAssistant(div, reply, false);
    box.scrollTop = box.scrollHeight;
    $('input').focus();
  }
}

async function showModel() {
  try {
    const res = await fetch('/v1/models', { headers: headers() });
    if (res.status === 401) {
      $('model-info').textContent = 'This server needs an API key (Settings).';
      $('settings').open = true;
      return;
    }
    const m = (await res.json()).data[0];
    $('model-info').textContent = `${m.id}${m.meta ? ` · ctx ${m.meta.n_ctx}` : ''}`;
  } catch {
    $('model-info').textContent = 'Server not reachable.';
  }
}

function bindSettings() {
  const bind = (id, key, prop = 'value') => {
    const el = $(id);
    el[prop] = settings[key];
    el.addEventListener('change', () => { settings[key] = el[prop]; save(); if (key === 'apiKey') showModel(); });
  };
  bind('api-key', 'apiKey');
  bind('system-prompt', 'system');
  bind('max-tokens', 'maxTokens');
  bind('temperature', 'temperature');
  bind('thinking', 'thinking', 'checked');
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('input').value.trim();
  if (!text || state.controller) return;
  $('input').value = '';
  send(text);
});
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});
$('stop').addEventListener('click', () => state.controller?.abort());
$('new-chat').addEventListener('click', () => { if (!state.controller) newConversation(); });

bindSettings();
state.currentId = state.conversations[0]?.id ?? null;
if (!state.currentId) newConversation(); else renderAll();
showModel();
// For tests and curious users: the renderer is reachable from the console.
window.qwen3 = { renderMarkdown, escapeHtml };
