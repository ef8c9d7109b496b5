/*
 * Chat widget of the customer-support assistant. Embed it with one tag:
 *
 *   <script src="https://…/widget/widget.js" defer></script>
 *
 * and, optionally, a configuration object before it:
 *
 *   <script>window.AssistenteConfig = { socketUrl: "https://bot.example.it", token: "<JWT>" };</script>
 *
 * socketUrl: the Rasa server (socket.io channel); default: the origin that served this file.
 * token: a signed token of the customer area (JWT); sent only when the socket connects
 *   (socket.io `auth`), where the server checks it; the assistant then knows the customer.
 * title, greeting: texts of the header and of the first message.
 *
 * The server issues the conversation's id (signed); the widget keeps it, with the conversation,
 * in localStorage for at most STORE_HOURS since the last message, and discards it when the
 * customer-area login changes (another customer, or none). At logout the customer area calls
 *
 *   window.Assistente.logout();
 *
 * which forgets the conversation in this browser and disconnects.
 *
 * No build step: plain JavaScript. This file is the loader (served with `no-cache`): it loads
 * widget.css and socket.io's client from the same folder under content-hashed names, cached
 * for a year. The launcher shows once the style sheet is there; it works before socket.io has
 * arrived (the panel opens and says "Connessione…", the chat connects as soon as it can).
 */
