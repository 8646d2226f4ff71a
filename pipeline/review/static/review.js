// archocr review: keys, decisions as JSON POSTs with the page's CSRF token. No libraries.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const reviewerInput = document.getElementById("reviewer");
  const message = document.getElementById("message");
  const article = document.getElementById("discrepancy");
  reviewerInput.value = localStorage.getItem("archocr-reviewer") || "";
  reviewerInput.addEventListener("change", () => localStorage.setItem("archocr-reviewer", reviewerInput.value.trim()));

  function say(text, kind) {
    message.textContent = text;
    message.className = kind || "";
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    return { ok: response.ok, status: response.status, data };
  }

  function undoStack() { return JSON.parse(localStorage.getItem("archocr-undo") || "[]"); }
  function setUndoStack(s) { localStorage.setItem("archocr-undo", JSON.stringify(s.slice(-200))); }

  async function decide(action) {
    const reviewer = reviewerInput.value.trim();
    if (!reviewer) { say("Type your name in the reviewer field first.", "error"); reviewerInput.focus(); return; }
    localStorage.setItem("archocr-reviewer", reviewer);
    const body = {
      id: article.dataset.id, action, version: Number(article.dataset.version), reviewer,
      comment: document.getElementById("comment").value,
    };
    if (action === "e") body.reading = document.getElementById("edit").value;
    const r = await post("/api/decide", body);
    if (!r.ok) { say(r.data.error || ("error " + r.status), r.status === 409 ? "conflict" : "error"); return; }
    const stack = undoStack(); stack.push(article.dataset.id); setUndoStack(stack);
    article.dataset.version = r.data.version;
    document.getElementById("status").textContent = r.data.status;
    say("decided: " + action, "ok");
    if (article.dataset.next) window.location.href = article.dataset.next; else window.location.reload();
  }

  async function undo() {
    const stack = undoStack();
    const id = stack.pop();
    if (!id) { say("nothing of yours to undo in this browser", "error"); return; }
    const reviewer = reviewerInput.value.trim();
    const current = await (await fetch("/api/d/" + encodeURIComponent(id), { credentials: "same-origin" })).json();
    const r = await post("/api/decide", { id, action: "undo", version: current.version, reviewer, comment: "" });
    if (!r.ok) { say(r.data.error || ("error " + r.status), r.status === 409 ? "conflict" : "error"); return; }
    setUndoStack(stack);
    window.location.href = "/d/" + encodeURIComponent(id) + window.location.search;
  }

  function openInput(id, rowId, initial) {
    if (rowId) document.getElementById(rowId).hidden = false;
    const input = document.getElementById(id);
    if (initial !== undefined && !input.value) input.value = initial;
    input.focus();
    input.select();
  }

  let pending = null; // "e" or "u": waiting for Enter in the edit / comment field
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA";
    if (typing) {
      if (event.key === "Enter" && article && pending && (target.id === "edit" || target.id === "comment")) {
        event.preventDefault();
        const action = pending; pending = null;
        decide(action);
      } else if (event.key === "Escape") { target.blur(); pending = null; }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "/") { event.preventDefault(); document.getElementById("filter-document").focus(); return; }
    if (!article) {
      if (key === "j") { const start = document.getElementById("start"); if (start) window.location.href = start.href; }
      if (key === "z") { event.preventDefault(); undo(); }
      return;
    }
    if (key === "o" || key === "t" || key === "b") { event.preventDefault(); decide(key); }
    else if (key === "e") { event.preventDefault(); pending = "e"; openInput("edit", "edit-row", article.dataset.transcript); }
    else if (key === "u") { event.preventDefault(); pending = "u"; say("say what needs a second look, then Enter"); openInput("comment"); }
    else if (key === "z") { event.preventDefault(); undo(); }
    else if (key === "j" && article.dataset.next) window.location.href = article.dataset.next;
    else if (key === "k" && article.dataset.prev) window.location.href = article.dataset.prev;
  });

  document.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      if (action === "undo") undo();
      else if (action === "e") { pending = "e"; openInput("edit", "edit-row", article.dataset.transcript); }
      else if (action === "u") { pending = "u"; openInput("comment"); }
      else decide(action);
    });
  });

  document.getElementById("export").addEventListener("click", async () => {
    say("exporting ...");
    const r = await post("/api/export", {});
    say(r.ok ? "exported " + r.data.pages + " pages, " + r.data.errata + " errata, " + r.data.decisions +
      " decisions to " + r.data.folder : (r.data.error || "export failed"), r.ok ? "ok" : "error");
  });
})();
