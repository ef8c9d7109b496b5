(() => {
  // The table is updated by difference, never rebuilt: a screen reader reading it (or the
  // agent's focus on a button) is not thrown back at every poll. What is announced is the
  // number of waiting conversations (role=status), and only when it changes.
  const body = document.getElementById("queue");
  const status = document.getElementById("queue-status");
  const rows = new Map();  // ticket id -> <tr>
  const tickets = new Map();  // ticket id -> the latest data of that ticket
  let empty = null;
  function minutes(s) { return s < 60 ? s + " s" : Math.floor(s / 60) + " min"; }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
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
        if (current.status === "waiting") await post(`/console/api/tickets/${current.id}/take`);
        location.href = "/console/conversations/" + encodeURIComponent(current.conversation_id);
      });
      td.appendChild(button); tr.appendChild(td); rows.set(t.id, tr);
    }
    const customer = t.summary.customer.verified ? "verificato " + t.summary.customer.code : "non verificato";
    [minutes(t.waiting_seconds), t.channel, customer, t.reason, (t.summary.wanted || []).join(", "),
     t.status === "active" ? "con " + t.taken_by : "in attesa"].forEach((v, i) => setText(tr.cells[i], String(v)));
    setText(tr.querySelector("button"), t.status === "waiting" ? "Prendi" : "Apri");
    return tr;
  }
  async function refresh() {
    const data = await (await fetch("/console/api/queue")).json();
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
  refresh(); setInterval(refresh, 3000);
})();
