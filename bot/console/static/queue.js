(() => {
  // Pushed by server-sent events (console.js dispatches each `queue` event here); the first
  // rows come from /console/api/queue. The table is updated by difference, never rebuilt: a
  // screen reader reading it (or the agent's focus on a button) is not thrown back at every
  // change. What is announced is the number of waiting conversations, and only when it changes.
  const body = document.getElementById("queue");
  const status = document.getElementById("queue-status");
  const rows = new Map();  // ticket id -> <tr>
  const tickets = new Map();  // ticket id -> the latest data of that ticket
  let empty = null;
  let skew = 0;  // server clock minus this browser's, in seconds
  function waited(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function customerCell(td, t) {
    setText(td, `${t.display_name} · ${t.verified ? "verificato" : "non verificato"}` +
                (t.verified && t.summary.customer.code ? ` (${t.summary.customer.code})` : ""));
  }
  function row(t) {
    tickets.set(t.id, t);
    let tr = rows.get(t.id);
    if (!tr) {
      tr = document.createElement("tr");
      for (let i = 0; i < 6; i++) tr.appendChild(document.createElement("td"));
      const td = document.createElement("td"); const button = document.createElement("button");
      button.type = "button";
      button.addEventListener("click", async () => {
        const current = tickets.get(t.id);
        if (current.status === "waiting") {
          try { await post(`/console/api/tickets/${current.id}/take`); } catch (e) { return; }  // said in #action-status
        }
        location.href = "/console/conversations/" + encodeURIComponent(current.conversation_id);
      });
      td.appendChild(button); tr.appendChild(td); rows.set(t.id, tr);
    }
    tr.classList.toggle("emergency", t.emergency);
    tick(tr, t);
    customerCell(tr.cells[1], t);
    setText(tr.cells[2], t.channel_label);
    setText(tr.cells[3], (t.emergency ? "EMERGENZA · " : "") + (t.reason || ""));
    setText(tr.cells[4], (t.summary.wanted_labels || t.summary.wanted || []).join(", "));
    setText(tr.cells[5], t.status === "active" ? t.taken_by : "in attesa");
    setText(tr.querySelector("button"), t.status === "waiting" ? "Prendi" : "Apri");
    return tr;
  }
  function tick(tr, t) {
    const now = Date.now() / 1000 + skew;
    setText(tr.cells[0], t.status === "waiting" ? waited(now - t.created_at) : waited(t.waiting_seconds));
  }
  function show(data) {
    if (data.now) skew = data.now - Date.now() / 1000;
    const wanted = data.tickets.map(row);
    const ids = new Set(data.tickets.map(t => t.id));
    for (const [id, tr] of rows) if (!ids.has(id)) { tr.remove(); rows.delete(id); tickets.delete(id); }
    if (!wanted.length) {
      if (!empty) {
        empty = document.createElement("tr"); const td = document.createElement("td");
        td.colSpan = 7; td.textContent = "Nessuna conversazione in attesa."; empty.appendChild(td);
      }
      wanted.push(empty);
    }
    // only a row out of place moves
    wanted.forEach((tr, i) => { if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null); });
    while (body.children.length > wanted.length) body.lastElementChild.remove();
    const waiting = data.tickets.filter(t => t.status === "waiting").length;
    setText(status, waiting === 1 ? "1 conversazione in attesa." : `${waiting} conversazioni in attesa.`);
  }
  document.addEventListener("queue", event => show(event.detail));
  fetch("/console/api/queue").then(answer => answer.json()).then(data => { if (!rows.size) show(data); });
  setInterval(() => { for (const [id, tr] of rows) tick(tr, tickets.get(id)); }, 15000);
})();
