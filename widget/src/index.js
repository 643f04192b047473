// IOM Poland chat widget: one script tag, talks to Rasa's socket.io channel.
//
//   <script src="/static/iom-chat.js" data-socket-url="http://localhost:5005"
//           data-language="pl" data-privacy-url="/privacy/" defer></script>
//
// The conversation is kept in sessionStorage only (never localStorage or cookies),
// so it ends with the tab. Quick exit (button, or Esc twice) wipes it and replaces the
// page with a neutral site.
import { io } from "socket.io-client";
import { LANGUAGE_NAMES, LANGUAGES, pick, supported } from "./i18n.js";
import KEYLINES from "./keylines.json";
import { renderMarkdown } from "./markdown.js";

const KEY = "iomChat";
const MAX_CHARS = 2000;
const OFFLINE_AFTER_MS = 6000;
const TYPING_TIMEOUT_MS = 20000;
const ESC_WINDOW_MS = 1500;

function readConfig() {
  const script =
    document.currentScript || document.querySelector("script[data-socket-url]");
  const data = (script && script.dataset) || {};
  return {
    socketUrl:
      data.socketUrl || `${location.protocol}//${location.hostname}:5005`,
    socketPath: data.socketPath || "/socket.io/",
    language: supported(data.language || document.documentElement.lang),
    exitUrl: data.exitUrl || "https://www.google.com/",
    privacyUrl: data.privacyUrl || "/privacy/",
    startOpen: data.open === "true",
  };
}

function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- storage: one JSON object in sessionStorage, written only once the chat starts
function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY)) || null;
  } catch (_) {
    return null;
  }
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

class ChatWidget {
  constructor(config) {
    this.config = config;
    const saved = load();
    this.state = saved || {
      sessionId: newId(),
      language: config.language,
      messages: [],
      pending: [],
      awaiting: [],
      open: config.startOpen,
    };
    if (saved) this.state.language = supported(saved.language); // only a language we know
    if (!Array.isArray(this.state.awaiting)) this.state.awaiting = [];
    this.started = Boolean(saved);
    this.socket = null;
    this.confirmed = false;
    this.offlineTimer = null;
    this.typingTimer = null;
    this.lastEsc = 0;
    this.build();
    this.renderAll();
    document.addEventListener("keydown", (event) => this.onKey(event));
    if (this.state.open) this.openPanel(false);
  }

  get t() {
    return pick(this.state.language);
  }

  save() {
    if (!this.started) return;
    try {
      sessionStorage.setItem(KEY, JSON.stringify(this.state));
    } catch (_) {
      /* storage full or disabled: the chat still works for this page view */
    }
  }

