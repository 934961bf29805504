// Agent console. All data is written with textContent, never innerHTML:
// customer text is shown as text and can run nothing.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  // the console's labels and the link to the editors' page (i18n.js)
  const I18N = { en: Object.assign({ editorLink: window.HANDOFF_EDITOR_I18N.en.editorLink }, window.HANDOFF_I18N.en),
                 tr: Object.assign({ editorLink: window.HANDOFF_EDITOR_I18N.tr.editorLink }, window.HANDOFF_I18N.tr) };
  const state = { lang: localStorage.getItem("handoff.lang") || "en", me: null, current: null, live: null, departments: [], reasons: [] };

  const DOCUMENT_MARK = "\u{1F4CE} ";
  const t = (key) => (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    $("lang-toggle").textContent = state.lang === "en" ? "TR" : "EN";
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && path !== "/api/v1/auth/login") { showLogin(); }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.status = res.status; err.code = data && data.error && data.error.code;
      err.retryAfter = res.headers.get("Retry-After");
      throw err;
    }
    return data;
  }

  // the service's error in the console's language when it has a text for its code
  function errorText(e) {
    const key = "error_" + e.code;
    const text = I18N.en[key] ? t(key) : e.message;
    return text.replace("{seconds}", e.retryAfter || "?");
  }

  function showLogin() {
    $("login-view").hidden = false; $("main-view").hidden = true; $("logout").hidden = true;
    $("whoami").textContent = ""; $("editor-link").hidden = true;
    if (state.live) { state.live.close(); state.live = null; }
  }

  async function showMain(agent) {
    // an editor works on the bot, not on tickets: the editors' page
    if (agent.role === "editor") { location.assign("/console/editor/"); return; }
    state.me = agent;
    $("editor-link").hidden = !["supervisor", "admin"].includes(agent.role);
    $("login-view").hidden = true; $("main-view").hidden = false; $("logout").hidden = false;
    $("whoami").textContent = agent.display_name + " (" + agent.departments.join(", ") + ")";
    $("stats-panel").hidden = agent.role === "agent";
    const deps = await api("GET", "/api/v1/departments");
    state.departments = deps.departments;
    const select = $("transfer-dept");
    select.replaceChildren();
    deps.departments.forEach((d) => { const o = el("option", d.name[state.lang] || d.id); o.value = d.id; select.appendChild(o); });
    state.reasons = (await api("GET", "/api/v1/verification/reasons")).reasons;
    fillReasons();
    connectLive();
    await refreshQueue();
  }

  function fillReasons() {
    const select = $("verify-reason");
    select.replaceChildren(...state.reasons.map((r) => { const o = el("option", r.name[state.lang] || r.id); o.value = r.id; return o; }));
  }

  // identity verification is decided by the account department or a supervisor (handoff.services.verification)
  function mayDecide() {
    return !!state.me && (state.me.role !== "agent" || state.me.departments.includes("account"));
  }

  function renderVerification(data) {
    const v = data.customer_verification || { status: "none" };
    const badge = $("card-verification");
    badge.dataset.status = v.status;
    badge.textContent = t("verification_" + v.status);
    const detail = [];
    if (v.reason) detail.push(v.reason[state.lang] || v.reason.en);
    if (v.decided_at) {
      const when = new Date(v.decided_at).toLocaleString(state.lang === "tr" ? "tr-TR" : "en-GB");
      detail.push(t("decidedBy").replace("{name}", v.decided_by || "?").replace("{date}", when));
    }
    if (v.status !== "none" && !v.verified_source) detail.push(t("decidedOnTyped"));
    $("card-verification-detail").textContent = detail.join(" · ");
    $("card-kind").textContent = t("kind_" + (data.kind || "support"));
    $("card-channel").replaceChildren(channelBadge(data.channel, "channel_"));
    $("verification-actions").hidden = !(data.kind === "verification" && mayDecide() && !data.archived);
  }

  // where a request or a customer's line came from: the chat (whatever
  // transport: socketio, rest), e-mail, the request form or the customer panel
  function channelKind(id) { return ["email", "form", "panel"].includes(id) ? id : "chat"; }

  function channelBadge(id, key) {
    const kind = channelKind(id);
    const badge = el("span", t(key + kind), "badge channel channel-" + kind);
    badge.dataset.channel = kind;
    return badge;
  }

  function ticketItem(ticket) {
    const li = el("li", null, "prio-" + ticket.priority.level);
    li.dataset.number = ticket.ticket_number;
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.appendChild(el("strong", ticket.ticket_number));
    li.appendChild(el("span", ticket.topic ? ticket.topic.label : ticket.department));
    li.appendChild(el("span", ticket.username || "", "muted"));
    li.appendChild(channelBadge(ticket.channel, "channel_"));
    li.addEventListener("click", () => openTicket(ticket.ticket_number));
    li.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openTicket(ticket.ticket_number); }
    });
    return li;
  }

  async function refreshQueue() {
    const data = await api("GET", "/api/v1/queue");
    $("queue").replaceChildren(...data.queued.map(ticketItem));
    $("mine").replaceChildren(...data.mine.map(ticketItem));
    $("queue-empty").hidden = data.queued.length > 0;
    if (state.me && state.me.role !== "agent") refreshStats().catch(() => {});
  }

  async function refreshStats() {
    const s = await api("GET", "/api/v1/stats");
    const fmt = (v) => (v === null || v === undefined ? t("none") : Math.round(v) + "s");
    $("stats").querySelector("tbody").replaceChildren(...s.departments.map((d) => {
      const tr = el("tr");
      [d.department, d.queue_length, fmt(d.wait_seconds.p50), fmt(d.wait_seconds.p90), d.handled_today].forEach((v) => tr.appendChild(el("td", v)));
      return tr;
    }));
  }

  function label(ref) { return ref ? ref.label + " (" + ref.id + ")" : t("none"); }

  function renderTicket(data) {
    state.current = data;
    const s = data.summary || {};
    $("ticket-view").hidden = false;
    $("ticket-number").textContent = data.ticket_number;
    $("ticket-status").textContent = t("status_" + data.status);
    $("card-username").textContent = s.username || t("none");
    // a username the platform's signed token proved, or one the customer typed (absent: typed)
    const source = $("card-username-source");
    source.hidden = !s.username;
    source.dataset.source = s.username_source === "verified_token" ? "verified_token" : "typed";
    source.textContent = t(source.dataset.source === "verified_token" ? "usernameVerified" : "usernameTyped");
    $("card-topic").textContent = label(s.topic);
    renderVerification(data);
    $("card-department").textContent = data.department;
    $("card-priority").textContent = data.priority.level + " — " + data.priority.reason;
    $("card-transaction").textContent = label(s.transaction_type) + ", " + (s.transaction_date || t("none"));
    $("card-age").textContent = s.age_check ? t(s.age_check.result) + " (" + t(s.age_check.method) + ")" : t("none");
    $("card-faq").textContent = (s.faq_tried || []).map((f) => f.id + ": " + (f.solved ? t("solved") : t("notSolved"))).join("; ") || t("none");
    $("card-description").textContent = s.description || t("none");
    $("transcript").replaceChildren(...data.transcript.map((m) => {
      // an agent's reply by e-mail waits for the relay (message.delivered turns it into sent)
      const byMail = m.sender === "agent" && m.channel === "email";
      const mark = byMail ? (m.delivered ? " mail-sent" : " mail-waiting") : (m.delivered === false ? " undelivered" : "");
      const li = el("li", null, m.sender + mark);
      li.dataset.id = m.id;
      li.appendChild(el("span", t("sender_" + m.sender), "who"));
      // a document's line (handoff/documents/service.py: a paperclip and the name): an icon, no emoji font needed
      const doc = m.text.startsWith(DOCUMENT_MARK);
      // a customer's line: its own channel, or (none) the ticket's
      if (m.sender === "customer") li.appendChild(channelBadge(m.channel || data.channel, "via_")).classList.add("via");
      li.appendChild(el("span", doc ? m.text.slice(DOCUMENT_MARK.length) : m.text, doc ? "text document-line" : "text"));
      if (byMail) li.appendChild(el("span", t(m.delivered ? "mailSent" : "mailWaiting"), "mail-note"));
      else if (m.delivered === false) li.appendChild(el("span", t("undelivered"), "undelivered-note"));
      return li;
    }));
    const list = $("transcript"); list.scrollTop = list.scrollHeight;
    const mine = data.status === "assigned" && state.me && data.assignee_id === state.me.id;
    $("claim-this").hidden = data.status !== "queued";
    $("reply-form").hidden = !mine;
    $("resolve").disabled = $("hand-back").disabled = $("transfer").disabled = $("request-documents").disabled = !mine;
  }

  // a ticket's documents: images inline and other files as downloads, both
  // through the authenticated /documents/<id>; a held file is only named
  function documentItem(doc) {
    const li = el("li", null, doc.status === "held" ? "held" : "");
    li.dataset.documentId = doc.id;
    if (doc.status === "held") {
      li.appendChild(el("span", doc.filename));
      li.appendChild(el("span", t("documentHeld"), "badge held"));
      return li;
    }
    const link = el("a", null);
    link.href = doc.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    if (doc.is_image) {
      const img = el("img");
      img.src = doc.url;
      img.alt = doc.filename;
      img.loading = "lazy";
      link.appendChild(img);
      link.appendChild(el("span", doc.filename));
    } else {
      link.setAttribute("download", doc.filename);
      link.textContent = doc.filename + " (" + t("download") + ")";
    }
    li.appendChild(link);
    return li;
  }

  function cardDocument(doc) {
    if (doc.status === "held") return el("span", doc.filename + " — " + t("documentHeld"), "muted");
    const a = el("a", doc.filename);
    a.href = doc.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    if (!doc.is_image) a.setAttribute("download", doc.filename);
    return a;
  }

  async function loadDocuments(number) {
    let docs = [];
    try { docs = (await api("GET", "/api/v1/tickets/" + encodeURIComponent(number) + "/documents")).documents; } catch (e) { docs = []; }
    if (!state.current || state.current.ticket_number !== number) return;
    $("documents").replaceChildren(...docs.map(documentItem));
    $("card-documents").replaceChildren(...(docs.length ? docs.map(cardDocument) : [el("span", t("noDocuments"), "muted")]));
  }

  // the ways the customer reached this ticket (one request per problem):
  // its own conversation and every contact that joined it; a supervisor
  // can split a wrongly joined contact off into a ticket of its own
  function contactItem(number, contact) {
    const li = el("li", null, contact.split_at ? "split" : "");
    li.dataset.contactId = contact.id;
    li.appendChild(channelBadge(contact.channel, "channel_"));
    li.appendChild(el("span", t(contact.own ? "contactOwn" : "contactJoined") + " " + new Date(contact.joined_at).toLocaleString(state.lang), "muted"));
    if (contact.split_to) li.appendChild(el("span", t("contactSplitTo") + " " + contact.split_to, "badge"));
    else if (!contact.own && state.me && state.me.role !== "agent") {
      const button = el("button", t("splitOff"), "secondary");
      button.type = "button";
      button.addEventListener("click", async () => {
        $("action-error").textContent = "";
        try {
          const created = await api("POST", "/api/v1/tickets/" + encodeURIComponent(number) + "/contacts/" + contact.id + "/split");
          $("ticket-alert").textContent = t("splitDone") + " " + created.ticket_number; $("ticket-alert").hidden = false;
          openTicketQuiet(number);
        } catch (e) { $("action-error").textContent = e.message; }
      });
      li.appendChild(button);
    }
    return li;
  }

  async function loadContacts(number) {
    let contacts = [];
    try { contacts = (await api("GET", "/api/v1/tickets/" + encodeURIComponent(number) + "/contacts")).contacts; } catch (e) { contacts = []; }
    if (!state.current || state.current.ticket_number !== number) return;
    $("card-contacts").replaceChildren(...contacts.map((c) => contactItem(number, c)));
  }

  async function openTicket(number) {
    $("ticket-alert").hidden = true; $("action-error").textContent = "";
    try { renderTicket(await api("GET", "/api/v1/tickets/" + encodeURIComponent(number))); await loadDocuments(number); await loadContacts(number); }
    catch (e) { $("action-error").textContent = e.message; }
  }

  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function act(fn) {
    $("action-error").textContent = "";
    try { await fn(); } catch (e) { $("action-error").textContent = errorText(e); }
    await refreshQueue().catch(() => {});
  }

  function connectLive() {
    if (state.live) state.live.close();
    const es = new EventSource("/api/v1/live");
    state.live = es;
    // (Re)connected, possibly to another replica, or told that updates were
    // lost: whatever happened meanwhile is read again.
    const reload = () => {
      refreshQueue().catch(() => {});
      if (state.current) openTicketQuiet(state.current.ticket_number);
    };
    es.onopen = () => { $("live-status").textContent = t("live"); $("live-status").dataset.state = "live"; reload(); };
    es.addEventListener("live.resync", reload);
    // logged out (here or in another tab) or the session expired: the server closed the stream
    es.addEventListener("session.ended", () => { es.close(); if (state.live === es) state.live = null; showLogin(); });
    es.onerror = () => { $("live-status").textContent = t("offline"); $("live-status").dataset.state = "offline"; };
    const onTicketUpdate = (ev) => {
      const data = JSON.parse(ev.data);
      refreshQueue().catch(() => {});
      const cur = state.current;
      if (cur && data.ticket_number === cur.ticket_number) {
        if (ev.type === "ticket.claimed" && data.assignee_id !== state.me.id) {
          $("ticket-alert").textContent = t("takenByOther"); $("ticket-alert").hidden = false;
        }
        if (["message.new", "message.delivered", "ticket.claimed", "ticket.updated", "ticket.split"].includes(ev.type)) openTicketQuiet(cur.ticket_number);
      }
    };
    ["ticket.queued", "ticket.claimed", "ticket.closed", "ticket.transferred", "ticket.updated", "ticket.split", "message.new", "message.delivered"].forEach((name) => es.addEventListener(name, onTicketUpdate));
  }

  async function openTicketQuiet(number) {
    try { renderTicket(await api("GET", "/api/v1/tickets/" + encodeURIComponent(number))); await loadDocuments(number); await loadContacts(number); } catch (e) { /* gone */ }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    applyLabels();
    $("lang-toggle").addEventListener("click", () => {
      state.lang = state.lang === "en" ? "tr" : "en";
      localStorage.setItem("handoff.lang", state.lang);
      applyLabels();
      fillReasons();
      refreshQueue().catch(() => {});
      if (state.current) { renderTicket(state.current); loadDocuments(state.current.ticket_number); loadContacts(state.current.ticket_number); }
    });
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("login-error").textContent = "";
      try {
        const data = await api("POST", "/api/v1/auth/login", { username: $("login-username").value, password: $("login-password").value });
        $("login-password").value = "";
        await showMain(data.agent);
      } catch (e) { $("login-error").textContent = t("loginFailed") + ": " + errorText(e); }
    });
    $("logout").addEventListener("click", async () => { await api("POST", "/api/v1/auth/logout").catch(() => {}); state.current = null; $("ticket-view").hidden = true; showLogin(); });
    $("claim-next").addEventListener("click", () => act(async () => { const tk = await api("POST", "/api/v1/queue/claim"); await openTicket(tk.ticket_number); }));
    $("claim-this").addEventListener("click", () => act(async () => { await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/claim"); await openTicket(state.current.ticket_number); }));
    $("reply-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("reply-text").value;
      if (!text.trim()) return;
      // one id per draft: sending it again after a failed delivery retries the same reply
      if (!state.draftId || state.draftText !== text) { state.draftId = newClientId(); state.draftText = text; }
      act(async () => {
        await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/reply", { text, client_id: state.draftId });
        $("reply-text").value = ""; state.draftId = state.draftText = null;
        await openTicket(state.current.ticket_number);
      });
    });
    $("resolve").addEventListener("click", () => act(async () => {
      const note = $("resolve-note").value;
      await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/resolve", note ? { note } : {});
      $("resolve-note").value = ""; await openTicket(state.current.ticket_number);
    }));
    $("hand-back").addEventListener("click", () => act(async () => { await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/hand-back"); await openTicket(state.current.ticket_number); }));
    $("request-documents").addEventListener("click", () => act(async () => {
      await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/request-documents");
      await openTicket(state.current.ticket_number);
    }));
    const decide = (body) => act(async () => {
      await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/verification", body);
      await openTicket(state.current.ticket_number);
    });
    $("verify-approve").addEventListener("click", () => decide({ decision: "approve" }));
    $("verify-reject").addEventListener("click", () => decide({ decision: "reject", reason_id: $("verify-reason").value }));
    $("transfer").addEventListener("click", () => act(async () => {
      await api("POST", "/api/v1/tickets/" + state.current.ticket_number + "/transfer", { department: $("transfer-dept").value });
      $("ticket-view").hidden = true; state.current = null;
    }));
    try { const me = await api("GET", "/api/v1/auth/me"); await showMain(me.agent); } catch (e) { showLogin(); }
  });
})();
