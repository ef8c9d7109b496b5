// The supervisors' page of canned replies: list, create, edit, delete (the server audits each change).
(() => {
  const form = document.getElementById("canned-form");
  const title = document.getElementById("canned-title"), body = document.getElementById("canned-body");
  const heading = document.getElementById("form-title"), cancel = document.getElementById("cancel");
  const status = document.getElementById("action-status");
  let editing = null;  // the id of the reply being edited, or null for a new one
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  function edit(reply) {
    editing = reply ? reply.id : null;
    title.value = reply ? reply.title : ""; body.value = reply ? reply.body : "";
    heading.textContent = reply ? `Modifica di «${reply.title}»` : "Nuova risposta pronta";
    cancel.hidden = !reply; status.textContent = "";
    if (reply) title.focus();
  }
  async function load() {
    const data = await (await fetch("/console/api/canned")).json();
    const rows = document.getElementById("replies"); rows.replaceChildren();
    for (const reply of data.replies) {
      const tr = document.createElement("tr");
      tr.append(cell(reply.title), cell(reply.body), cell(`${reply.updated_at} (${reply.updated_by})`));
      const td = document.createElement("td");
      const change = document.createElement("button"); change.type = "button"; change.className = "secondary";
      change.textContent = "Modifica"; change.setAttribute("aria-label", "Modifica " + reply.title);
      change.addEventListener("click", () => edit(reply));
      const remove = document.createElement("button"); remove.type = "button"; remove.className = "secondary";
      remove.textContent = "Elimina"; remove.setAttribute("aria-label", "Elimina " + reply.title);
      remove.addEventListener("click", async () => {
        if (!confirm(`Eliminare la risposta pronta «${reply.title}»?`)) return;
        try { await post(`/console/api/canned/${reply.id}/delete`); } catch (e) { return; }
        if (editing === reply.id) edit(null);
        load();
      });
      td.append(change, " ", remove); tr.appendChild(td); rows.appendChild(tr);
    }
  }
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const url = editing === null ? "/console/api/canned" : `/console/api/canned/${editing}`;
    try { await post(url, {title: title.value, body: body.value}); } catch (e) { return; }  // said in #action-status
    edit(null); load();
  });
  cancel.addEventListener("click", () => edit(null));
  load();
})();
