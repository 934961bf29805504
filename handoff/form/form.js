// The request form (handoff/api/form.py): no build step, no framework.
//
// Language: ?lang=tr|en, else the reader's last choice, else the browser's.
// The topics and transaction types come from /form/catalogue.json in that
// language. A signed-in customer is known by the panel's session cookie
// (GET /form/api/session); arriving with the platform's token in the
// fragment (#token=...) signs in through the panel's own sign-in first.
// The page checks what it can (required fields, the e-mail's form, the
// transaction date's range, the files) and the service decides: its codes
// are shown next to their fields (i18n.js err_<field>_<code>). One key per
// request (Idempotency-Key): a double click or a retry is the same request.
"use strict";
(function () {
  const I18N = window.FORM_I18N;
  Object.keys(window.DOCUMENT_I18N || {}).forEach((lang) => Object.assign(I18N[lang], window.DOCUMENT_I18N[lang]));
  const LANGS = ["tr", "en"];
  const LANG_KEY = "form.lang";
  const FIELDS = ["topic", "transaction_type", "transaction_date", "username", "email", "description", "birth_date", "files"];
  const TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
  const EMAIL_RE = /^[^\s@<>()[\]\\,;:"']+@[^\s@<>()[\]\\,;:"'_]+\.\p{L}{2,}$/u;
  const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
  const state = { lang: "tr", catalogue: null, customer: null, key: newKey(), sending: false, shown: {} };
  const $ = (id) => document.getElementById(id);

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
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
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const base = String(tag).slice(0, 2).toLowerCase();
      if (LANGS.includes(base)) return base;
    }
    return "tr";
  }
  function megabytes() { return Math.floor(state.catalogue.max_document_bytes / (1024 * 1024)); }
  function vars() {
    const c = state.catalogue || { transaction_max_age_days: 180, max_files: 3, limits: { description: 4000 } };
    return { days: c.transaction_max_age_days, n: c.max_files, max: c.limits.description };
  }

  async function api(method, path, body, headers) {
    let res;
    try { res = await fetch(path, { method, body, headers: headers || {}, credentials: "same-origin" }); }
    catch (e) { return { ok: false, status: 0, code: "network" }; }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    const error = data && data.error ? data.error : {};
    return { ok: res.ok, status: res.status, data, code: error.code, fields: error.fields, retry: res.headers.get("Retry-After") };
  }

  // ---- labels and choices

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n, vars()); });
    const toggle = $("form-lang");
    toggle.textContent = state.lang === "tr" ? "EN" : "TR";
    toggle.setAttribute("aria-label", t("langToggle"));
    toggle.lang = state.lang === "tr" ? "en" : "tr";
    for (const id of ["form-panel-link", "done-panel"]) $(id).href = "/panel/?lang=" + state.lang;
    $("form-chat-link").href = "/chat/?lang=" + state.lang;
    if (state.catalogue) {
      $("f-transaction_date-hint").textContent = t("transactionDateHint", vars());
      $("f-files-hint").textContent = t("documentsHint", { n: state.catalogue.max_files, max: megabytes() });
    }
    const signed = state.customer !== null;
    $("form-signed-in").hidden = !signed;
    if (signed) $("form-signed-in").textContent = t("signedIn", { name: state.customer.username });
    $("f-email-mark").textContent = signed ? t("optional") : t("required");
    $("f-email-mark").className = signed ? "opt" : "req";
    $("f-email-hint").textContent = signed ? t("emailHintSignedIn") : t("emailHint");
    dateMark();
    counter();
    Object.keys(state.shown).forEach((field) => showError(field, state.shown[field]));
    if (!$("form-done").hidden && state.answer) showDone(state.answer);
  }

  function fillSelect(select, items, first) {
    const keep = select.value;
    select.replaceChildren();
    const none = document.createElement("option");
    none.value = ""; none.textContent = first;
    select.append(none);
    for (const item of items) {
      const option = document.createElement("option");
      option.value = item.id; option.textContent = item.name;
      select.append(option);
    }
    select.value = items.some((i) => i.id === keep) ? keep : "";
  }

  async function loadCatalogue() {
    const answer = await api("GET", "/form/catalogue.json?lang=" + state.lang);
    if (!answer.ok) return false;
    state.catalogue = answer.data;
    fillSelect($("f-topic"), answer.data.topics, t("chooseTopic"));
    fillSelect($("f-transaction_type"), answer.data.transaction_types, t("noTransactionType"));
    const today = answer.data.today;
    $("f-transaction_date").max = today;
    $("f-transaction_date").min = shift(today, -answer.data.transaction_max_age_days);
    $("f-birth_date").max = today;
    $("f-description").maxLength = answer.data.limits.description;
    $("f-email").maxLength = answer.data.limits.email;
    $("f-username").maxLength = answer.data.limits.username;
    return true;
  }

  function shift(iso, days) {
    const d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function dateNeeded() {
    const chosen = $("f-transaction_type").value;
    const kind = state.catalogue && state.catalogue.transaction_types.find((k) => k.id === chosen);
    return Boolean(kind && !kind.skips_date);
  }
  function dateMark() {
    const needed = dateNeeded();
    $("f-transaction_date-mark").textContent = needed ? t("required") : t("optional");
    $("f-transaction_date-mark").className = needed ? "req" : "opt";
    $("f-transaction_date").required = needed;
  }
  function counter() {
    const max = $("f-description").maxLength > 0 ? $("f-description").maxLength : vars().max;
    $("f-description-count").textContent = t("counter", { n: $("f-description").value.length, max });
  }

  // ---- errors next to their fields

  function input(field) { return $("f-" + field); }
  function showError(field, code) {
    const box = $("f-" + field + "-error");
    if (!box) return;
    state.shown[field] = code;
    box.textContent = t("err_" + field + "_" + code, vars());
    box.hidden = false;
    input(field).setAttribute("aria-invalid", "true");
  }
  function clearError(field) {
    // what the reader changes is no longer what was wrong
    if (!(field in state.shown)) return;
    delete state.shown[field];
    $("f-" + field + "-error").hidden = true;
    input(field).removeAttribute("aria-invalid");
  }
  function clearErrors() {
    state.shown = {};
    for (const field of FIELDS) {
      const box = $("f-" + field + "-error");
      if (box) { box.hidden = true; box.textContent = ""; }
      if (input(field)) input(field).removeAttribute("aria-invalid");
    }
    $("form-alert").hidden = true;
  }
  function alertText(text) {
    $("form-alert").textContent = text;
    $("form-alert").hidden = false;
    $("form-alert").focus();
  }

  function check() {
    const errors = {};
    const c = state.catalogue;
    if (!$("f-topic").value) errors.topic = "required";
    const when = $("f-transaction_date").value;
    if (when) {
      if (when > c.today) errors.transaction_date = "future";
      else if (when < shift(c.today, -c.transaction_max_age_days)) errors.transaction_date = "too_old";
    } else if ($("f-transaction_date").validity.badInput) errors.transaction_date = "invalid";
    else if (dateNeeded()) errors.transaction_date = "required";
    const email = $("f-email").value.trim();
    if (!email && state.customer === null) errors.email = "required";
    else if (email && !EMAIL_RE.test(email)) errors.email = "invalid";
    const text = $("f-description").value.trim();
    if (!text) errors.description = "required";
    else if (text.length > c.limits.description) errors.description = "too_long";
    if (state.customer === null) {
      const born = $("f-birth_date").value;
      if (!born) errors.birth_date = $("f-birth_date").validity.badInput ? "invalid" : "required";
      else if (born > c.today) errors.birth_date = "future";
    }
    if (chosenFiles().length > c.max_files) errors.files = "too_many";
    return errors;
  }

  function chosenFiles() { return Array.from($("f-files").files || []); }
  function fileProblem(file) {
    if (file.size > state.catalogue.max_document_bytes) return "too_large";
    if (file.size === 0) return "empty";
    if (file.type && !TYPES.includes(file.type)) return "unsupported_type";
    return null;
  }
  function listFiles() {
    const list = $("f-files-list");
    list.replaceChildren();
    for (const file of chosenFiles()) {
      const problem = fileProblem(file);
      const item = document.createElement("li");
      item.className = problem ? "bad" : "";
      item.textContent = problem ? t("docRefused", { name: file.name, reason: t("doc_" + problem, { max: megabytes() }) })
        : file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
      list.append(item);
    }
  }

  // ---- sending

  async function submit(event) {
    event.preventDefault();
    if (state.sending) return;  // a double click: the first is on its way
    clearErrors();
    const errors = check();
    const bad = chosenFiles().filter((f) => fileProblem(f));
    if (Object.keys(errors).length || bad.length) {
      Object.keys(errors).forEach((field) => showError(field, errors[field]));
      if (bad.length && !errors.files) { listFiles(); input("files").setAttribute("aria-invalid", "true"); }
      alertText(t("fixFields"));
      const first = FIELDS.find((f) => errors[f]) || "files";
      input(first).focus();
      return;
    }
    const body = new FormData();
    for (const name of ["topic", "transaction_type", "transaction_date", "email", "description"]) body.append(name, $("f-" + name).value.trim());
    if (state.customer === null) {
      body.append("username", $("f-username").value.trim());
      body.append("birth_date", $("f-birth_date").value);
    }
    body.append("language", state.lang);
    body.append("website", $("f-website").value);
    for (const file of chosenFiles()) body.append("files", file, file.name);
    state.sending = true;
    const button = $("form-submit");
    button.disabled = true; button.setAttribute("aria-busy", "true"); button.textContent = t("sending");
    const answer = await api("POST", "/form/api/requests", body, { "Idempotency-Key": state.key });
    state.sending = false;
    button.disabled = false; button.removeAttribute("aria-busy"); button.textContent = t("submit");
    if (answer.ok) { showDone(answer.data); return; }
    if (answer.code === "under_18") { refuse(); return; }
    if (answer.code === "invalid_fields" && answer.fields) {
      Object.keys(answer.fields).forEach((field) => showError(field, answer.fields[field]));
      alertText(t("fixFields"));
      const first = FIELDS.find((f) => answer.fields[f]);
      if (first) input(first).focus();
      return;
    }
    const minutes = Math.max(1, Math.ceil(Number(answer.retry || 60) / 60));
    const known = ["rate_limited", "body_too_large", "cross_origin", "network"];
    alertText(t("error_" + (known.includes(answer.code) ? answer.code : answer.status === 413 ? "body_too_large" : "generic"), { minutes }));
  }

  function showDone(data) {
    state.answer = data;
    $("request-form").hidden = true;
    const done = $("form-done");
    done.hidden = false;
    $("done-title").textContent = data.joined ? t("joinedTitle") : t("doneTitle");
    $("done-text").textContent = t(data.joined ? "joinedText" : "doneText", { number: data.ticket_number });
    const queued = data.queue_position !== null && data.queue_position !== undefined;
    $("done-queue").hidden = !queued;
    if (queued) $("done-queue").textContent = t("queue", { n: data.queue_position, minutes: Math.max(1, Math.ceil((data.expected_wait_seconds || 0) / 60)) });
    $("done-mail").hidden = !data.acknowledgement_mail;
    $("done-mail").textContent = t("doneMail");
    const list = $("done-documents");
    list.replaceChildren();
    for (const doc of data.documents || []) {
      const item = document.createElement("li");
      item.className = doc.refused ? "bad" : "good";
      item.textContent = doc.refused ? t("docRefused", { name: doc.filename, reason: t("doc_" + doc.refused, { max: megabytes() }) })
        : t("docAccepted", { name: doc.filename });
      list.append(item);
    }
    $("done-panel").hidden = state.customer === null;
    if (document.activeElement !== done) done.focus();
  }

  function refuse() {
    // nothing was kept: nothing is kept here either
    $("request-form").reset();
    $("request-form").hidden = true;
    $("form-refused").hidden = false;
    $("form-refused").focus();
  }

  function again() {
    state.key = newKey();
    state.answer = null;
    $("request-form").reset();
    listFiles();
    clearErrors();
    dateMark(); counter();
    $("form-done").hidden = true;
    $("request-form").hidden = false;
    $("f-topic").focus();
  }

  // ---- start

  async function signIn(token) {
    if (!TOKEN_RE.test(token) || token.length > 4096) return false;
    const answer = await api("POST", "/panel/api/session", JSON.stringify({ token }), { "Content-Type": "application/json" });
    return answer.ok;
  }

  async function start() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const token = params.has("token") ? params.get("token") || "" : null;
    if (token !== null) history.replaceState(history.state, "", location.pathname + location.search);
    state.lang = pickLanguage();
    applyLabels();
    const refusedToken = token !== null && !(await signIn(token));
    const who = await api("GET", "/form/api/session");
    state.customer = who.ok && who.data && who.data.customer ? who.data.customer : null;
    if (!(await loadCatalogue())) {
      $("form-loading").textContent = t("error_generic");
      return;
    }
    $("username-field").hidden = state.customer !== null;
    $("birth-field").hidden = state.customer !== null;
    $("form-loading").hidden = true;
    $("request-form").hidden = false;
    applyLabels();
    if (refusedToken) alertText(t("error_invalid_token"));
    $("form-lang").addEventListener("click", async () => {
      state.lang = state.lang === "tr" ? "en" : "tr";
      save(LANG_KEY, state.lang);
      const search = new URLSearchParams(location.search);
      if (search.has("lang")) {
        search.set("lang", state.lang);
        history.replaceState(history.state, "", location.pathname + "?" + search.toString());
      }
      await loadCatalogue();
      applyLabels();
      listFiles();
    });
    $("request-form").addEventListener("submit", submit);
    for (const field of FIELDS) {
      input(field).addEventListener("change", () => clearError(field));
      if (field !== "files") input(field).addEventListener("input", () => clearError(field));
    }
    $("f-transaction_type").addEventListener("change", dateMark);
    $("f-description").addEventListener("input", counter);
    $("f-files").addEventListener("change", listFiles);
    $("f-description").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("request-form").requestSubmit();
    });
    $("done-new").addEventListener("click", again);
  }

  start();
})();
