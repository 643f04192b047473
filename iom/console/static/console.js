// The console's live parts (every page works without them):
// - the handoff badge and the tab title follow the open requests (/queue/stream);
//   on the handoff page the table is refreshed when a new request arrives;
// - the live chat page shows the person's messages as they come (/live/<id>/stream)
//   and sends the operator's messages without reloading.
// Server-sent events reconnect by themselves. No inline scripts (CSP: script-src 'self').
"use strict";

(function () {
  var baseTitle = document.title;

  function queue() {
    var nav = document.getElementById("nav-handoffs");
    var badge = document.getElementById("handoff-badge");
    if (!nav || !badge || !window.EventSource) return;
    var newest = null;
    var source = new EventSource(nav.getAttribute("data-queue"));
    source.addEventListener("queue", function (event) {
      var state = JSON.parse(event.data);
      badge.textContent = String(state.open);
      badge.hidden = state.open === 0;
      badge.setAttribute("aria-label", state.open + " open requests");
      document.title = (state.open ? "(" + state.open + ") " : "") + baseTitle;
      if (newest !== null && state.newest > newest) refreshQueue();
      newest = state.newest;
    });
  }

  function refreshQueue() {
    var rows = document.getElementById("handoff-rows");
    if (!rows) return;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var body = fresh.getElementById("handoff-rows");
        if (body) rows.replaceWith(body);
      });
  }

  function line(event) {
    var item = document.createElement("li");
    item.className = "live-" + event.kind + (event.safety ? " live-safety" : "");
    item.setAttribute("data-id", String(event.id));
    var who = document.createElement("span");
    who.className = "live-who";
    who.textContent =
      event.kind === "user" ? "Person" :
      event.kind === "operator" ? event.operator + " (team)" : "Assistant";
    var text = document.createElement("span");
    text.className = "live-text";
    text.textContent = event.text;
    item.appendChild(who);
    item.appendChild(text);
    if (event.kind === "user" && event.intent) {
      var intent = document.createElement("span");
      intent.className = "flag" + (event.safety ? " safety" : "");
      intent.textContent = event.safety ? "SAFETY: " + event.intent : event.intent;
      item.appendChild(intent);
    }
    return item;
  }

  function chat() {
    var log = document.getElementById("live-log");
    if (!log || !window.EventSource) return;
    var state = document.getElementById("live-state");
    var last = 0;
    var source = new EventSource(log.getAttribute("data-stream") + "?after=0");
    source.addEventListener("message", function (event) {
      var data = JSON.parse(event.data);
      if (data.id <= last) return;
      last = data.id;
      log.appendChild(line(data));
      log.lastChild.scrollIntoView({ block: "nearest" });
    });
    source.addEventListener("state", function (event) {
      var data = JSON.parse(event.data);
      var form = document.getElementById("live-say");
      if (!form) return;
      if (!data.held) {
        state.textContent = data.holder
          ? data.holder + " is in this chat now."
          : "This chat went back to the assistant.";
        state.hidden = false;
        form.querySelector("button").disabled = true;
      }
    });
    var form = document.getElementById("live-say");
    if (!form) return;
    var error = document.getElementById("live-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = form.querySelector("textarea");
      if (!text.value.trim()) return;
      var body = new FormData(form);
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) throw new Error(data.error || "Not sent.");
            text.value = "";
            error.hidden = true;
          });
        })
        .catch(function (problem) {
          error.textContent = problem.message || "Not sent. Try again.";
          error.hidden = false;
        });
    });
    form.querySelector("textarea").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  queue();
  chat();
})();
