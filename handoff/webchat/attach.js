// Attaching a file in the web chat: the attach button opens the file
// picker (keyboard: Tab to it, Enter or Space); the file goes to
// POST /chat/documents with the conversation's id and secret in headers
// (never the URL) and appears in the conversation as a line with its name.
// Progress and refusals are shown in the customer's language by the
// service's refusal code (i18n.js: doc_<code>). The service decides what
// the file is from its content; the checks here only save a useless upload.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const page = window.WEBCHAT_PAGE;

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
    $("chat-attach").addEventListener("click", () => { input.value = ""; input.click(); });
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) upload(file);
      $("chat-attach").focus();
    });
  });
})();
