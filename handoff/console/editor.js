// The editors' page: the review inbox, training and publishing, figures.
// Customer text (the inbox's masked messages and their context) is
// untrusted: it is written with textContent only, never as markup.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const LABELS = { en: Object.assign({}, window.HANDOFF_I18N.en, window.HANDOFF_EDITOR_I18N.en),
                   tr: Object.assign({}, window.HANDOFF_I18N.tr, window.HANDOFF_EDITOR_I18N.tr) };
  const state = {
    lang: localStorage.getItem("handoff.lang") || "en", me: null, tab: "inbox", targets: null, inbox: null,
    models: null, poll: null, figuresLang: "", figures: null, decide: null, patchUrl: null,
  };
  const EDITOR_ROLES = ["editor", "supervisor", "admin"];
  const REASONS = ["fallback", "low_confidence", "faq_not_solved", "person_after_answer", "out_of_scope"];
  const CHARTS = ["containment", "fallback", "deflection", "handoffs"];
  const SCORE_SETS = ["tr", "en", "blind_tr", "blind_en"];

  const t = (key) => (LABELS[state.lang] && LABELS[state.lang][key]) || LABELS.en[key] || key;
  // a label the page has, else the service's own word (a stage, a figure's key)
  const known = (key, raw) => (LABELS.en[key] ? t(key) : raw);
  // {count} of 1 takes the key's "_one" label when it has one
  const fill = (key, values) => Object.keys(values).reduce((s, k) => s.split("{" + k + "}").join(String(values[k])),
    values.count === 1 && LABELS.en[key + "_one"] ? t(key + "_one") : t(key));

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function button(text, cls, onClick) {
    const b = el("button", text, cls);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  const percent = (v) => (v === null || v === undefined ? t("none") : Math.round(v * 100) + "%");
  const when = (iso) => (iso ? new Date(iso).toLocaleString(state.lang === "tr" ? "tr-TR" : "en-GB") : t("none"));

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((node) => { node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel)); });
    document.title = t("editorTitle");
    $("lang-toggle").textContent = state.lang === "en" ? "TR" : "EN";
    $("lang-toggle").setAttribute("aria-label", t("switchLanguage"));
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && path !== "/api/v1/auth/login") showLogin();
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.status = res.status; err.code = data && data.error && data.error.code;
      err.retryAfter = res.headers.get("Retry-After");
      throw err;
    }
    return data;
  }

  // the service's message, or the page's own words for the codes it knows
  function errorText(e) {
    const key = "error_" + e.code;
    const known = LABELS.en[key] && e.code !== "forbidden" && e.code !== "conflict";
    return (known ? t(key) : e.message || t("error_generic")).replace("{seconds}", e.retryAfter || "?");
  }

  // this deployment does not let editors write, train or publish (409 not_set_up)
  const notSetUp = (e) => e.code === "not_set_up";

  // ---- who is here ---------------------------------------------------------

  function showLogin() {
    stopPolling();
    state.me = null;
    $("login-view").hidden = false; $("editor-view").hidden = true; $("forbidden-view").hidden = true;
    $("logout").hidden = true; $("console-link").hidden = true; $("whoami").textContent = "";
  }

  function showForbidden(agent) {
    state.me = agent;
    $("login-view").hidden = true; $("editor-view").hidden = true; $("forbidden-view").hidden = false;
    $("logout").hidden = false; $("console-link").hidden = true;
    $("whoami").textContent = agent.display_name;
  }

  async function showEditor(agent) {
    if (!EDITOR_ROLES.includes(agent.role)) { showForbidden(agent); return; }
    state.me = agent;
    $("login-view").hidden = true; $("forbidden-view").hidden = true; $("editor-view").hidden = false;
    $("logout").hidden = false;
    // supervisors and admins also work tickets: the way back to the agent console
    $("console-link").hidden = agent.role === "editor";
    $("whoami").textContent = agent.display_name + " (" + t("role_" + agent.role) + ")";
    const hash = location.hash.replace("#", "");
    await showTab(["inbox", "models", "figures"].includes(hash) ? hash : "inbox");
  }

  async function showTab(name) {
    state.tab = name;
    document.querySelectorAll(".tab").forEach((tab) => {
      const on = tab.id === "tab-" + name;
      tab.classList.toggle("active", on);
      if (on) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
      $(tab.dataset.panel).hidden = !on;
    });
    if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
    if (name !== "models") stopPolling();
    try {
      if (name === "inbox") { await loadTargets(); await loadInbox(); }
      if (name === "models") await loadModels();
      if (name === "figures") { await loadTargets(); await loadFigures(); }
    } catch (e) {
      if (e.status === 403) showForbidden(state.me);
      else if (e.status !== 401) $(name === "inbox" ? "inbox-error" : name === "models" ? "train-error" : "figures-error").textContent = errorText(e);
    }
  }

  // ---- review inbox --------------------------------------------------------

  async function loadTargets() {
    if (!state.targets) state.targets = await api("GET", "/api/v1/editor/targets");
  }

  async function loadInbox() {
    $("inbox-error").textContent = "";
    const params = new URLSearchParams();
    if ($("inbox-language").value) params.set("language", $("inbox-language").value);
    if ($("inbox-reason").value) params.set("reason", $("inbox-reason").value);
    const query = params.toString();
    state.inbox = await api("GET", "/api/v1/editor/inbox" + (query ? "?" + query : ""));
    renderInbox();
  }

  function predictedText(p) {
    if (!p || (!p.intent && !p.faq)) return t("none");
    const name = p.faq || p.intent;
    // the FAQ intent's confidence sums its answers' and can pass 1: shown as at most 100 %
    return p.confidence === null || p.confidence === undefined ? name : name + " (" + percent(Math.min(1, p.confidence)) + ")";
  }

  function renderInbox() {
    const data = state.inbox;
    if (!data) return;
    $("inbox-total").textContent = fill("inboxTotal", { items: data.total_items, groups: data.groups.length });
    $("groups").replaceChildren(...data.groups.map(groupItem));
    $("inbox-empty").hidden = data.groups.length > 0;
  }

  function reasonBadges(reasons) {
    const box = el("span", null, "reasons");
    REASONS.filter((r) => reasons && reasons[r]).forEach((r) => {
      const b = el("span", t("reason_" + r) + " " + reasons[r], "badge reason");
      b.dataset.reason = r;
      box.appendChild(b);
    });
    return box;
  }

  function weeksTable(weeks) {
    const table = el("table", null, "weeks");
    const caption = el("caption", t("perWeek"), "visually-hidden");
    const head = el("tr"); const row = el("tr");
    weeks.forEach((w) => { head.appendChild(el("th", w.week.replace(/^\d{4}-/, ""))); row.appendChild(el("td", w.count)); });
    const thead = el("thead"); thead.appendChild(head);
    const tbody = el("tbody"); tbody.appendChild(row);
    table.append(caption, thead, tbody);
    return table;
  }

  function groupItem(group) {
    const li = el("li", null, "group inbox-group card-box");
    li.dataset.group = group.id;
    const head = el("div", null, "group-head");
    const title = el("h2", null, "group-label");
    title.appendChild(el("span", group.label, "quote"));
    head.appendChild(title);
    const count = el("span", fill("groupCount", { count: group.count, conversations: group.conversations }), "badge count");
    head.appendChild(count);
    if (group.language) head.appendChild(el("span", t("lang_" + group.language), "badge lang"));
    li.appendChild(head);

    const facts = el("p", null, "facts");
    facts.appendChild(el("span", t("predicted") + ": " + predictedText(group.predicted)));
    facts.appendChild(reasonBadges(group.reasons));
    li.appendChild(facts);
    if (group.weeks && group.weeks.length) li.appendChild(weeksTable(group.weeks));

    const actions = el("div", null, "row");
    const keys = group.keys || group.items.map((i) => i.key);
    const whole = button(fill("decideGroup", { count: keys.length }), "decide decide-group", (ev) =>
      openDecide({ keys, subject: group.label, language: group.language || null, opener: ev.currentTarget }));
    actions.appendChild(whole);
    li.appendChild(actions);

    const details = el("details", null, "items");
    details.appendChild(el("summary", fill("showItems", { count: group.items.length })));
    const list = el("ul", null, "plain");
    group.items.forEach((item) => list.appendChild(itemView(item, group.items.length === 1)));
    details.appendChild(list);
    // a group of one shows its message right away
    details.open = group.items.length === 1;
    li.appendChild(details);
    return li;
  }

  // single: the group's only message (the group's button decides it)
  function itemView(item, single) {
    const li = el("li", null, "item");
    li.dataset.key = item.key;
    const line = el("p", null, "item-line");
    line.appendChild(el("span", item.text, "quote item-text"));
    li.appendChild(line);
    const facts = el("p", null, "facts");
    facts.appendChild(el("span", t("predicted") + ": " + predictedText(item.predicted)));
    facts.appendChild(el("span", t("reason_" + item.reason), "badge reason"));
    facts.appendChild(el("span", t("ending_" + item.ending), "badge ending"));
    if (item.language) facts.appendChild(el("span", t("lang_" + item.language), "badge lang"));
    facts.appendChild(el("span", when(item.at), "muted"));
    li.appendChild(facts);
    if (item.context && item.context.length) {
      const ctx = el("ol", null, "context");
      ctx.setAttribute("aria-label", t("context"));
      item.context.forEach((turn) => {
        const row = el("li", null, turn.kind + (turn.current ? " current" : ""));
        row.appendChild(el("span", t("sender_" + (turn.kind === "notice" ? "system" : turn.kind)), "who"));
        row.appendChild(el("span", turn.text, "text"));
        ctx.appendChild(row);
      });
      li.appendChild(ctx);
    }
    if (!single) li.appendChild(button(t("decideOne"), "decide decide-item secondary", (ev) =>
      openDecide({ keys: [item.key], subject: item.text, language: item.language || null, opener: ev.currentTarget })));
    return li;
  }

  // ---- the decision dialog -------------------------------------------------

  function options(select, items, selected) {
    select.replaceChildren(...items.map(([value, text]) => { const o = el("option", text); o.value = value; return o; }));
    if (selected) select.value = selected;
  }

  function fillTargets(ctx) {
    const tg = state.targets || { topics: [] };
    options($("new-faq-topic"), [["", t("noTopic")]].concat(tg.topics.map((tp) => [tp.id, (tp.name && tp.name[state.lang]) || tp.id])));
    fillTargetList(ctx.predicted);
  }

  // the target list follows the kind: the intents or the FAQs; the bot's guess preselected
  function fillTargetList(predicted) {
    const tg = state.targets || { intents: [], faqs: [] };
    const kind = $("decision-kind").value;
    const select = $("decision-target");
    if (kind === "intent") options(select, tg.intents.map((i) => [i, i]));
    else if (kind === "faq") options(select, tg.faqs.map((f) => [f.id, f.id]));
    else select.replaceChildren();
    $("decision-target-label").textContent = t(kind === "faq" ? "decision_faq" : "decision_intent");
    const p = predicted || (state.decide && state.decide.predicted);
    if (p && kind === "intent" && p.intent && tg.intents.includes(p.intent)) select.value = p.intent;
    if (p && kind === "faq" && p.faq) select.value = p.faq.replace(/^faq\//, "");
    showFaqAnswer();
  }

  function showFaqAnswer() {
    const tg = state.targets || { faqs: [] };
    const faq = $("decision-kind").value === "faq" && tg.faqs.find((f) => f.id === $("decision-target").value);
    $("decide-faq-answer").textContent = faq && faq.answer ? (faq.answer[state.lang] || faq.answer.en || "") : "";
  }

  function chosenDecision() {
    return $("decision-kind").value || null;
  }

  function showChoiceDetails() {
    const chosen = chosenDecision();
    document.querySelectorAll("#decide-form .choice-detail").forEach((box) => { box.hidden = !chosen || !box.dataset.for.split(" ").includes(chosen); });
  }

  function openDecide(ctx) {
    const group = state.inbox && state.inbox.groups.find((g) => g.items.some((i) => i.key === ctx.keys[0]));
    ctx.predicted = ctx.keys.length === 1 && group ? (group.items.find((i) => i.key === ctx.keys[0]) || {}).predicted : group && group.predicted;
    state.decide = ctx;
    $("decide-form").reset();
    $("decide-error").textContent = ""; $("decide-status").textContent = "";
    $("decide-subject").textContent = ctx.keys.length === 1 ? ctx.subject : fill("decideSubjectGroup", { count: ctx.keys.length, label: ctx.subject });
    fillTargets(ctx);
    showChoiceDetails();
    const writes = !state.targets || state.targets.writes;
    $("decide-error").textContent = writes ? "" : t("writesOff");
    $("decide-dialog").showModal();
    $("decision-kind").focus();
  }

  function closeDecide() {
    $("decide-dialog").close();
  }

  function decisionBody() {
    const decision = chosenDecision();
    if (!decision) throw new Error(t("chooseDecision"));
    const body = { keys: state.decide.keys, decision, target: null, new_faq: null, language: state.decide.language };
    if (decision === "intent" || decision === "faq") body.target = $("decision-target").value || null;
    if ((decision === "intent" || decision === "faq") && !body.target) throw new Error(t("chooseTarget"));
    if (decision === "new_faq") {
      const id = $("new-faq-id").value.trim();
      const tr = $("new-faq-tr").value.trim();
      const en = $("new-faq-en").value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(id)) throw new Error(t("newFaqIdInvalid"));
      if (!tr || !en) throw new Error(t("answersRequired"));
      body.target = id;
      body.new_faq = { id, answer_tr: tr, answer_en: en };
      if ($("new-faq-topic").value) body.new_faq.topic = $("new-faq-topic").value;
    }
    return body;
  }

  async function submitDecide(ev) {
    ev.preventDefault();
    $("decide-error").textContent = "";
    let body;
    try { body = decisionBody(); } catch (e) { $("decide-error").textContent = e.message; return; }
    $("decision-submit").disabled = true;
    // a change to the training data is checked by Rasa before it is written: seconds
    $("decide-status").textContent = ["intent", "faq", "new_faq"].includes(body.decision) ? t("checking") : t("saving");
    try {
      const answer = await api("POST", "/api/v1/editor/decisions", body);
      closeDecide();
      renderChange(answer, body);
      // the inbox's data is the server's: decided lines leave it
      state.targets = null;
      await loadTargets();
      await loadInbox();
      $("decision-result").focus();
    } catch (e) {
      $("decide-error").textContent = notSetUp(e) ? t("writesOff") : errorText(e);
    } finally {
      $("decision-submit").disabled = false;
      $("decide-status").textContent = "";
    }
  }

  function today() {
    const d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // why an example was not added: the page's words for the service's code
  // (handoff/editor/project.py), else the service's own
  function skipText(skipped) {
    if (!skipped.code || !LABELS.en["skip_" + skipped.code]) return skipped.reason;
    const owner = /of (\S+)$/.exec(skipped.reason || "");
    return fill("skip_" + skipped.code, { owner: owner ? owner[1] : "?" });
  }

  function renderChange(answer, body) {
    const report = $("decision-result");
    report.hidden = false;
    report.tabIndex = -1;
    const change = answer.change;
    const decision = t("decision_" + body.decision) + (body.target ? " — " + body.target : "");
    const problems = (change && change.problems) || [];
    const errors = problems.filter((p) => p.level === "error");
    // a change with an error is not written and nothing is decided (handoff/editor/desk.py)
    const refused = !!change && (change.written === false || errors.length > 0);
    $("change-summary").textContent = refused ? t("notSaved")
      : answer.decided === 0 ? t("alreadyDecided") : fill("decidedCount", { count: answer.decided, decision });
    report.dataset.state = refused ? "error" : !change ? "none" : problems.length ? "warning" : "ok";
    const problemItem = (p) => {
      const li = el("li", null, "problem " + p.level);
      li.appendChild(el("strong", t(p.level === "error" ? "problemError" : "problemWarning") + ": "));
      li.appendChild(el("span", p.message));
      if (p.file) li.appendChild(el("span", " (" + p.file + ")", "muted"));
      return li;
    };
    // errors first and all shown; many notes fold away behind their count
    const warnings = problems.filter((p) => p.level !== "error");
    const shown = errors.concat(warnings.length > 3 ? [] : warnings).map(problemItem);
    if (warnings.length > 3) {
      const li = el("li", null, "problem-fold");
      const fold = el("details");
      fold.appendChild(el("summary", fill("notesCount", { count: warnings.length })));
      const list = el("ul", null, "problems");
      list.replaceChildren(...warnings.map(problemItem));
      fold.appendChild(list);
      li.appendChild(fold);
      shown.push(li);
    }
    $("change-problems").replaceChildren(...shown);
    const added = (change && change.added) || [];
    const skipped = (change && change.skipped) || [];
    $("change-added-title").hidden = !added.length;
    $("change-added-title").textContent = t(refused ? "wouldAdd" : "added");
    $("change-added").replaceChildren(...added.map((a) => {
      const li = el("li");
      li.appendChild(el("span", a.text, "quote"));
      li.appendChild(el("span", " → " + a.target + (a.language ? " (" + t("lang_" + a.language) + ")" : ""), "muted"));
      return li;
    }));
    $("change-skipped-title").hidden = !skipped.length;
    $("change-skipped").replaceChildren(...skipped.map((s) => {
      const li = el("li");
      li.appendChild(el("span", s.text, "quote"));
      li.appendChild(el("span", " — " + skipText(s), "muted"));
      return li;
    }));
    $("change-files").textContent = change && change.files && change.files.length ? t("files") + ": " + change.files.join(", ") : "";
    const where = $("change-location");
    where.hidden = true;
    if (change && change.mode === "branch" && (change.branch || change.commit)) {
      where.hidden = false;
      where.replaceChildren(el("span", t("savedOnBranch") + " "), el("code", change.branch || "?"),
        el("span", " · " + t("commit") + " "), el("code", (change.commit || "?").slice(0, 12)));
    } else if (change && !refused && change.mode === "files" && change.files && change.files.length) {
      where.hidden = false;
      where.textContent = t("savedInFiles");
    }
    const download = $("change-download");
    download.hidden = true;
    if (state.patchUrl) { URL.revokeObjectURL(state.patchUrl); state.patchUrl = null; }
    if (change && !refused && change.mode === "patch" && change.patch) {
      state.patchUrl = URL.createObjectURL(new Blob([change.patch], { type: "text/x-diff" }));
      const link = el("a", t("downloadPatch"), "button-link");
      link.id = "patch-download";
      link.href = state.patchUrl;
      link.download = "editor-" + today() + ".patch";
      download.replaceChildren(link, el("span", " " + t("patchHint"), "muted"));
      download.hidden = false;
    }
  }

  // ---- training and publishing ---------------------------------------------

  function stopPolling() {
    if (state.poll) { clearTimeout(state.poll); state.poll = null; }
  }

  async function loadModels() {
    $("train-error").textContent = "";
    await loadTargets();
    state.models = await api("GET", "/api/v1/editor/models");
    renderModels();
    stopPolling();
    if (state.models.training && state.tab === "models") {
      state.poll = setTimeout(() => loadModels().catch((e) => { $("train-error").textContent = errorText(e); }), 1000);
    }
  }

  // the model to judge: the newest one trained after the live one went live
  function candidateModel(data) {
    if (data.training) return data.training;
    const live = data.live;
    const newer = data.models.filter((m) => ["ready", "failed"].includes(m.status) && (!live || m.id > live.id));
    return newer.sort((a, b) => b.id - a.id)[0] || null;
  }

  // the one a restore brings back: the model that was live before the live one
  // (the last one published; the model Rasa started with was never published)
  function previousModel(data) {
    const retired = data.models.filter((m) => m.status === "retired");
    const order = (m) => (m.published_at || "") + "#" + String(m.id).padStart(12, "0");
    return retired.sort((a, b) => (order(a) < order(b) ? 1 : -1))[0] || null;
  }

  function renderModels() {
    const data = state.models;
    const training = data.training;
    const trains = data.trains !== undefined ? data.trains : !state.targets || state.targets.trains;
    $("train").disabled = !!training || !trains;
    $("train-note").textContent = !trains ? t("trainingOff") : training ? fill("trainingBy", { name: training.started_by }) : "";
    $("training-progress").hidden = !training;
    if (training) {
      $("train-progress").value = training.progress || 0;
      $("train-progress").textContent = percent(training.progress || 0);
      $("train-stage").textContent = t("training") + (training.stage && training.stage !== "training" ? " — " + known("stage_" + training.stage, training.stage) : "") + " · " + percent(training.progress || 0);
    }
    const live = data.live;
    // the model Rasa started with was published by no editor
    const startedWith = live && !live.published_by && live.started_by === "deployment";
    $("live-model").textContent = !live ? t("noLiveModel")
      : startedWith ? fill("liveModelStarted", { id: live.id, date: when(live.finished_at) })
      : fill("liveModel", { id: live.id, name: live.published_by || live.started_by, date: when(live.published_at || live.finished_at) });
    const cand = candidateModel(data);
    $("comparison").hidden = !cand || cand.status === "training";
    if (cand && cand.status !== "training") renderCandidate(cand);
    const previous = previousModel(data);
    $("models").querySelector("tbody").replaceChildren(...data.models.map((m) => modelRow(m, previous)));
    $("models-empty").hidden = data.models.length > 0;
    $("models").closest(".table-wrap").hidden = data.models.length === 0;
  }

  function scoreCell(set, which) {
    return set && set[which] !== undefined && set[which] !== null ? percent(set[which]) : t("none");
  }

  function renderCandidate(m) {
    $("candidate-id").textContent = "#" + m.id + " · " + t("status_" + m.status);
    const scores = m.scores || {};
    const cand = scores.candidate || {}; const live = scores.live || {};
    $("scores").querySelector("tbody").replaceChildren(...SCORE_SETS.filter((s) => cand[s] || live[s]).map((s) => {
      const tr = el("tr");
      tr.dataset.set = s;
      tr.appendChild(el("th", t("set_" + s)));
      const cf = cand[s] && cand[s].f1; const lf = live[s] && live[s].f1;
      const better = cf !== undefined && lf !== undefined && cf !== null && lf !== null ? (cf > lf ? "better" : cf < lf ? "worse" : "") : "";
      // better or worse than the live model: an arrow as well as a colour
      tr.appendChild(el("td", scoreCell(cand[s], "f1") + (better === "better" ? " ▲" : better === "worse" ? " ▼" : ""), better));
      tr.appendChild(el("td", scoreCell(live[s], "f1")));
      tr.appendChild(el("td", scoreCell(cand[s], "accuracy")));
      tr.appendChild(el("td", scoreCell(live[s], "accuracy")));
      tr.appendChild(el("td", (cand[s] || live[s]).count));
      tr.firstChild.setAttribute("scope", "row");
      return tr;
    }));
    const understood = (m.understood && m.understood.candidate) || [];
    const before = new Set(((m.understood && m.understood.live) || []).map((u) => u.key));
    $("understood").replaceChildren(...understood.map((u) => {
      const li = el("li");
      li.appendChild(el("span", u.text, "quote"));
      li.appendChild(el("span", " → " + u.expected, "muted"));
      if (!before.has(u.key)) li.appendChild(el("span", t("newlyUnderstood"), "badge new"));
      return li;
    }));
    $("understood-none").hidden = understood.length > 0;
    const reasons = m.status === "failed" ? [m.error || t("status_failed")] : refusalTexts(m);
    if (m.status === "ready" && state.models && state.models.publishes === false) reasons.push(t("publishingOff"));
    $("refusal").replaceChildren(...reasons.map((r) => {
      const li = el("li", null, "problem error");
      li.appendChild(el("strong", t(m.status === "failed" ? "trainingFailed" : "notPublishable") + ": "));
      li.appendChild(el("span", r));
      return li;
    }));
    const publish = $("publish");
    publish.disabled = !m.publishable || m.status !== "ready" || (state.models && state.models.publishes === false);
    publish.dataset.model = m.id;
    if (publish.disabled) publish.setAttribute("aria-describedby", "refusal"); else publish.removeAttribute("aria-describedby");
  }

  // why a model cannot be published, in the page's language (the service's
  // refusal_codes; its English sentences when a code is not known here)
  function refusalTexts(m) {
    const codes = m.refusal_codes || [];
    if (!codes.length || codes.some((c) => !LABELS.en["refuse_" + c.code])) return (m.refusal || []).slice();
    const pct = (v) => (v === undefined ? "" : (v * 100).toFixed(1) + "%");
    return codes.map((c) => fill("refuse_" + c.code, {
      set: c.set ? t("set_" + c.set) : "", candidate: pct(c.candidate), live: pct(c.live), margin: pct(c.margin),
    }));
  }

  function modelRow(m, previous) {
    const tr = el("tr", null, "model " + m.status);
    tr.dataset.model = m.id;
    tr.appendChild(el("td", m.id));
    tr.appendChild(el("td", t("status_" + m.status) + (m.status === "training" ? " " + percent(m.progress || 0) : "")));
    tr.appendChild(el("td", (m.started_by === "deployment" ? t("startedWith") : m.started_by) + " · " + when(m.started_at)));
    tr.appendChild(el("td", when(m.finished_at)));
    tr.appendChild(el("td", m.published_at ? (m.published_by || "?") + " · " + when(m.published_at) : t("none")));
    const cell = el("td");
    if (previous && m.id === previous.id) {
      cell.appendChild(button(t("restore"), "secondary restore", () => restore(m)));
    }
    tr.appendChild(cell);
    return tr;
  }

  function replicasText(answer) {
    const replicas = (answer && answer.replicas) || [];
    const failed = replicas.filter((r) => !r.ok);
    if (!replicas.length) return "";
    if (!failed.length) return " " + fill("replicasOk", { count: replicas.length });
    return " " + fill("replicasFailed", { failed: failed.length, count: replicas.length }) + " " + failed.map((r) => r.url + ": " + r.detail).join("; ");
  }

  async function publish() {
    const id = $("publish").dataset.model;
    $("train-error").textContent = ""; $("publish-result").textContent = "";
    $("publish").disabled = true;
    try {
      const answer = await api("POST", "/api/v1/editor/models/" + encodeURIComponent(id) + "/publish");
      $("publish-result").textContent = fill("published", { id }) + replicasText(answer);
    } catch (e) {
      // 409: why (worse than the live model, not ready), in the page's words when known
      $("train-error").textContent = errorText(e);
    }
    await loadModels().catch(() => {});
  }

  function confirmDialog(text) {
    return new Promise((resolve) => {
      const dialog = $("confirm-dialog");
      $("confirm-text").textContent = text;
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.showModal();
      $("confirm-no").focus();
    });
  }

  async function restore(m) {
    if (!(await confirmDialog(fill("confirmRestore", { id: m.id, date: when(m.published_at) })))) return;
    $("train-error").textContent = ""; $("publish-result").textContent = "";
    try {
      const answer = await api("POST", "/api/v1/editor/models/" + encodeURIComponent(m.id) + "/restore");
      $("publish-result").textContent = fill("restored", { id: m.id }) + replicasText(answer);
    } catch (e) {
      $("train-error").textContent = errorText(e);
    }
    await loadModels().catch(() => {});
  }

  async function train() {
    $("train-error").textContent = ""; $("publish-result").textContent = "";
    $("train").disabled = true;
    try {
      await api("POST", "/api/v1/editor/train");
    } catch (e) {
      $("train-error").textContent = notSetUp(e) ? t("trainingOff") : errorText(e);
    }
    await loadModels().catch((e) => { $("train-error").textContent = errorText(e); });
  }

  // ---- figures -------------------------------------------------------------

  // the charts of one language's conversations (or all), their words in the page's language
  function renderCharts() {
    const language = state.figuresLang;
    document.querySelectorAll(".figures-lang").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.language === (language || ""))));
    CHARTS.forEach((name) => {
      const img = $("chart-" + name);
      const src = "/api/v1/editor/charts/" + name + ".svg?" + (language ? "language=" + language + "&" : "") + "lang=" + state.lang + "&weeks=8";
      if (img.getAttribute("src") !== src) img.src = src;
      img.alt = fill("chartAlt", { chart: t("chart_" + name), language: language ? t("lang_" + language) : t("allConversations") });
    });
  }

  async function loadFigures() {
    $("figures-error").textContent = "";
    renderCharts();
    state.figures = await api("GET", "/api/v1/editor/figures?weeks=8");
    renderFigures();
  }

  // a table with a caption; cells are text (ids and labels may be customers' words)
  function table(caption, headers, rows, cls) {
    const wrap = el("div", null, "table-wrap");
    const tbl = el("table", null, "figures" + (cls ? " " + cls : ""));
    tbl.appendChild(el("caption", caption));
    const head = el("tr");
    headers.forEach((h) => { const th = el("th", h); th.scope = "col"; head.appendChild(th); });
    const thead = el("thead"); thead.appendChild(head);
    const tbody = el("tbody");
    rows.forEach((cells) => { const tr = el("tr"); cells.forEach((c) => tr.appendChild(el("td", c))); tbody.appendChild(tr); });
    if (!rows.length) { const tr = el("tr"); const td = el("td", t("noData"), "muted"); td.colSpan = headers.length; tr.appendChild(td); tbody.appendChild(tr); }
    tbl.append(thead, tbody);
    wrap.appendChild(tbl);
    return wrap;
  }

  const ratio = (part, whole) => (whole ? part / whole : null);
  const share = (part, whole) => (whole ? percent(part / whole) + " (" + part + "/" + whole + ")" : t("none"));
  const WEEK_SUMS = ["conversations", "contained", "customer_lines", "fallback_lines", "faq_answers", "faq_solved", "handoffs"];

  // the chosen language's block of the figures (handoff/editor/figures.py), or
  // every language's added up
  function figuresBlock(data, language) {
    const blocks = data.languages || [];
    if (language) return blocks.find((b) => b.language === language) || { language, weeks: [], faqs: [], handoffs: { by_topic: [], by_department: [] } };
    const weeks = (data.weeks || []).map((week) => {
      const row = { week };
      WEEK_SUMS.forEach((k) => { row[k] = 0; });
      blocks.forEach((b) => { const w = (b.weeks || []).find((x) => x.week === week); if (w) WEEK_SUMS.forEach((k) => { row[k] += w[k] || 0; }); });
      return row;
    });
    const faqs = {};
    blocks.forEach((b) => (b.faqs || []).forEach((f) => {
      const sum = faqs[f.faq] || (faqs[f.faq] = { faq: f.faq, answers: 0, solved: 0 });
      sum.answers += f.answers; sum.solved += f.solved;
    }));
    return { language: null, weeks, faqs: Object.values(faqs).sort((a, b) => b.answers - a.answers), handoffs: data.handoffs || { by_topic: [], by_department: [] } };
  }

  function topicName(id) {
    const topic = state.targets && state.targets.topics.find((tp) => tp.id === id);
    return topic && topic.name ? topic.name[state.lang] || id : id;
  }

  function renderFigures() {
    const data = state.figures;
    if (!data) return;
    const language = state.figuresLang;
    const block = figuresBlock(data, language);
    const weeks = block.weeks || [];
    const tables = [
      table(t("figuresWeekly"), [t("week"), t("conversations"), t("colContained"), t("colFallback"), t("colDeflection"), t("handoffs")],
        weeks.map((w) => [w.week.replace(/^(\d{4})-W/, "W"), String(w.conversations), share(w.contained, w.conversations), share(w.fallback_lines, w.customer_lines),
          share(w.faq_solved, w.faq_answers), String(w.handoffs)]), "weekly"),
      table(t("figuresFaqs"), [t("faq"), t("faqAnswers"), t("faqSolved"), t("rate")],
        (block.faqs || []).map((f) => [f.faq, String(f.answers), String(f.solved), percent(ratio(f.solved, f.answers))]), "faqs"),
      table(t("figuresTopics"), [t("topic"), t("handoffs")], ((block.handoffs || {}).by_topic || []).map((x) => [topicName(x.id), String(x.count)]), "topics"),
      table(t("figuresDepartments"), [t("department"), t("handoffs")], ((block.handoffs || {}).by_department || []).map((x) => [x.id, String(x.count)]), "departments"),
      table(t("figuresGroups"), [t("message"), t("language"), t("messages")],
        (data.top_groups || []).filter((g) => !language || g.language === language).map((g) => [g.label, g.language ? t("lang_" + g.language) : t("none"), String(g.count)]), "groups-top"),
    ];
    $("figures-tables").replaceChildren(...tables);
  }

  // ---- wiring --------------------------------------------------------------

  function relabel() {
    applyLabels();
    if (state.me && EDITOR_ROLES.includes(state.me.role)) $("whoami").textContent = state.me.display_name + " (" + t("role_" + state.me.role) + ")";
    renderInbox();
    if (state.models) renderModels();
    if (state.tab === "figures") { renderCharts(); renderFigures(); }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    applyLabels();
    $("lang-toggle").addEventListener("click", () => {
      state.lang = state.lang === "en" ? "tr" : "en";
      localStorage.setItem("handoff.lang", state.lang);
      relabel();
    });
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("login-error").textContent = "";
      try {
        const data = await api("POST", "/api/v1/auth/login", { username: $("login-username").value, password: $("login-password").value });
        $("login-password").value = "";
        await showEditor(data.agent);
      } catch (e) { $("login-error").textContent = t("loginFailed") + ": " + errorText(e); }
    });
    $("logout").addEventListener("click", async () => { await api("POST", "/api/v1/auth/logout").catch(() => {}); showLogin(); });
    document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => showTab(tab.id.replace("tab-", ""))));
    $("inbox-language").addEventListener("change", () => loadInbox().catch((e) => { $("inbox-error").textContent = errorText(e); }));
    $("inbox-reason").addEventListener("change", () => loadInbox().catch((e) => { $("inbox-error").textContent = errorText(e); }));
    $("inbox-refresh").addEventListener("click", () => loadInbox().catch((e) => { $("inbox-error").textContent = errorText(e); }));
    $("decision-kind").addEventListener("change", () => { fillTargetList(); showChoiceDetails(); });
    $("decision-target").addEventListener("change", showFaqAnswer);
    $("decide-form").addEventListener("submit", submitDecide);
    $("decide-cancel").addEventListener("click", closeDecide);
    // Escape closes the dialog (the browser's own); focus goes back to the button that opened it
    $("decide-dialog").addEventListener("close", () => { if (state.decide && state.decide.opener && state.decide.opener.isConnected) state.decide.opener.focus(); });
    $("train").addEventListener("click", train);
    $("publish").addEventListener("click", publish);
    document.querySelectorAll(".figures-lang").forEach((b) => b.addEventListener("click", () => {
      state.figuresLang = b.dataset.language;
      renderCharts(); renderFigures();
    }));
    try { const me = await api("GET", "/api/v1/auth/me"); await showEditor(me.agent); } catch (e) { if (e.status !== 401) showLogin(); }
  });
})();
