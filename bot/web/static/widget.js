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
 * No build step: plain JavaScript; socket.io's client is loaded from the same folder.
 */
(function () {
  "use strict";
  if (window.__assistenteWidget) return;
  window.__assistenteWidget = true;

  var script = document.currentScript;
  var base = script ? script.src.replace(/[^/]*$/, "") : "/widget/";
  var config = Object.assign({
    socketUrl: script ? new URL(script.src).origin : window.location.origin,
    title: "Assistente clienti luce e gas",
    greeting: "Buongiorno",
    token: null
  }, window.AssistenteConfig || {});

  var STORE = "assistente:" + config.socketUrl;
  var STORE_HOURS = 24;
  var customer = tokenSubject(config.token);
  var state = loadState();
  var socket = null;
  var confirmed = false;  // the server has bound this socket to the conversation
  var pending = [];  // messages written before that: sent once it is
  var typingTimer = null;

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

  // ------------------------------------------------------------------ the interface
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "widget.css";
  document.head.appendChild(css);

  var root = document.createElement("div");
  root.className = "aw-root";
  root.innerHTML =
    '<button type="button" class="aw-launcher" aria-haspopup="dialog" aria-expanded="false" aria-controls="aw-panel">' +
    '<span aria-hidden="true">💬</span><span class="aw-launcher-label">Assistenza</span></button>' +
    '<section id="aw-panel" class="aw-panel" role="dialog" aria-modal="false" aria-labelledby="aw-title" hidden>' +
    '<header class="aw-header"><h2 id="aw-title" class="aw-title"></h2>' +
    '<span class="aw-status" role="status" aria-live="polite"></span>' +
    '<button type="button" class="aw-close" aria-label="Chiudi la chat">×</button></header>' +
    '<ol class="aw-log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversazione"></ol>' +
    '<p class="aw-typing" aria-live="polite" hidden>L\'assistente sta scrivendo…</p>' +
    '<form class="aw-form"><label class="aw-sr" for="aw-input">Scriva un messaggio</label>' +
    '<textarea id="aw-input" class="aw-input" rows="1" maxlength="1000" placeholder="Scriva qui…" autocomplete="off"></textarea>' +
    '<button type="submit" class="aw-send">Invia</button></form></section>';
  document.body.appendChild(root);

  var launcher = root.querySelector(".aw-launcher");
  var panel = root.querySelector(".aw-panel");
  var log = root.querySelector(".aw-log");
  var input = root.querySelector(".aw-input");
  var form = root.querySelector(".aw-form");
  var typing = root.querySelector(".aw-typing");
  var status = root.querySelector(".aw-status");
  root.querySelector(".aw-title").textContent = config.title;

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    connect();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
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
    body.textContent = entry.text;
    item.appendChild(body);
    if (entry.buttons && entry.buttons.length) {
      var group = document.createElement("div");
      group.className = "aw-buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Risposte rapide");
      entry.buttons.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.className = "aw-quick";
        element.textContent = button.title;
        element.addEventListener("click", function () { send(button.payload, button.title); });
        group.appendChild(element);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function remember(entry) {
    state.history.push(entry);
    saveState();
    render(entry);
  }

  function showTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, 15000);
  }

  // ------------------------------------------------------------------ the connection
  function connect() {
    if (socket) return;
    socket = window.io(config.socketUrl, {
      transports: ["websocket"], reconnection: true, auth: config.token ? { token: config.token } : {}
    });
    socket.on("connect", function () {
      status.textContent = "";
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      if (state.sessionId && sessionId !== state.sessionId) {
        // the server did not resume the stored conversation: it started a new one
        state.history = [];
        log.textContent = "";
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
    socket.on("bot_uttered", function (message) {
      showTyping(false);
      // an agent's turn comes as the custom payload itself: {sender: "agent", agent_name, text}
      var custom = message.custom || (message.data && message.data.custom) || (message.sender ? message : {});
      var fromAgent = custom.sender === "agent";
      remember({
        from: fromAgent ? "agent" : "bot",
        agent: custom.agent_name || null,
        text: message.text || custom.text || "",
        buttons: message.quick_replies || message.buttons || []
      });
    });
  }

  function send(payload, shown) {
    if (shown) remember({ from: "user", text: shown });
    showTyping(true);
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
    log.textContent = "";
  }

  window.Assistente = {
    logout: function () {
      config.token = null;
      customer = null;
      if (socket) { socket.disconnect(); socket = null; }
      confirmed = false;
      forget();
      close();
      try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    }
  };

  function start() {
    state.history.forEach(render);
    if (state.open) open();
  }

  if (window.io) {
    start();
  } else {
    var loader = document.createElement("script");
    loader.src = base + "vendor/socket.io-4.7.5.min.js";
    loader.onload = start;
    document.head.appendChild(loader);
  }
})();
