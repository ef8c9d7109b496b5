(() => {
  const colors = {rest: "#0b5cad", socketio: "#2e9e5b", whatsapp: "#25d366", "?": "#999"};
  function bar(svg, x, y, w, h, color, label) {
    const r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    Object.entries({x, y, width: w, height: h, fill: color}).forEach(([k, v]) => r.setAttribute(k, v));
    const t = document.createElementNS("http://www.w3.org/2000/svg", "title"); t.textContent = label; r.appendChild(t);
    svg.appendChild(r);
  }
  function text(svg, x, y, value) {
    const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", "11"); t.textContent = value; svg.appendChild(t);
  }
  // Issue 17: the figures of a range of days (the last 30 by default), and their CSV.
  function range() {
    const form = document.getElementById("range");
    if (!form) return "";
    const query = new URLSearchParams([...new FormData(form)].filter(([, v]) => v)).toString();
    const csv = document.getElementById("metrics-csv"); if (csv) csv.href = "/console/api/metrics.csv?" + query;
    return query;
  }
  async function draw() {
    const answer = await fetch("/console/api/metrics?" + range());
    if (!answer.ok) { document.getElementById("numbers").textContent = (await answer.json()).detail; return; }
    const m = await answer.json();
    document.getElementById("days").replaceChildren(); document.getElementById("intents").replaceChildren();
    const pct = v => (v * 100).toFixed(1) + " %";
    document.getElementById("numbers").textContent =
      `Conversazioni: ${m.conversations} · Risolte senza operatore (contenimento): ${pct(m.containment)} · ` +
      `Passate a operatore: ${pct(m.handoff_rate)} · Con messaggi non capiti: ${pct(m.fallback_rate)} · ` +
      `Prima risposta dell'operatore: ${m.first_agent_reply_seconds === null ? "—" : m.first_agent_reply_seconds + " s in media"}` +
      ` · mediana ${m.first_agent_reply_median_seconds === null ? "—" : m.first_agent_reply_median_seconds + " s"}`;
    // Issue 14: the CSAT (share of ratings 4-5 after a conversation with a person) and the
    // handoffs by reason, with the reasons' legend in Italian.
    document.getElementById("csat").textContent = m.csat.share === null
      ? "Soddisfazione dei clienti (CSAT): nessuna valutazione nel periodo"
      : `Soddisfazione dei clienti (CSAT): ${pct(m.csat.share)} (${m.csat.satisfied} valutazioni su ${m.csat.rated} con 4 o 5)`;
    const reasons = document.getElementById("reasons"), legend = document.getElementById("reasons-legend");
    reasons.replaceChildren(); legend.replaceChildren();
    const most = Math.max(1, ...m.handoffs_by_reason.map(r => r.handoffs));
    reasons.setAttribute("height", String(Math.max(30, 8 + m.handoffs_by_reason.length * 24)));
    m.handoffs_by_reason.forEach((r, i) => {
      const rated = r.rated ? ` · CSAT ${pct(r.satisfied / r.rated)} su ${r.rated}` : "";
      bar(reasons, 40, 8 + i * 24, 600 * r.handoffs / most, 18, "#7a5b00", `${r.label}: ${r.handoffs}`);
      text(reasons, 4, 21 + i * 24, `${i + 1}.`); text(reasons, 48 + 600 * r.handoffs / most, 21 + i * 24, String(r.handoffs));
      const item = document.createElement("li"); item.textContent = `${r.label}: ${r.handoffs}${rated}`; legend.appendChild(item);
    });
    const days = Object.entries(m.per_day), svg = document.getElementById("days");
    const max = Math.max(1, ...days.map(([, c]) => Object.values(c).reduce((a, b) => a + b, 0)));
    days.forEach(([day, counts], i) => {
      let top = 190; const x = 10 + i * 40;
      Object.entries(counts).forEach(([channel, n]) => { const h = 170 * n / max; top -= h; bar(svg, x, top, 28, h, colors[channel] || "#999", `${day} ${channel}: ${n}`); });
      text(svg, x, 210, day.slice(5));
    });
    const intents = document.getElementById("intents"), top = Math.max(1, ...m.top_intents.map(([, n]) => n));
    m.top_intents.forEach(([name, n], i) => { bar(intents, 170, 8 + i * 24, 600 * n / top, 18, "#0b5cad", `${name}: ${n}`); text(intents, 4, 21 + i * 24, `${name} (${n})`); });
  }
  const form = document.getElementById("range");
  if (form) {
    const day = d => d.toISOString().slice(0, 10), today = new Date();
    if (!form.elements.until.value) form.elements.until.value = day(today);
    if (!form.elements.since.value) form.elements.since.value = day(new Date(today.getTime() - 29 * 86400000));
    form.addEventListener("submit", e => { e.preventDefault(); draw(); });
  }
  draw();
})();
