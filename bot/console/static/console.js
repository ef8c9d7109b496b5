// Shared by every console page: CSRF-protected POSTs, logout, the supervisor's security notice.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

async function post(url, body) {
  const answer = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                   body: JSON.stringify(body || {})});
  if (!answer.ok) {
    let message = await answer.text();
    try { message = JSON.parse(message).detail || message; } catch (e) { /* not JSON */ }
    alert(message);
    throw new Error(message);
  }
  return answer.json();
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await post("/console/logout"); location.href = "/console/login";
});

(async () => {
  const notice = document.getElementById("security-notice");
  if (!notice) return;  // agents do not see it
  const answer = await fetch("/console/api/security");
  if (!answer.ok) return;
  const data = await answer.json();
  if (!data.locked.length && !data.failures_last_day) return;
  const parts = [];
  if (data.locked.length) parts.push("Account bloccati: " + data.locked.map(a => a.username).join(", ") + ".");
  if (data.failures_last_day) parts.push(`Accessi non riusciti nelle ultime 24 ore: ${data.failures_last_day}.`);
  notice.textContent = parts.join(" ") + " ";
  const link = document.createElement("a"); link.href = "/console/security"; link.textContent = "Vai a Sicurezza";
  notice.appendChild(link);
  notice.hidden = false;
})();