(function () {
  "use strict";
  if (window.__assistenteWidget) return;
  window.__assistenteWidget = true;

  var script = document.currentScript;
  var base = script ? script.src.replace(/[^/]*$/, "") : "/widget/";
  // the web service writes the hashed names in when it serves this file (bot/web/assets.py)
  var ASSETS = {"css": "widget.css", "socketio": "vendor/socket.io-4.7.5.min.js"};
  var config = Object.assign({
    socketUrl: script ? new URL(script.src).origin : window.location.origin,
    title: "Assistente clienti luce e gas",
    greeting: null,  // default: fits the hour on the utility's clock (Europe/Rome)
    token: null
  }, window.AssistenteConfig || {});

  if (!config.greeting) config.greeting = greetingForNow();
  var STORE = "assistente:" + config.socketUrl;
  var STORE_HOURS = 24;
  var customer = tokenSubject(config.token);
  var state = loadState();
  var socket = null;
  var wanted = false;  // the panel was opened: connect as soon as socket.io is there
  var confirmed = false;  // the server has bound this socket to the conversation
  var pending = [];  // messages written before that: sent once it is
  var typingTimer = null;
  var withAgent = false;  // a person is in the conversation: no "assistant is typing"
  var unread = 0;
  var pageTitle = document.title;

  // "Buongiorno" in the morning, "Buon pomeriggio", "Buonasera" from 18: the hour in Rome.
  function greetingForNow() {
    var hour = 12;
    try {
      hour = Number(new Intl.DateTimeFormat("it-IT", { hour: "numeric", hourCycle: "h23", timeZone: "Europe/Rome" })
        .format(new Date()));
    } catch (e) { hour = new Date().getHours(); }
    return hour >= 5 && hour < 13 ? "Buongiorno" : hour >= 13 && hour < 18 ? "Buon pomeriggio" : "Buonasera";
  }

  // Who the page says is logged in; only to notice a change of login (the server checks the token).
  function tokenSubject(token) {
    try {
      var part = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(window.atob(part + "====".slice(0, (4 - part.length % 4) % 4))).sub || null;
    } catch (e) { return null; }
  }

  function freshState() {
    return { sessionId: null, customer: customer, savedAt: Date.now(), history: [], open: false };
  }

  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "null");
      var young = saved && Date.now() - saved.savedAt < STORE_HOURS * 3600 * 1000;
      // another login (or a logout) never sees the previous customer's conversation
      if (young && (saved.customer || null) === customer && Array.isArray(saved.history)) return saved;
      window.localStorage.removeItem(STORE);
    } catch (e) { /* storage unavailable or corrupt: start again */ }
    return freshState();
  }

  function saveState() {
    try {
      state.history = state.history.slice(-200);
      state.savedAt = Date.now();
      window.localStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) { /* private mode: the conversation lasts as long as the page */ }
  }

  // ------------------------------------------------------------------ the files it loads
  // socket.io loads once the page has (it does not hold up the page's load event), or at the
  // first click on the launcher if that comes earlier; the panel works without it until then
  var io = document.createElement("script");
  io.src = base + ASSETS.socketio;
  io.async = true;
  io.onload = function () { if (wanted) connect(); };
  io.onerror = function () { status.textContent = "Connessione non disponibile: ricarichi la pagina."; };

  function loadSocketIo() {
    if (typeof window.io !== "function" && !io.parentNode) document.head.appendChild(io);
  }

  if (document.readyState === "complete") loadSocketIo(); else window.addEventListener("load", loadSocketIo);

  // the launcher shows only once the style sheet is there (no unstyled flash, no jump)
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + ASSETS.css;
  css.onload = css.onerror = function () { if (!root.parentNode) start(); };
  document.head.appendChild(css);
  setTimeout(function () { if (!root.parentNode) start(); }, 10000);  // a stalled style sheet: show it anyway

  // ------------------------------------------------------------------ the interface
  var root = document.createElement("div");
  root.className = "aw-root";
  root.innerHTML =
    '<button type="button" class="aw-launcher" aria-haspopup="dialog" aria-expanded="false" aria-controls="aw-panel">' +
    '<span aria-hidden="true">💬</span><span class="aw-launcher-label">Assistenza</span>' +
    '<span class="aw-badge" hidden></span></button>' +
    '<div id="aw-panel" class="aw-panel" role="dialog" aria-modal="false" aria-labelledby="aw-title" hidden>' +
    '<div class="aw-header"><h2 id="aw-title" class="aw-title"></h2>' +
    '<span class="aw-status" role="status"></span>' +
    '<button type="button" class="aw-close" aria-label="Chiudi la chat">×</button></div>' +
    // a log is not a list: the list of messages sits inside it; tabindex: scrollable with the keyboard
    '<div class="aw-log" role="log" aria-label="Conversazione" tabindex="0"><ol class="aw-messages"></ol></div>' +
    // always in the page: a live region is silent when it appears or disappears, not when its text changes
    '<p class="aw-typing" role="status"></p>' +
    '<form class="aw-form"><label class="aw-sr" for="aw-input">Scriva un messaggio</label>' +
    '<textarea id="aw-input" class="aw-input" rows="1" maxlength="1000" placeholder="Scriva qui…" autocomplete="off"></textarea>' +
    '<button type="submit" class="aw-send">Invia</button></form></div>';

  var launcher = root.querySelector(".aw-launcher");
  var panel = root.querySelector(".aw-panel");
  var log = root.querySelector(".aw-log");
  var messages = root.querySelector(".aw-messages");
  var input = root.querySelector(".aw-input");
  var form = root.querySelector(".aw-form");
  var typing = root.querySelector(".aw-typing");
  var status = root.querySelector(".aw-status");
  var badge = root.querySelector(".aw-badge");
  root.querySelector(".aw-title").textContent = config.title;

  // On a phone the panel covers the page: it is then a modal dialog and keeps the focus.
  var phone = window.matchMedia("(max-width: 480px)");

  function modal() { return !panel.hidden && phone.matches; }

  function syncModal() {
    panel.setAttribute("aria-modal", modal() ? "true" : "false");
    launcher.inert = modal();  // hidden behind the panel
  }

  function focusable() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, textarea, input, select, a[href], [tabindex]:not([tabindex='-1'])"),
      function (element) { return !element.disabled && element.getClientRects().length > 0; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || !modal()) return;
    var items = focusable();
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = document.activeElement;
    if (!panel.contains(active) || (event.shiftKey && active === first) || (!event.shiftKey && active === last)) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  }, true);
  document.addEventListener("focusin", function (event) {
    if (modal() && !panel.contains(event.target)) input.focus();
  });
  if (phone.addEventListener) phone.addEventListener("change", syncModal); else phone.addListener(syncModal);

  function open(focus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    syncModal();
    state.open = true;
    saveState();
    connect();
    showUnread(0);
    log.scrollTop = log.scrollHeight;  // the latest message, also after a reload
    if (focus !== false || modal()) input.focus();
  }

  // With the panel closed, a new message shows on the launcher and in the page's title.
  function showUnread(count) {
    unread = count;
    badge.hidden = !count;
    badge.textContent = count ? String(count) : "";
    launcher.setAttribute("aria-label", count ? "Assistenza, " + count + (count === 1 ? " nuovo messaggio" : " nuovi messaggi") : "Assistenza");
    document.title = count ? "(" + count + ") Nuovo messaggio · " + pageTitle : pageTitle;
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    syncModal();
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  root.querySelector(".aw-close").addEventListener("click", close);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });

  // The assistant's own web addresses (http/https only) become links, built as elements: the
  // text is never parsed as HTML, and a customer's or an agent's words are never linked.
  function appendLinked(element, text) {
    var pattern = /https?:\/\/[^\s<>"]+/g, last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      element.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.appendChild(link);
      last = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(entry) {
    var item = document.createElement("li");
    item.className = "aw-msg aw-" + entry.from;
    if (entry.from === "agent") {
      var who = document.createElement("span");
      who.className = "aw-who";
      who.textContent = "Operatore" + (entry.agent ? " · " + entry.agent : "");
      item.appendChild(who);
    }
    var body = document.createElement("p");
    body.className = "aw-text";
    // amounts do not break between the figure and the euro sign ("182,40 €")
    var text = String(entry.text || "").replace(/(\d) (€)/g, "$1\u00a0$2").replace(/(€) (\d)/g, "$1\u00a0$2");
    if (entry.from === "bot") {
      appendLinked(body, text);  // issue 12: a bill's download link can be opened
    } else {
      body.textContent = text;
    }
    item.appendChild(body);
    if (entry.buttons && entry.buttons.length && !entry.answered) {
      var group = document.createElement("div");
      group.className = "aw-buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Risposte rapide");
      entry.buttons.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.className = "aw-quick";
        element.textContent = button.title;
        element.addEventListener("click", function () {
          input.focus();  // the button is about to go: the focus must not fall back to the page
          send(button.payload, button.title);
        });
        group.appendChild(element);
      });
      item.appendChild(group);
    }
    messages.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function remember(entry) {
    state.history.push(entry);
    saveState();
    render(entry);
  }

  // Quick replies are for the question they came with: once the customer answers, they go
  // (a screen reader would otherwise find every old choice still live).
  function retireQuickReplies() {
    state.history.forEach(function (entry) { if (entry.buttons && entry.buttons.length) entry.answered = true; });
    Array.prototype.forEach.call(messages.querySelectorAll(".aw-buttons"), function (group) { group.remove(); });
  }

  // Only when someone is typing: the assistant answers within seconds of a message (never while
  // a person has the conversation); an agent's typing comes as `agent_typing` from the server.
  function showTyping(who) {
    typing.textContent = who === "agent" ? "L'operatore sta scrivendo…" : who ? "L'assistente sta scrivendo…" : "";
    clearTimeout(typingTimer);
    if (who) typingTimer = setTimeout(function () { typing.textContent = ""; }, who === "agent" ? 10000 : 5000);
  }

  // ------------------------------------------------------------------ the connection
  function connect() {
    wanted = true;
    if (socket) return;
    if (typeof window.io !== "function") {
      status.textContent = "Connessione…";  // socket.io is still loading: io.onload comes back here
      loadSocketIo();
      return;
    }
    status.textContent = "Connessione…";
    socket = window.io(config.socketUrl, {
      transports: ["websocket"], reconnection: true, auth: config.token ? { token: config.token } : {}
    });
    socket.on("connect", function () {
      status.textContent = "";
      // `after`: the last message this browser has; the server sends what came later (an agent's
      // reply written while the page was closed)
      var request = { session_id: state.sessionId };
      if (state.sessionId && state.lastSeen) request.after = state.lastSeen;
      socket.emit("session_request", request);
    });
    socket.on("session_confirm", function (sessionId) {
      if (state.sessionId && sessionId !== state.sessionId) {
        // the server did not resume the stored conversation: it started a new one
        state.history = [];
        state.lastSeen = 0;
        messages.textContent = "";
      }
      state.sessionId = sessionId;
      saveState();
      confirmed = true;
      if (!state.history.length && config.greeting) send(config.greeting, null);
      pending.splice(0).forEach(emit);
    });
    socket.on("disconnect", function () {
      confirmed = false;
      status.textContent = "Connessione persa, riprovo…";
    });
    socket.on("connect_error", function (error) {
      if (error && error.message === "customer_area_token_invalid") {
        // expired or not valid: continue as a visitor (the assistant asks for the codes)
        config.token = null;
        customer = null;
        socket.auth = {};
        forget();
        socket.connect();  // socket.io does not retry a connection the server refused
        return;
      }
      status.textContent = "Connessione non disponibile, riprovo…";
    });
    socket.on("error", function () { showTyping(false); });
    socket.on("agent_typing", function (event) {
      withAgent = true;
      showTyping(event && event.typing ? "agent" : false);
    });
    socket.on("bot_uttered", function (message) {
      showTyping(false);
      // Rasa's protocol: `text`, `quick_replies`; an agent is named in `metadata`
      var meta = message.metadata || {};
      var fromAgent = meta.sender === "agent";
      withAgent = fromAgent || (withAgent && !(message.quick_replies && message.quick_replies.length));
      if (typeof message.timestamp === "number" && message.timestamp > (state.lastSeen || 0)) {
        state.lastSeen = message.timestamp;
      }
      remember({
        from: fromAgent ? "agent" : "bot",
        agent: fromAgent ? meta.agent_name || null : null,
        text: message.text || "",
        buttons: message.quick_replies || message.buttons || []
      });
      if (panel.hidden) showUnread(unread + 1);
    });
  }

  function send(payload, shown) {
    retireQuickReplies();
    if (shown) remember({ from: "user", text: shown });
    showTyping(withAgent ? false : "bot");
    // written while offline: held here, not in socket.io's buffer, which would send it on
    // reconnection before the conversation is bound again
    if (confirmed) emit(payload); else pending.push(payload);
  }

  function emit(payload) {
    // the server uses the conversation bound to this socket; session_id is Rasa's protocol
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
  }

  // Forget the conversation in this browser (logout from the customer area, or a refused login).
  function forget() {
    try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    var wasOpen = state.open;
    state = freshState();
    state.open = wasOpen;
    pending = [];
    messages.textContent = "";
  }

  window.Assistente = {
    logout: function () {
      config.token = null;
      customer = null;
      wanted = false;
      if (socket) { socket.disconnect(); socket = null; }
      confirmed = false;
      forget();
      if (!panel.hidden) close();
      try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    }
  };

  function start() {
    document.body.appendChild(root);
    state.history.forEach(render);
    // a panel left open on the previous page opens again, without taking the focus from the
    // page (unless it covers the page)
    if (state.open) open(false);
  }
})();
