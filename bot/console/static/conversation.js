(() => {
  const id = document.getElementById("conversation").dataset.id;
  const api = "/console/api/conversations/" + encodeURIComponent(id);
  let ticket = null;
  // The transcript is a live region: it is updated by difference (turns only get added), so a
  // screen reader announces the new turns and does not read the conversation again at each poll.
  const turns = document.getElementById("turns");
  let shown = [];  // a key per turn on screen
  function showTurns(list) {
    const keys = list.map(turn => JSON.stringify(turn));
    let same = 0;
    while (same < shown.length && same < keys.length && shown[same] === keys[same]) same++;
    while (turns.children.length > same) turns.lastElementChild.remove();
    turns.append(...list.slice(same).map(line));
    shown = keys;
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function line(turn) {
    const div = document.createElement("div"); div.className = "turn " + turn.from;
    const meta = document.createElement("div"); meta.className = "meta";
    if (turn.from === "cliente") meta.textContent = `cliente · ${turn.intent} (${turn.confidence})`;
    else if (turn.from === "operatore") meta.textContent = "operatore " + (turn.agent || "");
    else if (turn.from === "azione") meta.textContent = "azione " + turn.name;
    else meta.textContent = turn.from;
    div.appendChild(meta);
    if (turn.text) { const p = document.createElement("div"); p.textContent = turn.text; div.appendChild(p); }
    if (turn.from === "cliente") {
      const fix = document.createElement("button"); fix.type = "button"; fix.className = "secondary"; fix.textContent = "Intento giusto…";
      fix.addEventListener("click", async () => {
        const intent = prompt("Intento corretto per: " + turn.text); if (!intent) return;
        await post("/console/api/corrections?conversation_id=" + encodeURIComponent(id), {text: turn.text, intent});
      });
      div.appendChild(fix);
    }
    return div;
  }
  async function refresh() {
    const data = await (await fetch(api)).json();
    ticket = data.ticket;
    const wa = document.getElementById("whatsapp"), waLine = data.whatsapp ? data.whatsapp.line : ""; if (wa && wa.textContent !== waLine) wa.textContent = waLine;  // WhatsApp: window, waiting replies, Meta's errors
    const s = data.ticket ? data.ticket.summary : null;
    setText(document.getElementById("summary"), s
      ? `Canale: ${s.channel} · Cliente: ${s.customer.verified ? "verificato " + s.customer.code : "non verificato"} · Voleva: ${(s.wanted || []).join(", ")} · Motivo: ${s.reason}` +
        (data.ticket.taken_by ? ` · Assegnata a: ${data.ticket.taken_by}` : " · In attesa")
      : (data.paused ? "In pausa" : "Nessun passaggio a operatore aperto: risponde l'assistente."));
    showTurns(data.turns);
  }
  document.getElementById("reply").addEventListener("submit", async (event) => {
    event.preventDefault(); const box = document.getElementById("text");
    await post(api + "/reply", {text: box.value}); box.value = ""; refresh();
  });
  document.getElementById("handback").addEventListener("click", async () => { await post(api + "/handback"); refresh(); });
  document.getElementById("close").addEventListener("click", async () => {
    await post(api + "/close", {outcome: document.getElementById("outcome").value}); refresh(); });
  document.getElementById("transfer").addEventListener("click", async () => {
    const to = document.getElementById("transfer-to").value.trim();
    if (!ticket || !to) return;
    await post(`/console/api/tickets/${ticket.id}/transfer`, {to}); refresh();
  });
  async function annotations() {
    const a = await (await fetch(api + "/annotations")).json();
    document.getElementById("annotations").textContent = "Etichette: " + (a.tags.join(", ") || "—") + " · Note: " + a.notes.map(n => n.author + ": " + n.text).join(" | ");
  }
  document.getElementById("addtag").addEventListener("click", async () => { await post(api + "/tags", {tag: document.getElementById("tag").value}); annotations(); });
  document.getElementById("addnote").addEventListener("click", async () => { await post(api + "/notes", {text: document.getElementById("note").value}); annotations(); });
  let timer = null;
  document.getElementById("reveal")?.addEventListener("click", async () => {
    const data = await post(api + "/reveal"); clearInterval(timer);
    showTurns(data.turns);
  });
  annotations(); refresh(); timer = setInterval(refresh, 2000);
})();
