// Attaching a file in the web chat: the attach button opens the file
// picker (keyboard: Tab to it, Enter or Space); the file goes to
// POST /chat/documents with the conversation's id and secret in headers
// (never the URL) and appears in the conversation as a line with its name.
// Progress and refusals are shown in the customer's language by the
// service's refusal code (i18n.js: doc_<code>). The service decides what
// the file is from its content; the checks here only save a useless upload.
//
// When a line asks for documents (chat.js: `request_documents` in its
// metadata), the upload prompt opens above the message box with that
// line's text, and the attach button is highlighted. Its buttons are in
// the tab order (choose a file; later); it stays open, across a reload,
// until the customer closes it or starts a new conversation, and says so
// once a file has gone.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const page = window.WEBCHAT_PAGE;
  const REQUEST_KEY = "webchat.upload_request";

  // {text, lastId, sent}: what the prompt shows, kept for this tab
  let request = null;
  try {
    const kept = JSON.parse(page.load("sessionStorage", REQUEST_KEY));
    if (kept && typeof kept.text === "string") request = kept;
  } catch (e) { request = null; }

  function keep() { page.save("sessionStorage", REQUEST_KEY, request ? JSON.stringify(request) : null); }

  function renderRequest() {
    const box = $("chat-upload-request");
    box.hidden = !request;
    $("chat-attach").classList.toggle("wanted", Boolean(request));
    if (!request) return;
    $("chat-upload-title").textContent = page.t(request.sent ? "uploadSentTitle" : "uploadRequestTitle");
    $("chat-upload-text").textContent = request.text;
    $("chat-upload-choose").textContent = page.t(request.sent ? "uploadMore" : "uploadChoose");
    $("chat-upload-later").textContent = page.t(request.sent ? "uploadDone" : "uploadLater");
  }

  // a line asking for documents; the parts of one message (the bot sends a
  // long text as several lines) make one prompt
  page.onDocumentsRequested = (entry) => {
    const log = page.state.log;
    const before = log.length > 1 ? log[log.length - 2] : null;
    if (request && !request.sent && before && before.id === request.lastId) request.text += "\n" + entry.text;
    else request = { text: entry.text };
    request.lastId = entry.id;
    keep();
    renderRequest();
  };
  page.onReset = () => { request = null; keep(); renderRequest(); };
  page.onLabels = renderRequest;

  function sent() {
    if (!request) return;
    request.sent = true;
    keep();
    renderRequest();
  }

  function choose() {
    const input = $("chat-file");
    input.value = "";
    input.click();
  }

  function fail(entry, code) {
    entry.state = "failed";
    entry.code = code;
    page.updateEntry(entry);
    page.showError(page.docText(code));
  }

  function upload(file) {
    const state = page.state;
    if (!state.ready || !state.sessionId || !state.sessionSecret) { page.showError(page.t("doc_not_ready")); return; }
    const entry = { id: page.newId(), kind: "customer", file: true, text: file.name, state: "uploading", percent: 0 };
    page.addEntry(entry);
    page.showError("");
    const limit = (state.config && state.config.max_document_bytes) || Infinity;
    if (file.size > limit) { fail(entry, "too_large"); return; }
    if (!file.size) { fail(entry, "empty"); return; }
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/chat/documents");
    xhr.setRequestHeader("X-Conversation-Id", state.sessionId);
    xhr.setRequestHeader("X-Conversation-Secret", state.sessionSecret);
    xhr.responseType = "json";
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      entry.percent = Math.min(99, Math.round((100 * ev.loaded) / ev.total));
      page.updateEntry(entry);
    };
    xhr.onload = () => {
      const body = xhr.response && typeof xhr.response === "object" ? xhr.response : {};
      if (xhr.status === 201 && body.document) {
        entry.text = body.document.filename;  // the name as the service keeps it
        entry.state = body.document.status === "held" ? "held" : "sent";
        entry.documentId = body.document.id;
        page.updateEntry(entry);
        sent();
        return;
      }
      const code = body.error && typeof body.error.code === "string" ? body.error.code : "failed";
      fail(entry, xhr.status === 413 ? "too_large" : code);
    };
    xhr.onerror = () => fail(entry, "failed");
    xhr.send(form);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = $("chat-file");
    let from = "chat-attach";  // where focus goes back after the picker
    $("chat-attach").addEventListener("click", () => { from = "chat-attach"; choose(); });
    $("chat-upload-choose").addEventListener("click", () => { from = "chat-upload-choose"; choose(); });
    $("chat-upload-later").addEventListener("click", () => {
      request = null;
      keep();
      renderRequest();
      $("chat-input").focus();
    });
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) upload(file);
      const back = $(from);
      (back && !back.closest("[hidden]") ? back : $("chat-attach")).focus();
    });
    renderRequest();
  });
})();