  // ---- DOM
  build() {
    this.exitButton = el("button", {
      type: "button",
      class: "iomc-exit",
      id: "iomc-exit",
      onclick: () => this.quickExit(),
    });
    this.launcher = el("button", {
      type: "button",
      class: "iomc-launcher",
      id: "iomc-launcher",
      "aria-expanded": "false",
      "aria-controls": "iomc-panel",
      onclick: () => this.openPanel(true),
    });
    this.heading = el("h2", { class: "iomc-title", id: "iomc-title" });
    // The chat's language: a native select, each option named in its own language.
    this.langLabel = el("label", { for: "iomc-lang", class: "iomc-sr-only" });
    this.langSelect = el(
      "select",
      {
        class: "iomc-lang",
        id: "iomc-lang",
        onchange: (event) => this.setLanguage(event.target.value),
      },
      LANGUAGES.map((code) =>
        el("option", { value: code, lang: code, text: LANGUAGE_NAMES[code] }),
      ),
    );
    this.closeButton = el("button", {
      type: "button",
      class: "iomc-close",
      id: "iomc-close",
      onclick: () => this.closePanel(),
    });
    this.notice = el("div", { class: "iomc-notice", id: "iomc-notice" });
    this.offline = el("div", {
      class: "iomc-offline",
      id: "iomc-offline",
      role: "alert",
      hidden: true,
    });
    this.log = el("div", {
      class: "iomc-log",
      id: "iomc-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      tabindex: "0",
    });
    this.typing = el("div", { class: "iomc-typing", id: "iomc-typing", hidden: true }, [
      el("span", { class: "iomc-dots", "aria-hidden": "true", text: "• • •" }),
      el("span", { class: "iomc-typing-text" }),
    ]);
    this.status = el("div", {
      class: "iomc-status",
      id: "iomc-status",
      role: "status",
      "aria-live": "polite",
    });
    this.inputLabel = el("label", { for: "iomc-input", class: "iomc-sr-only" });
    this.input = el("textarea", {
      id: "iomc-input",
      class: "iomc-input",
      rows: "2",
      maxlength: String(MAX_CHARS),
      autocomplete: "off",
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.submit();
        }
      },
    });
    this.sendButton = el("button", { type: "submit", class: "iomc-send", id: "iomc-send" });
    this.form = el(
      "form",
      {
        class: "iomc-form",
        id: "iomc-form",
        onsubmit: (event) => {
          event.preventDefault();
          this.submit();
        },
      },
      [this.inputLabel, this.input, this.sendButton],
    );
    this.panel = el(
      "section",
      { class: "iomc-panel", id: "iomc-panel", "aria-labelledby": "iomc-title", hidden: true },
      [
        el("header", { class: "iomc-header" }, [
          this.heading,
          this.langLabel,
          this.langSelect,
          this.closeButton,
        ]),
        this.notice,
        this.offline,
        this.log,
        this.typing,
        this.status,
        this.form,
      ],
    );
    this.root = el("div", { class: "iomc-root", id: "iomc-root" }, [
      this.exitButton,
      this.launcher,
      this.panel,
    ]);
    document.body.append(this.root);
  }

  renderChrome() {
    const t = this.t;
    this.root.setAttribute("lang", this.state.language);
    this.exitButton.textContent = t.quickExit;
    this.exitButton.setAttribute("title", t.quickExitHint);
    this.exitButton.setAttribute("aria-label", t.quickExitHint);
    this.launcher.textContent = t.open;
    this.heading.textContent = t.title;
    this.langLabel.textContent = t.languageLabel;
    this.langSelect.value = this.state.language;
    this.closeButton.textContent = "×";
    this.closeButton.setAttribute("aria-label", t.close);
    this.log.setAttribute("aria-label", t.log);
    this.typing.querySelector(".iomc-typing-text").textContent = t.typing;
    this.inputLabel.textContent = t.inputLabel;
    this.input.setAttribute("placeholder", t.placeholder);
    this.sendButton.textContent = t.send;
    this.notice.replaceChildren(
      el("h3", { class: "iomc-notice-long", text: t.privacyTitle }),
      el("p", { class: "iomc-notice-long", text: t.privacy }),
      el("p", {}, [
        el("strong", { text: t.emergency }),
        " ",
        el("a", { href: this.config.privacyUrl, text: t.privacyLink }),
      ]),
    );
    this.offline.replaceChildren(
      el("p", {}, [el("strong", { text: t.offlineTitle })]),
      el("p", { text: t.offlineIntro }),
      el(
        "ul",
        {},
        KEYLINES.lines.map((line) =>
          el("li", {}, [
            el("a", { href: `tel:${line.number}`, text: line.display }),
            ` – ${line.label[this.state.language] || line.label.pl}`,
          ]),
        ),
      ),
    );
  }

  renderAll() {
    this.renderChrome();
    this.collapseNotice();
    this.log.replaceChildren();
    for (const message of this.state.messages) this.log.append(this.renderMessage(message));
  }

  renderMessage(message) {
    const t = this.t;
    if (message.from === "user") {
      const item = el("div", { class: "iomc-msg iomc-user" }, [
        el("span", { class: "iomc-sr-only", text: `${t.you}: ` }),
        el("span", { class: "iomc-text", text: message.text }),
      ]);
      if (message.pending) item.classList.add("iomc-pending");
      return item;
    }
    if (message.operator) {
      // a person from the team wrote this (live chat): plain text, with who wrote it
      const who = message.operator === "IOM" ? t.team : `${message.operator} · ${t.team}`;
      return el("div", { class: "iomc-msg iomc-bot iomc-operator" }, [
        el("span", { class: "iomc-who", text: who }),
        el("span", { class: "iomc-sr-only", text: ": " }),
        el("div", { class: "iomc-text", text: message.text || "" }),
      ]);
    }
    const body = el("div", { class: "iomc-text" });
    body.append(renderMarkdown(message.text || ""));
    const item = el("div", { class: "iomc-msg iomc-bot" }, [
      el("span", { class: "iomc-sr-only", text: `${t.bot}: ` }),
      body,
    ]);
    if (message.buttons && message.buttons.length) {
      const group = el("div", { class: "iomc-buttons", role: "group" });
      for (const button of message.buttons) {
        group.append(
          el("button", {
            type: "button",
            class: "iomc-quick",
            disabled: message.used || undefined,
            text: button.title,
            onclick: () => {
              message.used = true;
              for (const b of group.querySelectorAll("button")) b.disabled = true;
              this.send(button.payload, button.title);
            },
          }),
        );
      }
      item.append(group);
    }
    return item;
  }

  collapseNotice() {
    // After the first message only the emergency line and the privacy link stay.
    this.notice.classList.toggle("iomc-notice-short", this.state.messages.length > 0);
  }

  addMessage(message) {
    this.state.messages.push(message);
    this.collapseNotice();
    this.save();
    const node = this.renderMessage(message);
    this.log.append(node);
    this.log.scrollTop = this.log.scrollHeight;
    return node;
  }

  // ---- panel
  openPanel(focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.hidden = true;
    this.state.open = true;
    this.save();
    this.connect();
    if (focus) this.input.focus();
  }

  closePanel() {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    this.state.open = false;
    this.save();
    this.launcher.focus();
  }

  setLanguage(code) {
    if (!LANGUAGES.includes(code) || code === this.state.language) return;
    this.state.language = code;
    this.save();
    this.renderAll();
  }

  // ---- connection
  connect() {
    if (this.socket) return;
    this.setStatus(this.t.connecting);
    this.offlineTimer = setTimeout(() => this.showOffline(true), OFFLINE_AFTER_MS);
    const socket = io(this.config.socketUrl, {
      path: this.config.socketPath,
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 5000,
    });
    this.socket = socket;
    socket.on("connect", () => {
      socket.emit("session_request", { session_id: this.state.sessionId });
    });
    socket.on("session_confirm", () => {
      this.confirmed = true;
      clearTimeout(this.offlineTimer);
      this.showOffline(false);
      this.setStatus("");
      this.flush();
    });
    socket.on("bot_uttered", (data) => this.onBot(data));
    // a person from the team holds the chat: the message arrived, no bot answer comes
    socket.on("user_received", () => {
      this.state.awaiting = [];
      this.hideTyping();
      this.save();
    });
    socket.on("connect_error", () => {
      this.confirmed = false;
      this.showOffline(true);
      this.setStatus(this.t.reconnecting);
    });
    socket.on("disconnect", () => {
      this.confirmed = false;
      this.requeueUnanswered();
      this.setStatus(this.t.reconnecting);
      clearTimeout(this.offlineTimer);
      this.offlineTimer = setTimeout(() => this.showOffline(true), OFFLINE_AFTER_MS);
    });
  }

  // Messages sent but not answered when the connection drops (Rasa died while
  // handling them) go back to the pending queue and are sent again on reconnect:
  // at worst a message is answered twice, never silently lost.
  requeueUnanswered() {
    const awaiting = this.state.awaiting.splice(0);
    if (!awaiting.length) return;
    for (const index of awaiting) {
      const message = this.state.messages[index];
      if (!message) continue;
      message.pending = true;
      const node = this.log.children[index];
      if (node) node.classList.add("iomc-pending");
    }
    this.state.pending.unshift(...awaiting.filter((i) => this.state.messages[i]));
    this.save();
  }

  showOffline(show) {
    this.offline.hidden = !show;
    this.root.classList.toggle("iomc-is-offline", show);
  }

  setStatus(text) {
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  onBot(data) {
    if (!data || typeof data !== "object") return;
    const buttons = (data.quick_replies || data.buttons || [])
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
      .map((b) => ({ title: b.title, payload: b.payload }));
    const text = typeof data.text === "string" ? data.text : "";
    if (!text && !buttons.length) return;
    this.state.awaiting = []; // the bot answers: what was sent reached it
    this.hideTyping();
    const operator =
      typeof data.operator === "string" && data.operator ? data.operator.slice(0, 40) : undefined;
    this.addMessage({ from: "bot", text, buttons, operator });
  }

  showTyping() {
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_TIMEOUT_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  }

  // ---- sending
  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      this.setStatus(this.t.tooLong);
      return;
    }
    this.input.value = "";
    this.send(text, text);
  }

  send(payload, shown) {
    this.started = true;
    const message = { from: "user", text: shown, payload, pending: true };
    this.addMessage(message);
    this.state.pending.push(this.state.messages.length - 1);
    this.save();
    this.flush();
  }

  flush() {
    if (!this.socket || !this.socket.connected || !this.confirmed) {
      if (this.state.pending.length) this.setStatus(this.t.pending);
      return;
    }
    const queue = this.state.pending.splice(0);
    for (const index of queue) {
      const message = this.state.messages[index];
      if (!message) continue;
      this.socket.emit("user_uttered", {
        message: message.payload,
        session_id: this.state.sessionId,
        metadata: { language: this.state.language },
      });
      message.pending = false;
      this.state.awaiting.push(index);
    }
    this.save();
    for (const node of this.log.querySelectorAll(".iomc-pending")) {
      node.classList.remove("iomc-pending");
    }
    if (queue.length) {
      this.setStatus("");
      this.showTyping();
    }
  }

  // ---- quick exit
  onKey(event) {
    if (event.key !== "Escape") return;
    const now = Date.now();
    if (now - this.lastEsc < ESC_WINDOW_MS) this.quickExit();
    this.lastEsc = now;
  }

  quickExit() {
    try {
      sessionStorage.clear();
    } catch (_) {
      /* nothing stored */
    }
    this.started = false;
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
    }
    this.root.remove();
    document.title = "";
    document.body.replaceChildren();
    location.replace(this.config.exitUrl);
  }
}

const config = readConfig();
function boot() {
  const widget = new ChatWidget(config);
  window.IOMChat = {
    version: "0.1.0",
    language: () => widget.state.language,
    connected: () => widget.confirmed,
  };
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", boot);
} else {
  boot();
}
