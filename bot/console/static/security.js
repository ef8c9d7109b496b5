(() => {
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  async function load() {
    const data = await (await fetch("/console/api/security")).json();
    const locked = document.getElementById("locked"); locked.replaceChildren();
    if (!data.locked.length) { const tr = document.createElement("tr"); tr.appendChild(cell("Nessun account bloccato.")); locked.appendChild(tr); }
    for (const account of data.locked) {
      const tr = document.createElement("tr");
      [account.username, account.locked_at, account.failures].forEach(v => tr.appendChild(cell(v)));
      const td = document.createElement("td"); const button = document.createElement("button");
      button.textContent = "Sblocca";
      button.addEventListener("click", async () => { await post("/console/api/security/unlock", {username: account.username}); load(); });
      td.appendChild(button); tr.appendChild(td); locked.appendChild(tr);
    }
    const failures = document.getElementById("failures"); failures.replaceChildren();
    for (const f of data.recent_failures) {
      const tr = document.createElement("tr");
      [f.at, f.username, f.action, f.detail].forEach(v => tr.appendChild(cell(v)));
      failures.appendChild(tr);
    }
  }
  load();
})();
