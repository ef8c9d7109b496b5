(() => {
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  async function load() {
    const query = new URLSearchParams([...new FormData(document.getElementById("filters"))].filter(([k, v]) => v)).toString();
    for (const [link, path] of [["csv", "export.csv"], ["jsonl", "export.jsonl"]]) {
      const a = document.getElementById(link); if (a) a.href = "/console/api/" + path + "?" + query;
    }
    page.query = query; page.next = null; page.shown = 0;
    document.getElementById("rows").replaceChildren();
    await loadMore();
  }
  // Issue 17: the review comes a page at a time (a cursor); "Carica altre" appends the next page
  // and the status line announces how many are shown out of how many.
  const page = { query: "", next: null, shown: 0, total: "" };
  async function loadMore() {
    const params = new URLSearchParams(page.query);
    if (page.next) params.set("after", page.next);
    const data = await (await fetch("/console/api/conversations?" + params.toString())).json();
    if (!page.next) page.total = data.count !== null ? String(data.count) : "più di " + data.count_more_than;
    const body = document.getElementById("rows");
    for (const c of data.conversations) {
      const tr = document.createElement("tr");
      const link = document.createElement("a"); link.href = "/console/conversations/" + encodeURIComponent(c.id); link.textContent = c.last;
      const first = document.createElement("td"); first.appendChild(link); tr.appendChild(first);
      const flags = [c.fallback && "non capito", c.low_confidence && "bassa confidenza", c.handed_off && "operatore",
                     c.verified && "verificato", c.outcome, ...c.tags].filter(Boolean).join(", ");
      [c.channel, c.user_turns, c.intents.join(", "), flags, c.preview].forEach(v => tr.appendChild(cell(v)));
      body.appendChild(tr);
    }
    page.next = data.next; page.shown += data.conversations.length;
    const more = document.getElementById("more"), status = document.getElementById("count");
    if (more) more.hidden = !page.next;
    if (status) status.textContent = page.shown + " conversazioni mostrate su " + page.total;
  }
  const moreButton = document.getElementById("more");
  if (moreButton) moreButton.addEventListener("click", loadMore);
  document.getElementById("filters").addEventListener("submit", e => { e.preventDefault(); load(); });
  load();
})();
