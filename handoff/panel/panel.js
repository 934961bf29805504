// Customer panel: the signed-in customer's requests, their steps,
// conversation and documents, and a message or a file added to an open one.
//
// The platform's signed token arrives in the fragment (#token=...), which
// browsers never send to a server. It is taken out of the address bar at
// once and posted to /panel/api/session, which answers with the panel's own
// HttpOnly session cookie; the token is not kept anywhere after that.
// A request opens as #request=T-000123 (the number is no secret).
// A visitor who chatted without signing in and opens the panel in the same
// tab brings that chat along: the web chat keeps its conversation id and
// secret in this tab's sessionStorage (handoff/webchat/chat.js, KEYS), and
// the sign-in sends them; the service links the chat's requests of no
// account to this customer only when the secret proves the conversation.
//
// A file goes to POST /panel/api/requests/<number>/documents (the attach
// button opens the picker; keyboard: Tab to it, Enter or Space); the
// service decides what it is from its content and answers a refusal with a
// code, shown in the reader's language (i18n.js: doc_<code>). Documents are
// shown through /panel/api/requests/<number>/documents/<id>: images as
// thumbnails, others as downloads, a file waiting for its scan only named.
//
// All text from the server is written with textContent, never innerHTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const I18N = window.PANEL_I18N;
  const LANGS = ["tr", "en"];
  const LANG_KEY = "panel.lang";
  const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
  const MAX_CHARS = 4000;
  const REFRESH_MS = 10000;
  // a document's transcript line (handoff/documents/service.py): a paperclip and the name
  const DOCUMENT_MARK = "\u{1F4CE} ";
  const MB = 1024 * 1024;
  const CHAT_KEYS = { session: "webchat.session_id", secret: "webchat.session_secret" };  // as chat.js keeps them

  const state = { lang: "tr", tokenLang: null, list: null, detail: null, view: "loading", error: null, timer: null, sending: false,
    uploading: false, attachNote: null, attachError: null, linked: [] };

  function load(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* not kept */ } }
  function tabChat() {
    let id = null, secret = null;
    try { id = window.sessionStorage.getItem(CHAT_KEYS.session); secret = window.sessionStorage.getItem(CHAT_KEYS.secret); } catch (e) { return null; }
    if (typeof id !== "string" || typeof secret !== "string" || !id || !secret || id.length > 255 || secret.length > 255) return null;
    return { id, secret };
  }

  function t(key, vars) {
    let s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
    if (vars) Object.keys(vars).forEach((k) => { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }

  function pickLanguage() {
    const asked = (new URLSearchParams(location.search).get("lang") || "").toLowerCase();
    if (LANGS.includes(asked)) return asked;
    const chosen = load(LANG_KEY);
    if (LANGS.includes(chosen)) return chosen;
    if (LANGS.includes(state.tokenLang)) return state.tokenLang;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const base = String(tag).slice(0, 2).toLowerCase();
      if (LANGS.includes(base)) return base;
    }
    return "tr";
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function when(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return "—";
    return d.toLocaleString(state.lang === "tr" ? "tr-TR" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  }
  function fmt(n) { return Number(n).toLocaleString(state.lang === "tr" ? "tr-TR" : "en-US"); }
  function named(ref) { return ref && ref.name ? (ref.name[state.lang] || ref.name.en || ref.id) : "—"; }
  function channelName(id) { const key = "channel_" + id; const s = t(key); return s === key ? id : s; }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    let res;
    try { res = await fetch(path, init); } catch (e) { return { ok: false, status: 0, code: "network" }; }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    const code = data && data.error ? data.error.code : null;
    return { ok: res.ok, status: res.status, data, code };
  }

  function maxBytes() { return (state.list && state.list.max_document_bytes) || 10 * MB; }
  function maxMegabytes() { return Math.floor(maxBytes() / MB) || 1; }

  function docText(code) {
    if (code === "too_large") return t("doc_too_large", { max: fmt(maxMegabytes()) });
    const key = "doc_" + code;
    const s = t(key);
    return s !== key ? s : errorText({ status: code === "network" ? 0 : 500, code });
  }

  function size(bytes) {
    const n = Number(bytes) || 0;
    const opts = { maximumFractionDigits: 1 };
    const locale = state.lang === "tr" ? "tr-TR" : "en-GB";
    if (n >= MB) return (n / MB).toLocaleString(locale, opts) + " MB";
    return Math.max(1, Math.round(n / 1024)).toLocaleString(locale) + " KB";
  }

  function errorText(answer) {
    if (answer.status === 0) return t("error_network");
    if (answer.status === 413 || answer.code === "too_long") return t("error_too_long", { max: fmt(MAX_CHARS) });
    if (answer.code === "empty_field" || answer.code === "missing_field") return t("error_empty");
    const key = "error_" + (answer.code || "");
    const s = t(key);
    return s === key ? t("error_generic") : s;
  }

  // ---- rendering

  function show(view) {
    state.view = view;
    $("panel-loading").hidden = view !== "loading";
    $("panel-error").hidden = view !== "error";
    $("list-view").hidden = view !== "list";
    $("detail-view").hidden = view !== "detail";
  }

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
    $("panel-form-link").href = "/form/?lang=" + state.lang;
    const toggle = $("panel-lang");
    toggle.textContent = state.lang === "tr" ? "EN" : "TR";
    toggle.setAttribute("aria-label", t("langToggle"));
    toggle.lang = state.lang === "tr" ? "en" : "tr";
    $("message-limit").textContent = t("limitHint", { max: fmt(MAX_CHARS) });
    $("attach-hint").textContent = t("attachHint", { max: fmt(maxMegabytes()) });
    const note = $("attach-status");
    note.hidden = !state.attachNote;
    note.textContent = state.attachNote ? t(state.attachNote.key, state.attachNote.vars) : "";
    const failed = $("attach-error");
    failed.hidden = !state.attachError;
    failed.textContent = state.attachError ? docText(state.attachError) : "";
    updateCounter();
  }

  function render() {
    applyLabels();
    if (state.list) $("panel-user").textContent = t("signedInAs", { name: state.list.customer.username });
    $("panel-signout").hidden = !state.list;
    if (state.view === "error") renderError();
    if (state.view === "list") renderList();
    if (state.view === "detail") renderDetail();
  }

  function renderError() {
    $("panel-error-title").textContent = t("error_title");
    $("panel-error-text").textContent = state.error ? state.error() : "";
    $("panel-error-back").hidden = !state.list;
  }

  function requestItem(item) {
    const li = el("li");
    const button = el("button", null, "request");
    button.type = "button";
    button.dataset.number = item.number;
    const top = el("span", null, "request-top");
    top.append(el("span", item.number, "number"), el("span", t("status_" + item.status), "status status-" + item.status));
    const topic = el("span", named(item.topic), "topic");
    const parts = [top, topic];
    if (item.verification) {
      const status = item.verification.status;
      parts.push(el("span", t("verifyBadge", { status: t("verify_" + status) }), "vstatus verify-" + status));
    }
    const meta = el("span", null, "meta");
    meta.append(
      el("span", named(item.department)),
      el("span", t("created") + ": " + when(item.created_at)),
      el("span", t("updated") + ": " + when(item.updated_at)),
    );
    button.append(...parts, meta);
    button.addEventListener("click", () => { location.hash = "request=" + encodeURIComponent(item.number); });
    li.append(button);
    return li;
  }

  function fill(listId, emptyId, items) {
    const list = $(listId);
    list.replaceChildren(...items.map(requestItem));
    $(emptyId).hidden = items.length > 0;
  }

  function renderList() {
    const data = state.list;
    const linked = $("panel-linked");
    linked.hidden = !state.linked.length;
    linked.textContent = state.linked.length ? t("linked", { numbers: state.linked.join(", ") }) : "";
    fill("open-list", "open-empty", data.open);
    fill("closed-list", "closed-empty", data.closed);
    fill("archived-list", "archived-empty", data.archived);
    $("archive-count").textContent = "(" + fmt(data.archived.length) + ")";
  }

  function stepItem(step) {
    const li = el("li", null, step.current ? "step current" : "step");
    li.dataset.step = step.step;
    li.append(el("span", t("step_" + step.step), "step-name"), el("span", when(step.at), "step-at"));
    if (step.agent) li.append(el("span", t("agentName", { name: step.agent }), "step-extra"));
    if (step.queue_position) li.append(el("span", t("queuePlace", { n: fmt(step.queue_position) }), "step-extra"));
    if (step.expected_wait_seconds !== null && step.expected_wait_seconds !== undefined) {
      const minutes = Math.max(1, Math.round(step.expected_wait_seconds / 60));
      li.append(el("span", t("expectedWait", { minutes: fmt(minutes) }), "step-extra"));
    }
    if (step.current) li.setAttribute("aria-current", "step");
    return li;
  }

  function lineItem(line) {
    const li = el("li", null, "msg " + line.sender);
    li.dataset.id = String(line.id);
    const head = el("span", null, "msg-head");
    head.append(el("span", line.sender === "agent" && line.agent ? line.agent : t("sender_" + line.sender), "sender"));
    if (line.sender === "agent" && line.agent) head.append(el("span", t("sender_agent"), "role"));
    if (line.channel === "panel") head.append(el("span", t("viaPanel"), "via"));
    head.append(el("time", when(line.created_at), "at"));
    const isDocument = line.text.startsWith(DOCUMENT_MARK);
    li.append(head, el("p", isDocument ? line.text.slice(DOCUMENT_MARK.length) : line.text, isDocument ? "text document-line" : "text"));
    return li;
  }

  function documentItem(doc) {
    const li = el("li", null, "document" + (doc.status === "held" ? " held" : ""));
    li.dataset.documentId = String(doc.id);
    const meta = el("span", [t("sentBy_" + doc.sender), size(doc.size), when(doc.created_at)].join(" · "), "document-meta");
    if (doc.status === "held") {
      li.append(el("span", null, "document-icon file"), el("span", doc.filename, "document-name"), el("span", t("documentHeld"), "badge held"), meta);
      return li;
    }
    const link = el("a", null, "document-link");
    link.href = doc.url;
    link.rel = "noopener noreferrer";
    if (doc.is_image) {
      link.target = "_blank";
      link.setAttribute("aria-label", t("openImage", { name: doc.filename }));
      const img = el("img", null, "thumb");
      img.src = doc.url;
      img.alt = doc.filename;
      img.loading = "lazy";
      link.append(img);
      li.append(link, el("span", doc.filename, "document-name"), meta);
    } else {
      link.setAttribute("download", doc.filename);
      link.append(el("span", null, "document-icon file"), el("span", doc.filename, "document-name"), el("span", t("download"), "download"));
      li.append(link, meta);
    }
    return li;
  }

  function renderVerification(v) {
    const box = $("verification");
    box.hidden = !v;
    if (!v) return;
    box.className = "verification state-" + v.status;
    const status = $("verification-status");
    status.textContent = t("verify_" + v.status);
    status.className = "vstatus verify-" + v.status;
    $("verification-note").textContent = t("verifyNote_" + v.status);
    const reason = v.reason ? (v.reason[state.lang] || v.reason.en || "") : "";
    $("verification-reason").hidden = !reason;
    $("verification-reason-text").textContent = reason;
    $("verification-decided").hidden = !v.decided_at;
    $("verification-decided").textContent = v.decided_at ? t("verifyDecidedAt", { when: when(v.decided_at) }) : "";
    const needed = v.status === "requested" || v.status === "rejected" ? v.documents_needed || [] : [];
    $("verification-needed").hidden = !needed.length;
    $("verification-needed-list").replaceChildren(...needed.map((doc) => el("li", named(doc))));
  }

  function renderDetail() {
    const d = state.detail;
    $("detail-number").textContent = d.number;
    $("detail-topic").textContent = named(d.topic);
    const status = $("detail-status");
    status.textContent = t("status_" + d.status);
    status.className = "status status-" + d.status;
    $("detail-department").textContent = named(d.department);
    $("detail-created").textContent = when(d.created_at) + " · " + channelName(d.channel);
    $("detail-updated").textContent = when(d.updated_at);
    const note = $("detail-readonly");
    note.hidden = d.can_write;
    note.textContent = d.archived ? t("readOnly") : t("closedNote");
    renderVerification(d.verification);
    $("timeline").replaceChildren(...d.timeline.map(stepItem));
    $("transcript").replaceChildren(...d.transcript.map(lineItem));
    $("documents").replaceChildren(...d.documents.map(documentItem));
    $("documents-empty").hidden = d.documents.length > 0;
    $("attach").hidden = !d.can_write;
    $("message-form").hidden = !d.can_write;
  }

  function fail(message) {
    state.error = message;
    show("error");
    render();
  }

  // ---- loading

  async function loadList() {
    const answer = await api("GET", "/panel/api/requests");
    if (!answer.ok) { state.list = null; fail(() => errorText(answer)); return false; }
    state.list = answer.data;
    return true;
  }

  async function loadDetail(number, quiet) {
    const answer = await api("GET", "/panel/api/requests/" + encodeURIComponent(number));
    if (!answer.ok) {
      if (!quiet) fail(() => errorText(answer));
      return;
    }
    const scrolled = state.detail && state.detail.number === number && state.detail.transcript.length === answer.data.transcript.length;
    state.detail = answer.data;
    show("detail");
    render();
    if (!scrolled && !quiet) $("detail-view").scrollIntoView({ block: "start" });
  }

  function wanted() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    return params.get("request");
  }

  async function route() {
    clearInterval(state.timer);
    const number = wanted();
    if (!state.list && !(await loadList())) return;
    if (number) {
      if (!state.detail || state.detail.number !== number) { state.attachNote = null; state.attachError = null; }
      await loadDetail(number, false);
      if (state.view === "detail") {
        state.timer = setInterval(() => { if (wanted() === number && !state.sending && !state.uploading) loadDetail(number, true); }, REFRESH_MS);
        $("detail-back").focus();
      }
      return;
    }
    await loadList();
    if (state.list) { show("list"); render(); }
  }

  // ---- writing

  function updateCounter() {
    const n = $("message-text").value.length;
    $("message-count").textContent = t("counter", { n: fmt(n), max: fmt(MAX_CHARS) });
  }

  function clientId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function send(event) {
    event.preventDefault();
    const box = $("message-text");
    const text = box.value;
    const error = $("message-error");
    error.hidden = true;
    if (!text.trim()) { error.textContent = t("error_empty"); error.hidden = false; return; }
    if (text.length > MAX_CHARS) { error.textContent = t("error_too_long", { max: fmt(MAX_CHARS) }); error.hidden = false; return; }
    const number = state.detail.number;
    const id = box.dataset.clientId || clientId();
    box.dataset.clientId = id;  // the same id again if this attempt is retried
    state.sending = true;
    $("message-send").disabled = true;
    $("message-send").textContent = t("sending");
    const answer = await api("POST", "/panel/api/requests/" + encodeURIComponent(number) + "/messages", { text, client_id: id });
    state.sending = false;
    $("message-send").disabled = false;
    $("message-send").textContent = t("send");
    if (!answer.ok) {
      error.textContent = errorText(answer);  // the text stays in the box
      error.hidden = false;
      if (answer.status === 401) fail(() => errorText(answer));
      return;
    }
    box.value = "";
    delete box.dataset.clientId;
    updateCounter();
    await loadDetail(number, true);
    box.focus();
  }

  function attachNote(key, vars) { state.attachNote = key ? { key, vars } : null; state.attachError = null; applyLabels(); }
  function attachFailed(code) { state.attachNote = null; state.attachError = code; applyLabels(); }

  function upload(file) {
    const number = state.detail.number;
    const name = file.name;
    if (file.size > maxBytes()) { attachFailed("too_large"); return; }
    if (!file.size) { attachFailed("empty"); return; }
    const form = new FormData();
    form.append("file", file, name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/panel/api/requests/" + encodeURIComponent(number) + "/documents");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    state.uploading = true;
    $("attach-button").disabled = true;
    $("attach").setAttribute("aria-busy", "true");
    attachNote("doc_uploading", { name, percent: 0 });
    const done = () => {
      state.uploading = false;
      $("attach-button").disabled = false;
      $("attach").removeAttribute("aria-busy");
    };
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) attachNote("doc_uploading", { name, percent: Math.min(99, Math.round((100 * ev.loaded) / ev.total)) });
    };
    xhr.onload = async () => {
      done();
      const body = xhr.response && typeof xhr.response === "object" ? xhr.response : {};
      if (xhr.status === 201 && body.document) {
        const kept = body.document.filename;  // the name as the service keeps it
        attachNote(body.document.status === "held" ? "doc_held" : "doc_sent", { name: kept });
        await loadDetail(number, true);
        $("attach-button").focus();
        return;
      }
      const code = body.error && typeof body.error.code === "string" ? body.error.code : "failed";
      attachFailed(xhr.status === 413 ? "too_large" : code);
      if (xhr.status === 401) fail(() => errorText({ status: 401, code }));
    };
    xhr.onerror = () => { done(); attachFailed("failed"); };
    xhr.send(form);
  }

  async function signOut() {
    await api("DELETE", "/panel/api/session");
    state.list = null;
    state.detail = null;
    history.replaceState(history.state, "", location.pathname + location.search);
    fail(() => t("signedOut"));
  }

  // ---- start

  async function start() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const token = params.has("token") ? params.get("token") || "" : null;
    if (token !== null) history.replaceState(history.state, "", location.pathname + location.search);
    state.lang = pickLanguage();
    applyLabels();
    $("panel-lang").addEventListener("click", () => {
      state.lang = state.lang === "tr" ? "en" : "tr";
      save(LANG_KEY, state.lang);
      const search = new URLSearchParams(location.search);
      if (search.has("lang")) {
        search.set("lang", state.lang);
        history.replaceState(history.state, "", location.pathname + "?" + search.toString() + location.hash);
      }
      render();
    });
    $("panel-signout").addEventListener("click", signOut);
    $("detail-back").addEventListener("click", () => { location.hash = ""; });
    $("panel-error-back").addEventListener("click", () => { location.hash = ""; route(); });
    $("message-form").addEventListener("submit", send);
    $("message-text").addEventListener("input", updateCounter);
    $("attach-button").addEventListener("click", () => { $("attach-file").value = ""; $("attach-file").click(); });
    $("attach-file").addEventListener("change", () => {
      const input = $("attach-file");
      const file = input.files && input.files[0];
      if (file && state.detail && !state.uploading) upload(file);
      $("attach-button").focus();
    });
    $("message-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("message-form").requestSubmit();
    });
    window.addEventListener("hashchange", route);
    if (token !== null) {
      const body = { token };
      const chat = tabChat();
      if (chat) body.conversation = chat;
      const answer = TOKEN_RE.test(token) && token.length <= 4096
        ? await api("POST", "/panel/api/session", body)
        : { ok: false, status: 401, code: "invalid_token" };
      if (!answer.ok) { fail(() => errorText(answer)); return; }
      state.tokenLang = answer.data.language;
      state.linked = Array.isArray(answer.data.linked) ? answer.data.linked.filter((n) => typeof n === "string") : [];
      state.lang = pickLanguage();
    }
    await route();
  }

  start();
})();
