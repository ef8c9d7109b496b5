(() => {
  function minutes(s) { return s < 60 ? s + " s" : Math.floor(s / 60) + " min"; }
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  async function refresh() {
    const data = await (await fetch("/console/api/queue")).json();
    const body = document.getElementById("queue");
    body.replaceChildren();
    if (!data.tickets.length) { const tr = document.createElement("tr"); tr.appendChild(cell("Nessuna conversazione in attesa.")); body.appendChild(tr); }
    for (const t of data.tickets) {
      const tr = document.createElement("tr");
      const customer = t.summary.customer.verified ? "verificato " + t.summary.customer.code : "non verificato";
      [minutes(t.waiting_seconds), t.channel, customer, t.reason, (t.summary.wanted || []).join(", "),
       t.status === "active" ? "con " + t.taken_by : "in attesa"].forEach(v => tr.appendChild(cell(v)));
      const td = document.createElement("td"); const button = document.createElement("button");
      button.textContent = t.status === "waiting" ? "Prendi" : "Apri";
      button.addEventListener("click", async () => {
        if (t.status === "waiting") await post(`/console/api/tickets/${t.id}/take`);
        location.href = "/console/conversations/" + encodeURIComponent(t.conversation_id);
      });
      td.appendChild(button); tr.appendChild(td); body.appendChild(tr);
    }
  }
  refresh(); setInterval(refresh, 3000);
})();
