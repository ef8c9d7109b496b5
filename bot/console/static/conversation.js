(() => {
  const heading = document.getElementById("conversation");
  const id = heading.dataset.id, me = heading.dataset.me, supervisor = heading.dataset.supervisor === "true";
  const api = "/console/api/conversations/" + encodeURIComponent(id);
  const box = document.getElementById("text");
  const actionStatus = document.getElementById("action-status");
  let ticket = null;
  // The transcript is a live region: it is updated by difference (turns only get added), so a
  // screen reader announces the new turns and does not read the conversation again at each push.
  const turns = document.getElementById("turns");
  let shown = [];  // a key per turn on screen
  function showTurns(list) {
    const keys = list.map(turn => JSON.stringify(turn));
    let same = 0;
    while (same < shown.length && same < keys.length && shown[same] === keys[same]) same++;
    while (turns.children.length > same) turns.lastElementChild.remove();
    const atBottom = turns.scrollHeight - turns.scrollTop - turns.clientHeight < 40;
    turns.append(...list.slice(same).map(line));
    if (atBottom || !same) turns.scrollTop = turns.scrollHeight;
    shown = keys;
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  // the customer reporting a gas smell or a fault (the NLU's report_outage) stands out
  const EMERGENCY_INTENTS = new Set(["report_outage"]);
  function line(turn) {
    const div = document.createElement("div"); div.className = "turn " + turn.from;
    const meta = document.createElement("div"); meta.className = "meta";
    const emergency = turn.from === "cliente" && EMERGENCY_INTENTS.has(turn.intent);
    if (turn.from === "azione") div.classList.add("technical");
    if (emergency) div.classList.add("emergency");
    if (turn.from === "cliente") {
      meta.textContent = emergency ? "cliente · EMERGENZA" : "cliente";
      const detail = document.createElement("span"); detail.className = "technical";
      detail.textContent = ` · ${turn.intent} (${turn.confidence})`; meta.appendChild(detail);
    } else if (turn.from === "operatore") meta.textContent = "operatore " + (turn.agent || "");
    else if (turn.from === "azione") meta.textContent = "azione " + turn.name;
    else meta.textContent = turn.from;
    div.appendChild(meta);
    if (turn.text) { const p = document.createElement("div"); p.className = "text"; p.textContent = turn.text; div.appendChild(p); }
    if (turn.from === "cliente") {
      const fix = document.createElement("button"); fix.type = "button"; fix.className = "secondary technical"; fix.textContent = "Intento giusto…";
      fix.addEventListener("click", async () => {
        const intent = prompt("Intento corretto per: " + turn.text); if (!intent) return;
        await post("/console/api/corrections?conversation_id=" + encodeURIComponent(id), {text: turn.text, intent});
      });
      div.appendChild(fix);
    }
    return div;
  }
  document.getElementById("technical").addEventListener("change", event => {
    turns.classList.toggle("hide-technical", !event.target.checked);
  });
  // the controls say what can be done now: nothing on a conversation handed back or closed,
  // only reading on a colleague's
  function controls() {
    const open = !!ticket;
    const mine = open && (supervisor || ticket.status === "waiting" || ticket.taken_by === me);
    for (const name of ["send", "handback", "close", "outcome", "text"]) document.getElementById(name).disabled = !mine;
    // issue 14: "Prendi in carico" only while the ticket waits for someone
    document.getElementById("take").disabled = !open || ticket.status !== "waiting";
    document.getElementById("transfer").disabled = document.getElementById("transfer-to").disabled = !open || (!supervisor && ticket.taken_by !== me);
    if (!open) setText(actionStatus, "Conversazione restituita all'assistente o chiusa: non è più possibile risponderle da qui.");
    else if (!mine) setText(actionStatus, `Conversazione assegnata a ${ticket.taken_by}: può leggerla, non rispondere.`);
    else if (actionStatus.dataset.kept !== "1") setText(actionStatus, "");
  }
  function show(data) {
    ticket = data.ticket;
    const wa = document.getElementById("whatsapp"), waLine = data.whatsapp ? data.whatsapp.line : ""; if (wa && wa.textContent !== waLine) wa.textContent = waLine;  // WhatsApp: window, waiting replies, Meta's errors
    const s = data.ticket ? data.ticket.summary : null;
    setText(document.getElementById("summary"), s
      ? (s.emergency ? "EMERGENZA · " : "") +
        `Canale: ${s.channel} · Cliente: ${s.customer.name ? s.customer.name + ", " : ""}${s.customer.verified ? "verificato " + s.customer.code : "non verificato"} · Voleva: ${(s.wanted || []).join(", ")} · Motivo: ${s.reason}` +
        (data.ticket.taken_by ? ` · Assegnata a: ${data.ticket.taken_by}` : " · In attesa")
      : (data.paused ? "In pausa" : "Nessun passaggio a operatore aperto: risponde l'assistente."));
    showTurns(data.turns);
    controls();
  }
  async function refresh() { show(await (await fetch(api)).json()); }
  let typingSent = 0, typingTimer = null;
  function typing(on) {
    if (!ticket || box.disabled) return;
    if (on && Date.now() - typingSent < 3000) return;
    typingSent = on ? Date.now() : 0;
    fetch(api + "/typing", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                            body: JSON.stringify({typing: on})}).catch(() => {});
  }
  box.addEventListener("input", () => {
    typing(true); clearTimeout(typingTimer); typingTimer = setTimeout(() => typing(false), 4000);
  });
  box.addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault(); document.getElementById("reply").requestSubmit();
    }
  });
  document.getElementById("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    clearTimeout(typingTimer);
    try { await post(api + "/reply", {text: box.value}); } catch (e) { return; }  // said in #action-status
    box.value = ""; typingSent = 0; setText(actionStatus, ""); refresh();
  });
  async function act(run) { try { await run(); } catch (e) { return; } refresh(); }
  document.getElementById("handback").addEventListener("click", () => act(() => post(api + "/handback")));
  document.getElementById("take").addEventListener("click", () => {
    if (ticket) act(() => post(`/console/api/tickets/${ticket.id}/take`));
  });
  document.getElementById("close").addEventListener("click", () => act(() =>
    post(api + "/close", {outcome: document.getElementById("outcome").value})));
  document.getElementById("transfer").addEventListener("click", () => {
    const to = document.getElementById("transfer-to").value.trim();
    if (ticket && to) act(() => post(`/console/api/tickets/${ticket.id}/transfer`, {to}));
  });
  async function annotations() {
    const a = await (await fetch(api + "/annotations")).json();
    document.getElementById("annotations").textContent = "Etichette: " + (a.tags.join(", ") || "—") + " · Note: " + a.notes.map(n => n.author + ": " + n.text).join(" | ");
  }
  document.getElementById("addtag").addEventListener("click", async () => { await post(api + "/tags", {tag: document.getElementById("tag").value}); annotations(); });
  document.getElementById("addnote").addEventListener("click", async () => { await post(api + "/notes", {text: document.getElementById("note").value}); annotations(); });
  // pushed by server-sent events; the browser reconnects the stream by itself
  const stream = new EventSource("/console/api/events/conversations/" + encodeURIComponent(id));
  stream.addEventListener("conversation", event => show(JSON.parse(event.data)));
  document.getElementById("reveal")?.addEventListener("click", async () => {
    const data = await post(api + "/reveal"); stream.close();
    showTurns(data.turns);
  });
  annotations(); refresh();
})();
