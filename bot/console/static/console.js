// Shared by every console page: CSRF-protected POSTs, logout, the supervisor's security notice.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

// A refused action is said where the page shows it (#action-status, role=alert), else alerted.
async function post(url, body) {
  const answer = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                   body: JSON.stringify(body || {})});
  if (!answer.ok) {
    let message = await answer.text();
    try { message = JSON.parse(message).detail || message; } catch (e) { /* not JSON */ }
    if (typeof message !== "string") message = "Richiesta non valida.";
    const place = document.getElementById("action-status");
    if (place) place.textContent = message; else alert(message);
    const error = new Error(message); error.status = answer.status; throw error;
  }
  return answer.json();
}

// Push (issue 14): the queue arrives by server-sent events on every console page; a new ticket
// raises a notification: the page title, a sound the agent can mute, the browser's Notification.
const desk = (() => {
  if (!csrf) return null;
  const title = document.title;
  let unseen = 0;
  const soundButton = document.getElementById("sound");
  const notifyButton = document.getElementById("notify");
  let muted = localStorage.getItem("console:muted") === "1";
  function showSound() {
    if (!soundButton) return;
    soundButton.setAttribute("aria-pressed", muted ? "false" : "true");
    soundButton.textContent = muted ? "Suono disattivato" : "Suono attivo";
  }
  soundButton?.addEventListener("click", () => { muted = !muted; localStorage.setItem("console:muted", muted ? "1" : "0"); showSound(); });
  showSound();
  function showNotify() {
    if (!notifyButton) return;
    notifyButton.hidden = !("Notification" in window) || Notification.permission !== "default";
  }
  notifyButton?.addEventListener("click", async () => { await Notification.requestPermission(); showNotify(); });
  showNotify();
  function beep() {
    if (muted) return;
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880; gain.gain.value = 0.08;
      tone.connect(gain); gain.connect(audio.destination);
      tone.start(); tone.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio: the title and the notification still say it */ }
  }
  function notify(ticket) {
    unseen += 1;
    window.consoleNotifications = (window.consoleNotifications || 0) + 1;  // read by the tests
    document.title = `(${unseen}) Nuova richiesta · ${title}`;
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      const text = `${ticket.channel_label}: ${ticket.reason || "richiesta di un operatore"}`;
      new Notification(ticket.emergency ? "EMERGENZA in coda" : "Nuova richiesta in coda", {body: text, tag: "ticket-" + ticket.id});
    }
  }
  function seen() { if (!document.hidden) { unseen = 0; document.title = title; } }
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("focus", seen);
  const stream = new EventSource("/console/api/events/queue");
  stream.addEventListener("new_ticket", event => notify(JSON.parse(event.data)));
  stream.addEventListener("queue", event => document.dispatchEvent(new CustomEvent("queue", {detail: JSON.parse(event.data)})));
  return {stream};
})();

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
