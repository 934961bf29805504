// Customer web chat over Rasa's socket.io channel.
//
// Protocol (credentials.yml, socketio: user_uttered / bot_uttered with
// session persistence): on every connect the page sends `session_request`
// with the stored session id and its secret (or null for a new
// conversation) and the server answers `session_confirm` with
// {session_id, session_secret}; the secret is issued once, kept for this
// tab and sent with every message: without it nobody joins or writes into
// the conversation. A conversation the server does not let this page in
// (`session_refused`, a notice) is left for a new one. Messages go out as
// `user_uttered` and come back as `bot_uttered` ({text, metadata?,
// quick_replies?|buttons?}). A line whose metadata carries
// `request_documents: true` (support_rules.verification.REQUEST_DOCUMENTS_KEY:
// the bot on a verification topic, or an agent asking) opens the upload
// prompt with that line's text (attach.js).
//
// All text from the server or the customer is written with textContent,
// never innerHTML: a message with markup is shown as text and runs nothing.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const I18N = window.WEBCHAT_I18N;
  const LANGS = ["tr", "en"];
  const KEYS = {
    session: "webchat.session_id", secret: "webchat.session_secret", token: "webchat.customer_token", log: "webchat.log",
    outbox: "webchat.outbox", lang: "webchat.lang",
  };
  const MAX_LOG = 200;
  const REQUEST_DOCUMENTS = "request_documents";  // support_rules.verification.REQUEST_DOCUMENTS_KEY
  const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

  const state = {
    config: null, lang: "tr", socket: null, status: "connecting", ready: false, everConnected: false,
    sessionId: null, sessionSecret: null, token: null,
    log: [],     // rendered messages, kept for a reload: {id, kind, text, agent?, buttons?, used?, state?}
    outbox: [],  // customer messages not yet acknowledged by the server: {id, text, sent}
  };
  const inFlight = new Set();  // outbox ids emitted on the current connection
  const PAGE = window.WEBCHAT_PAGE = { onDocumentsRequested: null, onReset: null, onLabels: null };

  // sessionStorage and localStorage may be unavailable (privacy modes): the chat still works.
  function load(area, key) { try { return window[area].getItem(key); } catch (e) { return null; } }
  function save(area, key, value) {
    try { if (value === null) window[area].removeItem(key); else window[area].setItem(key, value); } catch (e) { /* not kept */ }
  }
  function loadList(key) {
    try { const v = JSON.parse(load("sessionStorage", key)); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }

  // The platform's signed customer token arrives in the fragment (#token=...),
  // which browsers never send to a server; it is kept for this tab and taken
  // out of the address bar at once.
  function takeTokenFromFragment() {
    const hash = location.hash.replace(/^#/, "");
    if (!hash) return;
    const params = new URLSearchParams(hash);
    if (!params.has("token")) return;
    const token = params.get("token") || "";
    if (TOKEN_RE.test(token) && token.length <= 4096) save("sessionStorage", KEYS.token, token);
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  takeTokenFromFragment();

  function t(key, vars) {
    let s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
    if (vars) Object.keys(vars).forEach((k) => { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }

  function pickLanguage(fallback) {
    const asked = (new URLSearchParams(location.search).get("lang") || "").toLowerCase();
    if (LANGS.includes(asked)) return asked;
    const chosen = load("localStorage", KEYS.lang);
    if (LANGS.includes(chosen)) return chosen;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const base = String(tag).slice(0, 2).toLowerCase();
      if (LANGS.includes(base)) return base;
    }
    return LANGS.includes(fallback) ? fallback : "tr";
  }

  function maxChars() { return (state.config && state.config.max_message_chars) || 4000; }
  // a refusal in the reader's language by its code (unknown codes: the general text)
  function docText(code) {
    const key = "doc_" + code;
    return I18N.en[key] ? t(key, { max: maxDocumentMb() }) : t("doc_failed");
  }
  function maxDocumentMb() { return Math.floor(((state.config && state.config.max_document_bytes) || 10485760) / 1048576); }
  function fmt(n) { return Number(n).toLocaleString(state.lang === "tr" ? "tr-TR" : "en-US"); }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((n) => { n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel)); });
    $("chat-form-link").href = "/form/?lang=" + state.lang;
    const toggle = $("chat-lang");
    toggle.textContent = state.lang === "tr" ? "EN" : "TR";
    toggle.setAttribute("aria-label", t("langToggle"));
    toggle.lang = state.lang === "tr" ? "en" : "tr";
    $("chat-limit").textContent = t("limitHint", { max: fmt(maxChars()) });
    $("chat-attach-hint").textContent = t("attachHint", { max: fmt(maxDocumentMb()) });
    $("chat-attach").title = t("attachLabel");
    $("chat-input").maxLength = maxChars();
    updateCounter();
    setStatus(state.status);
    renderLog();
    renderPrechat();
    if (typeof PAGE.onLabels === "function") PAGE.onLabels();
  }

  // --- connection state -------------------------------------------------

  function setStatus(status) {
    state.status = status;
    const node = $("chat-status");
    node.dataset.state = status;
    node.textContent = t("status_" + status);
    const off = !state.ready;
    $("chat-input").disabled = off;  // a disabled box keeps what was typed
    $("chat-send").disabled = off;
    $("chat-attach").disabled = off;
  }

  // --- the conversation on screen ---------------------------------------

  function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

  function keepLog() {
    if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
    save("sessionStorage", KEYS.log, JSON.stringify(state.log));
  }
  function keepOutbox() { save("sessionStorage", KEYS.outbox, JSON.stringify(state.outbox)); }

  function renderEntry(entry) {
    const node = el("div", null, "msg " + entry.kind + (entry.requestDocuments ? " asks-documents" : ""));
    node.dataset.id = entry.id;
    if (entry.kind === "agent") {
      const head = el("div", null, "msg-head");
      head.appendChild(el("span", entry.agent || t("sender_agent"), "agent-name"));
      if (entry.agent) head.appendChild(el("span", t("sender_agent"), "role"));
      node.appendChild(head);
    } else {
      const sender = { bot: "sender_bot", notice: "sender_notice", customer: "sender_you" }[entry.kind];
      node.appendChild(el("span", t(sender), entry.kind === "customer" ? "sender visually-hidden" : "sender"));
    }
    node.appendChild(el("p", entry.text, "text"));
    if (entry.buttons && entry.buttons.length) {
      const box = el("div", null, "buttons");
      entry.buttons.forEach((title) => {
        const b = el("button", title, "reply-button");
        b.type = "button";
        b.disabled = Boolean(entry.used);
        b.addEventListener("click", () => {
          entry.used = true;
          keepLog();
          box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          send(title);
        });
        box.appendChild(b);
      });
      node.appendChild(box);
    }
    if (entry.kind === "customer") {
      node.dataset.state = entry.state || "sent";
      if (entry.state === "queued") node.appendChild(el("span", t("queued"), "state"));
      if (entry.fromPanel) { node.classList.add("from-panel"); node.appendChild(el("span", t("fromPanel"), "state")); }
      if (entry.file) {  // an attached file (attach.js): its state in the reader's language
        node.classList.add("file");
        const note = { uploading: t("doc_uploading", { percent: entry.percent || 0 }), held: t("doc_held"),
          failed: docText(entry.code) }[entry.state];
        if (note) node.appendChild(el("span", note, "state"));
      }
    }
    return node;
  }

  function scrollToEnd() { const log = $("chat-log"); log.scrollTop = log.scrollHeight; }

  function renderLog() {
    const log = $("chat-log");
    log.querySelectorAll(".msg").forEach((n) => n.remove());
    state.log.forEach((entry) => log.appendChild(renderEntry(entry)));
    $("chat-empty").hidden = state.log.length > 0;
    scrollToEnd();
  }

  function addEntry(entry) {
    state.log.push(entry);
    keepLog();
    $("chat-log").appendChild(renderEntry(entry));
    $("chat-empty").hidden = true;
    scrollToEnd();
  }

  function updateEntry(entry) {
    const old = $("chat-log").querySelector('.msg[data-id="' + CSS.escape(entry.id) + '"]');
    if (old) old.replaceWith(renderEntry(entry));
    keepLog();
  }

  function setCustomerState(id, value) {
    const entry = state.log.find((e) => e.id === id);
    if (entry && entry.state !== value) { entry.state = value; updateEntry(entry); }
  }

  function onBotUttered(msg) {
    if (!msg || typeof msg !== "object") return;
    const meta = (msg.metadata && typeof msg.metadata === "object") ? msg.metadata : {};
    let kind = "bot";
    // the customer's own line, added in the customer panel (handoff.services.channel.CUSTOMER_SENDER)
    if (meta.sender === "customer") kind = "customer";
    else if (meta.sender === "agent") kind = "agent";
    else if (meta.kind === "notice") kind = "notice";
    const text = typeof msg.text === "string" ? msg.text : "";
    const raw = Array.isArray(msg.quick_replies) ? msg.quick_replies : (Array.isArray(msg.buttons) ? msg.buttons : []);
    // a button sends its title: payloads starting with "/" are stripped by the server anyway
    const buttons = raw.map((b) => (b && typeof b.title === "string" ? b.title : "")).filter((s) => s.trim());
    if (!text.trim() && !buttons.length) return;  // images, custom JSON: not shown by this page
    const entry = { id: newId(), kind, text };
    if (kind === "customer") {
      entry.fromPanel = true;
      entry.state = "sent";
      // a document's line (handoff/documents/service.py: a paperclip and the name) shows as a file
      if (text.startsWith("\u{1F4CE} ")) { entry.file = true; entry.text = text.slice(3); }
    }
    if (kind === "agent" && typeof meta.agent_name === "string" && meta.agent_name.trim()) entry.agent = meta.agent_name.trim();
    if (buttons.length) entry.buttons = buttons;
    if (meta[REQUEST_DOCUMENTS] === true && text.trim()) entry.requestDocuments = true;
    addEntry(entry);
    if (entry.requestDocuments && typeof PAGE.onDocumentsRequested === "function") PAGE.onDocumentsRequested(entry);
  }

  // --- sending ------------------------------------------------------------

  function customData() {
    const data = { language: state.lang };
    if (state.token) data.customer_token = state.token;
    return data;
  }

  function emit(item) {
    if (!state.ready || inFlight.has(item.id)) return;
    inFlight.add(item.id);
    setCustomerState(item.id, "sending");
    // customData becomes the user message's metadata (metadata_key in credentials.yml)
    // message_id lets the server tell a message sent again after a lost
    // acknowledgement from a new one: if the conversation already holds it,
    // Rasa sends its replies again instead of handling it twice
    const data = Object.assign(customData(), { message_id: item.id });
    if (item.sent) data.resend = true;
    if (item.prechat) data.prechat = item.prechat;  // the pre-chat form, with the first message only
    item.sent = true;
    keepOutbox();
    const payload = { message: item.text, session_id: state.sessionId, session_secret: state.sessionSecret, customData: data };
    // the acknowledgement arrives once the server has handled the message
    state.socket.emit("user_uttered", payload, () => {
      inFlight.delete(item.id);
      state.outbox = state.outbox.filter((m) => m.id !== item.id);
      keepOutbox();
      setCustomerState(item.id, "sent");
    });
  }

  function flushOutbox() { state.outbox.slice().forEach(emit); }

  function send(text) {
    const item = { id: newId(), text };
    attachPrechat(item);
    state.outbox.push(item);
    keepOutbox();
    addEntry({ id: item.id, kind: "customer", text, state: state.ready ? "sending" : "queued" });
    emit(item);
  }

  function utf8Length(s) { return new TextEncoder().encode(s).length; }

  function showError(message) {
    const node = $("chat-error");
    node.textContent = message || "";
    node.hidden = !message;
  }

  function updateCounter() {
    const n = $("chat-input").value.length;
    const count = $("chat-count");
    count.textContent = t("counter", { n: fmt(n), max: fmt(maxChars()) });
    count.classList.toggle("near-limit", n >= maxChars() * 0.9);
  }

  function submit() {
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text || !state.ready) return;
    const maxBytes = (state.config && state.config.max_message_bytes) || Infinity;
    if (text.length > maxChars() || utf8Length(text) > maxBytes) {
      showError(t("tooLong", { max: fmt(maxChars()) }));
      return;
    }
    showError("");
    input.value = "";
    updateCounter();
    send(text);
    input.focus();
  }

  // --- pre-chat form ---------------------------------------------------------
  // A visitor who is not signed in gives a name, a topic and, if they like, a
  // username or an e-mail address before their first message. The values wait
  // in this tab until that message, travel with it in its metadata
  // (`prechat`: name, topic, username | email; support_rules/prechat.py on the
  // server reads them again and never trusts the name as an identity), and the
  // bot greets by name and does not ask again what the form answered. The
  // topics are the catalogue's (/chat/prechat.json), named in the page's
  // language. Signed-in customers (a token) never see the form.
  const PRECHAT_KEYS = { pending: "webchat.prechat", last: "webchat.prechat_last" };
  const PRECHAT_FIELDS = ["name", "topic", "contact"];
  // letters of any script joined by spaces, apostrophes, hyphens, dots (as support_rules.prechat.display_name)
  const PRECHAT_NAME_RE = /^[\p{L}\p{M}]+(?:(?:[ '\u2019.-]|\. )[\p{L}\p{M}]+)*\.?$/u;
  // as support_rules.prechat.valid_email
  const PRECHAT_EMAIL_RE = /^[^\s@<>()[\]\\,;:"']+@[^\s@<>()[\]\\,;:"'_]+\.\p{L}{2,}$/u;
  // the limits come with the topics (support_rules.prechat.PRECHAT_LIMITS); no topic, no form to send
  const prechat = { open: false, topics: null, limits: { name: Infinity, username: Infinity, email: Infinity }, errors: {} };

  function loadPrechat(key) {
    try { const v = JSON.parse(load("sessionStorage", key)); return v && typeof v === "object" ? v : null; } catch (e) { return null; }
  }

  function prechatWanted() {
    return !state.token && !state.log.length && !state.outbox.length && !loadPrechat(PRECHAT_KEYS.pending);
  }

  function setPrechatOpen(open) {
    prechat.open = open;
    $("prechat").hidden = !open;
    $("chat-app").classList.toggle("prechat-open", open);
  }

  function renderPrechatTopics() {
    const select = $("prechat-topic");
    const chosen = select.value || (loadPrechat(PRECHAT_KEYS.last) || {}).topic || "";
    select.replaceChildren();
    const none = el("option", t("prechatChooseTopic"));
    none.value = "";
    select.appendChild(none);
    (prechat.topics || []).forEach((topic) => {
      if (!topic || typeof topic.id !== "string") return;
      const names = topic.name && typeof topic.name === "object" ? topic.name : {};
      const option = el("option", names[state.lang] || names.en || topic.id);
      option.value = topic.id;
      select.appendChild(option);
    });
    select.value = Array.from(select.options).some((o) => o.value === chosen) ? chosen : "";
  }

  function renderPrechatErrors() {
    PRECHAT_FIELDS.forEach((field) => {
      const error = prechat.errors[field];
      const node = $("prechat-" + field + "-error");
      node.textContent = error ? t(error[0], error[1]) : "";
      node.hidden = !error;
      if (error) $("prechat-" + field).setAttribute("aria-invalid", "true");
      else $("prechat-" + field).removeAttribute("aria-invalid");
    });
    const alert = $("prechat-alert");
    const any = PRECHAT_FIELDS.some((f) => prechat.errors[f]);
    alert.textContent = any ? t("prechatErrors") : "";
    alert.hidden = !any;
  }

  // called by applyLabels: the form's texts follow the page's language
  function renderPrechat() {
    renderPrechatTopics();
    renderPrechatErrors();
    const pending = loadPrechat(PRECHAT_KEYS.pending);
    if (pending && typeof pending.name === "string") $("chat-empty").textContent = t("prechatReady", { name: pending.name });
  }

  function readPrechatForm() {
    const limits = prechat.limits;
    const name = $("prechat-name").value.replace(/\s+/g, " ").trim();
    const topic = $("prechat-topic").value;
    const contact = $("prechat-contact").value.trim();
    const errors = {};
    const values = { name, topic };
    if (!name) errors.name = ["prechatNameMissing"];
    else if (name.length > limits.name) errors.name = ["prechatNameTooLong", { max: limits.name }];
    else if (!PRECHAT_NAME_RE.test(name)) errors.name = ["prechatNameInvalid"];
    if (!topic) errors.topic = ["prechatTopicMissing"];
    if (contact.includes("@")) {
      if (contact.length > limits.email) errors.contact = ["prechatContactTooLong", { max: limits.email }];
      else if (!PRECHAT_EMAIL_RE.test(contact)) errors.contact = ["prechatEmailInvalid"];
      else values.email = contact;
    } else if (contact) {
      if (contact.length > limits.username) errors.contact = ["prechatContactTooLong", { max: limits.username }];
      else values.username = contact;  // the bot checks it against the platform's pattern and asks if it does not fit
    }
    return { values, errors, contact };
  }

  function submitPrechat(ev) {
    ev.preventDefault();
    const { values, errors, contact } = readPrechatForm();
    prechat.errors = errors;
    renderPrechatErrors();
    const first = PRECHAT_FIELDS.find((f) => errors[f]);
    if (first) { $("prechat-" + first).focus(); return; }
    save("sessionStorage", PRECHAT_KEYS.pending, JSON.stringify(values));
    save("sessionStorage", PRECHAT_KEYS.last, JSON.stringify({ name: values.name, topic: values.topic, contact }));
    setPrechatOpen(false);
    renderPrechat();
    $("chat-input").focus();
  }

  // send() hands each new message here: the first one carries the form's values
  function attachPrechat(item) {
    const pending = loadPrechat(PRECHAT_KEYS.pending);
    if (!pending || state.token) return;
    item.prechat = pending;
    save("sessionStorage", PRECHAT_KEYS.pending, null);
  }

  async function loadPrechatTopics() {
    if (prechat.topics) { renderPrechatTopics(); return; }
    try {
      const res = await fetch("/chat/prechat.json", { credentials: "omit" });
      if (!res.ok) throw new Error(String(res.status));
      const body = await res.json();
      prechat.topics = Array.isArray(body.topics) ? body.topics : [];
      if (body.limits && typeof body.limits === "object") Object.assign(prechat.limits, body.limits);
    } catch (e) {
      prechat.topics = null;
    }
    if (!prechat.topics || !prechat.topics.length) { setPrechatOpen(false); return; }  // the chat goes on: the bot asks
    $("prechat-name").maxLength = prechat.limits.name;
    $("prechat-contact").maxLength = Math.max(prechat.limits.username, prechat.limits.email);
    renderPrechatTopics();
  }

  function openPrechatIfWanted() {
    if (!prechatWanted()) { setPrechatOpen(false); return; }
    const last = loadPrechat(PRECHAT_KEYS.last) || {};
    if (typeof last.name === "string" && !$("prechat-name").value) $("prechat-name").value = last.name;
    if (typeof last.contact === "string" && !$("prechat-contact").value) $("prechat-contact").value = last.contact;
    prechat.errors = {};
    setPrechatOpen(true);
    renderPrechat();
    loadPrechatTopics();
    $("prechat-name").focus();
  }

  function setupPrechat() {
    $("prechat-form").addEventListener("submit", submitPrechat);
    PRECHAT_FIELDS.forEach((field) => {
      const input = $("prechat-" + field);
      input.addEventListener(field === "topic" ? "change" : "input", () => {
        if (!prechat.errors[field]) return;
        delete prechat.errors[field];
        renderPrechatErrors();
      });
    });
    openPrechatIfWanted();
  }

  // --- the socket ---------------------------------------------------------

  function requestSession() {
    state.socket.emit("session_request", { session_id: state.sessionId, session_secret: state.sessionSecret, language: state.lang });
  }

  function connect() {
    const url = new URL(state.config.rasa_url);
    const base = url.pathname.replace(/\/+$/, "");
    const socket = window.io(url.origin, {
      path: base + (state.config.socketio_path || "/socket.io"),
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    state.socket = socket;
    socket.on("connect", () => {
      state.everConnected = true;
      requestSession();
    });
    socket.on("session_confirm", (data) => {
      // a bare id is what a Rasa without bot/channels/access.py answers (during
      // an upgrade): kept without a secret, the next Rasa lets the page start anew
      const id = typeof data === "string" ? data : (data && typeof data === "object" ? data.session_id : null);
      const secret = data && typeof data === "object" && typeof data.session_secret === "string" ? data.session_secret : null;
      if (typeof id !== "string" || !id) return;
      state.sessionId = id;
      state.sessionSecret = secret;
      save("sessionStorage", KEYS.session, state.sessionId);
      save("sessionStorage", KEYS.secret, state.sessionSecret);
      state.ready = true;
      setStatus("connected");
      flushOutbox();
    });
    // not let into the stored conversation: the notice is shown and a new
    // conversation asked for; what waits in the outbox goes there
    socket.on("session_refused", (notice) => {
      state.ready = false;
      onBotUttered(notice);
      state.sessionId = null;
      state.sessionSecret = null;
      save("sessionStorage", KEYS.session, null);
      save("sessionStorage", KEYS.secret, null);
      requestSession();
    });
    socket.on("bot_uttered", onBotUttered);
    socket.on("disconnect", (reason) => {
      state.ready = false;
      // whatever was not acknowledged goes again after the next session_confirm
      inFlight.clear();
      state.outbox.forEach((m) => setCustomerState(m.id, "queued"));
      setStatus(reason === "io client disconnect" ? "connecting" : "reconnecting");
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
    });
    socket.on("connect_error", () => {
      state.ready = false;
      setStatus(state.everConnected ? "reconnecting" : "connecting");
    });
  }

  function newConversation() {
    state.sessionId = null;
    state.sessionSecret = null;
    state.log = [];
    state.outbox = [];
    inFlight.clear();
    ["session", "secret", "log", "outbox"].forEach((k) => save("sessionStorage", KEYS[k], null));
    showError("");
    renderLog();
    if (typeof PAGE.onReset === "function") PAGE.onReset();
    openPrechatIfWanted();
    if (state.socket) {
      // a fresh socket: the old one stays in the old conversation's room
      state.ready = false;
      state.socket.disconnect();
      state.socket.connect();
    }
  }

  // what attach.js needs of the page; it sets the on* hooks (documents
  // asked for, a new conversation, labels in a new language)
  Object.assign(PAGE, { state, t, addEntry, updateEntry, newId, showError, maxDocumentMb, docText, load, save });

  document.addEventListener("DOMContentLoaded", async () => {
    state.sessionId = load("sessionStorage", KEYS.session) || null;
    state.sessionSecret = load("sessionStorage", KEYS.secret) || null;
    state.token = load("sessionStorage", KEYS.token) || null;
    state.log = loadList(KEYS.log);
    state.outbox = loadList(KEYS.outbox).filter((m) => m && typeof m.id === "string" && typeof m.text === "string");
    state.outbox.forEach((m) => {
      const entry = state.log.find((e) => e.id === m.id);
      if (entry) entry.state = "queued";
    });
    state.lang = pickLanguage("tr");
    setupPrechat();
    applyLabels();

    $("chat-lang").addEventListener("click", () => {
      state.lang = state.lang === "tr" ? "en" : "tr";
      save("localStorage", KEYS.lang, state.lang);
      const params = new URLSearchParams(location.search);
      if (params.has("lang")) {
        params.set("lang", state.lang);
        history.replaceState(history.state, "", location.pathname + "?" + params.toString());
      }
      applyLabels();
    });
    $("chat-new").addEventListener("click", newConversation);
    $("chat-form").addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
    $("chat-input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); }
    });
    $("chat-input").addEventListener("input", () => { updateCounter(); showError(""); });

    try {
      const res = await fetch("/chat/config.json", { credentials: "omit" });
      if (!res.ok) throw new Error(String(res.status));
      state.config = await res.json();
    } catch (e) {
      setStatus("unavailable");
      return;
    }
    if (!new URLSearchParams(location.search).get("lang") && !load("localStorage", KEYS.lang)) {
      state.lang = pickLanguage(state.config.default_language);
    }
    applyLabels();
    if (typeof window.io !== "function") { setStatus("unavailable"); return; }
    connect();
  });
})();
