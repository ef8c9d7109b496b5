(() => {
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  async function load() {
    const query = new URLSearchParams([...new FormData(document.getElementById("filters"))].filter(([k, v]) => v)).toString();
    for (const [link, path] of [["csv", "export.csv"], ["jsonl", "export.jsonl"]]) {
      const a = document.getElementById(link); if (a) a.href = "/console/api/" + path + "?" + query;
    }
    const data = await (await fetch("/console/api/conversations?" + query)).json();
    const body = document.getElementById("rows"); body.replaceChildren();
    for (const c of data.conversations) {
      const tr = document.createElement("tr");
      const link = document.createElement("a"); link.href = "/console/conversations/" + encodeURIComponent(c.id); link.textContent = c.last;
      const first = document.createElement("td"); first.appendChild(link); tr.appendChild(first);
      const flags = [c.fallback && "non capito", c.low_confidence && "bassa confidenza", c.handed_off && "operatore",
                     c.verified && "verificato", c.outcome, ...c.tags].filter(Boolean).join(", ");
      [c.channel, c.user_turns, c.intents.join(", "), flags, c.preview].forEach(v => tr.appendChild(cell(v)));
      body.appendChild(tr);
    }
  }
  document.getElementById("filters").addEventListener("submit", e => { e.preventDefault(); load(); });
  load();
})();
