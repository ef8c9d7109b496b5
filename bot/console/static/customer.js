// The conversation page's customer panel and canned-reply picker (issue 14).
(() => {
  const id = document.getElementById("conversation").dataset.id;
  const api = "/console/api/conversations/" + encodeURIComponent(id);
  const place = document.getElementById("customer");
  const box = document.getElementById("text");

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  function list(title, items, empty, render) {
    const section = document.createDocumentFragment();
    section.appendChild(element("h3", title));
    if (!items.length) { section.appendChild(element("p", empty, "meta")); return section; }
    const ul = document.createElement("ul");
    for (const item of items) ul.appendChild(render(item));
    section.appendChild(ul);
    return section;
  }
  const when = seconds => new Date(seconds * 1000).toLocaleString("it-IT", {
    timeZone: "Europe/Rome", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"});
  const OUTCOMES = {risolto: "risolto", non_risolto: "non risolto", richiamata: "da richiamare", reclamo: "reclamo",
                    restituito_al_bot: "restituito all'assistente"};

  function show(data) {
    const parts = [];
    if (!data.verified) {
      parts.push(element("p", data.message, "meta"));
      place.replaceChildren(...parts);
      return;
    }
    parts.push(element("p", `${data.customer.name || "Nome non disponibile"} · codice ${data.customer.code} · verificato`));
    if (data.message) parts.push(element("p", data.message, "error"));
    else {
      parts.push(list("Bollette aperte", data.bills, "Nessuna bolletta aperta.", bill => {
        const li = element("li", `${bill.supply} · ${bill.amount} · scadenza ${bill.due}`);
        if (bill.arrears) li.append(element("strong", " · in mora"));
        if (bill.has_plan) li.append(" · a rate");
        return li;
      }));
      parts.push(list("Rateizzazioni", data.plans, "Nessuna rateizzazione.", plan =>
        element("li", `${plan.bill} · ${plan.installments} rate, totale ${plan.total}` + (plan.next ? ` · prossima: ${plan.next}` : " · nessuna rata futura"))));
      const deferred = data.bills.filter(bill => bill.deferral);
      parts.push(list("Rinvii", deferred, "Nessun rinvio.", bill => element("li", `${bill.supply} ${bill.amount}: ${bill.deferral}`)));
    }
    parts.push(list("Conversazioni (tutti i canali)", data.timeline, "Nessuna conversazione.", item => {
      const li = element("li", null, item.current ? "current" : "");
      const link = element("a", `${item.channel_label} · ${when(item.started)}`);
      link.href = "/console/conversations/" + encodeURIComponent(item.id);
      if (item.current) link.setAttribute("aria-current", "page");
      li.appendChild(link);
      const about = [item.topics.join(", ") || "nessuna richiesta riconosciuta"];
      if (item.handed_off) about.push("passata a un operatore" + (item.outcome ? ` (${OUTCOMES[item.outcome] || item.outcome})` : ""));
      if (item.current) about.push("questa conversazione");
      li.appendChild(element("div", about.join(" · "), "meta"));
      return li;
    }));
    place.replaceChildren(...parts);
  }
  async function load() {
    const answer = await fetch(api + "/customer");
    if (!answer.ok) { place.replaceChildren(element("p", "Dati del cliente non disponibili: riprovi tra poco.", "error")); return; }
    show(await answer.json());
  }
  document.getElementById("customer-refresh").addEventListener("click", load);
  load();

  // canned replies: the picker puts the reply, filled for this customer, where the cursor is
  const picker = document.getElementById("canned"), note = document.getElementById("canned-note");
  (async () => {
    const answer = await fetch("/console/api/canned");
    if (!answer.ok) return;
    for (const reply of (await answer.json()).replies) {
      const option = element("option", reply.title); option.value = reply.id; picker.appendChild(option);
    }
  })();
  document.getElementById("insert-canned").addEventListener("click", async () => {
    if (!picker.value || box.disabled) return;
    const answer = await fetch(`${api}/canned/${encodeURIComponent(picker.value)}`);
    if (!answer.ok) { note.textContent = "Risposta pronta non disponibile: riprovi."; return; }
    const filled = await answer.json();
    box.focus();
    box.setRangeText(filled.text, box.selectionStart, box.selectionEnd, "end");
    box.dispatchEvent(new Event("input"));  // the typing indicator, as if typed
    note.textContent = filled.missing.length
      ? `Da completare prima di inviare: ${filled.missing.map(name => "{" + name + "}").join(", ")} (dato non noto per questo cliente).`
      : "";
    if (filled.missing.length) {  // the first placeholder selected: the agent types over it
      const at = box.value.indexOf("{" + filled.missing[0] + "}");
      if (at >= 0) box.setSelectionRange(at, at + filled.missing[0].length + 2);
    }
    picker.value = "";
  });
})();
