/*
 * openlines live chat widget. Embed with one tag:
 *   <script src="https://hub.example.com/livechat/widget.js?line=<hash>" async></script>
 * Self-contained, no framework. Keeps the visitor's identity (visitor id + hub-signed token) in
 * localStorage, talks to the hub over a WebSocket and reconnects with catch-up (?after=<seq>).
 * Protocol: docs/livechat.md.
 */
(() => {
  const script = document.currentScript || document.querySelector('script[src*="/livechat/widget.js"]');
  if (!script) return;
  const src = new URL(script.src, location.href);
  const line = src.searchParams.get("line");
  if (!line || window.__openlinesLivechat) return;
  window.__openlinesLivechat = true;
  const hub = src.origin;
  const q = (path, extra) => {
    const u = new URL(path, hub);
    u.searchParams.set("line", line);
    for (const [k, v] of Object.entries(extra || {})) u.searchParams.set(k, v);
    return u.toString();
  };
  const storeKey = `openlines.livechat.${line}`;
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || "{}");
    } catch {
      return {};
    }
  };
  const save = (patch) => {
    state = Object.assign(load(), patch);
    try {
      localStorage.setItem(storeKey, JSON.stringify(state));
    } catch {
      /* private mode: the identity lasts this page only */
    }
  };
  let state = load();
  let ws = null;
  let retry = 0;
  let config = { title: "Chat", greeting: "", color: "#2563eb", maxUploadBytes: 10485760 };
  const pending = [];
  const byId = new Map();
  let lastSeq = 0;
  let attached = [];

  // --- DOM ---------------------------------------------------------------------------------
  const root = document.createElement("div");
  root.className = "olc";
  const shadow = root.attachShadow ? root.attachShadow({ mode: "open" }) : root;
  shadow.innerHTML = `
<style>
:host{all:initial}
.olc-b{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 18px;
 color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.olc-b:focus-visible,.olc button:focus-visible,.olc input:focus-visible,.olc textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.olc-p{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 120px));
 display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);
 font:14px/1.4 system-ui,sans-serif;overflow:hidden}
.olc-p[hidden]{display:none}
.olc-h{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;color:#fff}
.olc-h h2{margin:0;font-size:16px}
.olc-h button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}
.olc-l{flex:1;overflow-y:auto;padding:12px;margin:0;list-style:none}
.olc-m{max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;background:#f1f5f9;word-wrap:break-word}
.olc-m.me{margin-left:auto;background:#dbeafe}
.olc-m small{display:block;color:#555;font-size:11px;margin-top:2px}
.olc-m.deleted{font-style:italic;color:#666}
.olc-t{padding:0 14px;height:18px;color:#555;font-size:12px}
.olc-e{padding:0 14px;color:#b91c1c;font-size:12px}
.olc-f{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb;align-items:flex-end}
.olc-f textarea{flex:1;resize:none;border:1px solid #cbd5e1;border-radius:8px;padding:6px;font:inherit;min-height:36px;max-height:120px}
.olc-f button,.olc-who button{border:0;border-radius:8px;padding:8px 10px;color:#fff;cursor:pointer;font:inherit}
.olc-f .olc-att{background:#64748b}
.olc-who{display:flex;flex-wrap:wrap;gap:6px;padding:10px;border-bottom:1px solid #e5e7eb}
.olc-who label{display:flex;flex-direction:column;font-size:12px;flex:1 1 40%}
.olc-who input{border:1px solid #cbd5e1;border-radius:6px;padding:5px;font:inherit}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
</style>
<div class="olc">
<button class="olc-b" type="button" aria-expanded="false" aria-controls="olc-panel">Chat</button>
<section class="olc-p" id="olc-panel" role="dialog" aria-labelledby="olc-title" hidden>
 <div class="olc-h"><h2 id="olc-title">Chat</h2><button type="button" class="olc-x" aria-label="Close chat">×</button></div>
 <form class="olc-who" hidden>
  <label>Name (optional)<input name="name" autocomplete="name" maxlength="200"></label>
  <label>Email (optional)<input name="email" type="email" autocomplete="email" maxlength="320"></label>
  <button type="submit">Save</button>
 </form>
 <ol class="olc-l" aria-live="polite" aria-relevant="additions" aria-label="Messages"></ol>
 <div class="olc-t" aria-live="polite"></div>
 <div class="olc-e" role="alert"></div>
 <form class="olc-f">
  <label class="sr" for="olc-text">Your message</label>
  <textarea id="olc-text" rows="1" maxlength="10000" placeholder="Write a message…"></textarea>
  <input class="sr olc-file" type="file" multiple aria-label="Attach files" tabindex="-1">
  <button type="button" class="olc-att" aria-label="Attach a file">📎</button>
  <button type="submit" class="olc-send">Send</button>
 </form>
</section></div>`;
  const $ = (s) => shadow.querySelector(s);
  const button = $(".olc-b");
  const panel = $(".olc-p");
  const list = $(".olc-l");
  const typingEl = $(".olc-t");
  const errorEl = $(".olc-e");
  const form = $(".olc-f");
  const text = $("#olc-text");
  const fileInput = $(".olc-file");
  const who = $(".olc-who");

  const paint = () => {
    button.textContent = config.title;
    $("#olc-title").textContent = config.title;
    for (const el of [button, $(".olc-h"), $(".olc-send"), $(".olc-who button")])
      el.style.background = config.color;
  };
  const fmtTime = (at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const mark = (m) =>
    m.from === "visitor"
      ? { pending: "sending…", sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read" }[m.status] || ""
      : "";
  const fileUrl = (f) =>
    f.url.startsWith(`${hub}/livechat/file`) && state.token
      ? `${f.url}&token=${encodeURIComponent(state.token)}`
      : f.url;

  function render(m) {
    let li = m.el;
    if (!li) {
      li = document.createElement("li");
      m.el = li;
      list.appendChild(li);
    }
    li.className = `olc-m${m.from === "visitor" ? " me" : ""}${m.status === "deleted" ? " deleted" : ""}`;
    li.textContent = "";
    const who = document.createElement("span");
    who.className = "sr";
    who.textContent = m.from === "visitor" ? "You: " : "Operator: ";
    li.appendChild(who);
    const body = document.createElement("div");
    if (m.status === "deleted") body.textContent = "Message deleted";
    else if (m.html)
      body.innerHTML = m.html; // the hub's rendering: escaped text and safe tags only
    else body.textContent = m.text;
    li.appendChild(body);
    for (const f of m.status === "deleted" ? [] : m.files || []) {
      const a = document.createElement("a");
      a.href = fileUrl(f);
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = `📄 ${f.name}`;
      li.appendChild(document.createElement("br"));
      li.appendChild(a);
    }
    const small = document.createElement("small");
    small.textContent = `${m.at ? fmtTime(m.at) : ""} ${mark(m)}`;
    li.appendChild(small);
    list.scrollTop = list.scrollHeight;
  }

  function upsert(m) {
    const known = byId.get(m.id) || (m.clientId && pending.find((p) => p.clientId === m.clientId));
    if (known) {
      Object.assign(known, m, { el: known.el });
      byId.set(m.id, known);
      const i = pending.indexOf(known);
      if (i >= 0) pending.splice(i, 1);
      render(known);
      return known;
    }
    byId.set(m.id, m);
    render(m);
    return m;
  }

  // --- socket ------------------------------------------------------------------------------
  function connect() {
    if (!state.token || (ws && ws.readyState <= 1)) return;
    const u = new URL(
      q("/livechat/socket", { token: state.token, after: String(lastSeq), page: location.href }),
    );
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(u);
    ws.onopen = () => {
      retry = 0;
      for (const p of pending) ws.send(JSON.stringify(p.frame));
    };
    ws.onmessage = (e) => onFrame(JSON.parse(e.data));
    ws.onclose = (e) => {
      ws = null;
      if (e.code === 1008 || e.code === 4401) return;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    };
  }
  let typingTimer = 0;
  function onFrame(f) {
    switch (f.type) {
      case "ready":
        config = Object.assign(config, f);
        paint();
        break;
      case "message": {
        lastSeq = Math.max(lastSeq, f.seq || 0);
        const m = upsert(f);
        if (m.from === "operator") {
          typingEl.textContent = "";
          if (!panel.hidden) sendFrame({ type: "read", ids: [m.id] });
          else button.textContent = `${config.title} •`;
        }
        break;
      }
      case "status": {
        const m = byId.get(f.id) || pending.find((p) => p.clientId === f.clientId);
        if (m) {
          m.status = f.status;
          if (f.id && !m.id) m.id = f.id;
          byId.set(f.id, m);
          render(m);
        }
        break;
      }
      case "read":
        for (const id of f.ids) {
          const m = byId.get(id);
          if (m) {
            m.status = "read";
            render(m);
          }
        }
        break;
      case "typing":
        typingEl.textContent = "The operator is typing…";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => {
          typingEl.textContent = "";
        }, 5000);
        break;
      case "edit": {
        const m = byId.get(f.id);
        if (m) render(Object.assign(m, { text: f.text, html: f.html }));
        break;
      }
      case "delete": {
        const m = byId.get(f.id);
        if (m) render(Object.assign(m, { status: "deleted" }));
        break;
      }
      case "error":
        errorEl.textContent = f.message;
        if (f.clientId) {
          const i = pending.findIndex((p) => p.clientId === f.clientId);
          if (i >= 0) {
            if (!text.value) text.value = pending[i].text; // the visitor can send it again
            pending[i].el?.remove();
            pending.splice(i, 1);
          }
        }
        break;
    }
  }
  function sendFrame(frame) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
  }

  async function session() {
    if (state.token) return;
    const r = await fetch(q("/livechat/session"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pageUrl: location.href }),
    });
    if (!r.ok) throw new Error("The chat is not available on this site.");
    save(await r.json());
  }

  async function upload(file) {
    if (file.size > config.maxUploadBytes) throw new Error(`${file.name} is too large.`);
    const r = await fetch(q("/livechat/upload", { name: file.name }), {
      method: "POST",
      headers: {
        "content-type": file.type || "application/octet-stream",
        authorization: `Bearer ${state.token}`,
      },
      body: file,
    });
    if (!r.ok) throw new Error(`${file.name} could not be uploaded.`);
    return r.json();
  }

  // --- events ------------------------------------------------------------------------------
  async function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.textContent = config.title;
    text.focus();
    try {
      await session();
      connect();
    } catch (e) {
      errorEl.textContent = e.message;
    }
    who.hidden = Boolean(state.profileDone);
    if (!list.children.length && config.greeting) {
      const g = document.createElement("li");
      g.className = "olc-m";
      g.textContent = config.greeting;
      list.appendChild(g);
    }
    const unread = [...byId.values()].filter((m) => m.from === "operator" && m.status !== "read");
    if (unread.length) sendFrame({ type: "read", ids: unread.map((m) => m.id) });
  }
  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  $(".olc-x").addEventListener("click", close);
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  $(".olc-att").addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", async () => {
    errorEl.textContent = "";
    try {
      for (const f of [...fileInput.files].slice(0, 5 - attached.length)) attached.push(await upload(f));
      $(".olc-att").setAttribute("aria-label", `Attach a file (${attached.length} attached)`);
    } catch (e) {
      errorEl.textContent = e.message;
    }
    fileInput.value = "";
  });
  who.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(who);
    sendFrame({ type: "profile", name: data.get("name") || "", email: data.get("email") || "" });
    save({ profileDone: true });
    who.hidden = true;
  });
  let lastTyping = 0;
  text.addEventListener("input", () => {
    if (Date.now() - lastTyping > 3000) {
      lastTyping = Date.now();
      sendFrame({ type: "typing" });
    }
  });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = text.value.trim();
    if (!body && !attached.length) return;
    errorEl.textContent = "";
    const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const files = attached.map((f) => ({ id: f.id }));
    const m = {
      clientId,
      from: "visitor",
      text: body,
      files: attached,
      status: "pending",
      at: Date.now(),
      frame: { type: "message", clientId, text: body, files },
    };
    pending.push(m);
    render(m);
    sendFrame(m.frame);
    text.value = "";
    attached = [];
    $(".olc-att").setAttribute("aria-label", "Attach a file");
  });

  const mount = () => {
    document.body.appendChild(root);
    paint();
    fetch(q("/livechat/config"))
      .then((r) => (r.ok ? r.json() : null))
      .then((c) => {
        if (c) {
          config = Object.assign(config, c);
          paint();
        }
      })
      .catch(() => {});
    if (state.token) connect(); // a returning visitor gets what was missed
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
