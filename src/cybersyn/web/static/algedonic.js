// Algedonic board: open alerts from /api/v1/alerts?status=open, most urgent first, with a
// countdown to each deadline and the path each alert has climbed. New alerts arrive over
// server-sent events (/api/v1/alerts/stream) without a reload; acknowledge/resolve with a note.
(function () {
  "use strict";
  const table = document.getElementById("board");
  if (!table || table.dataset.api !== "yes") return;
  const body = table.tBodies[0];
  const status = document.getElementById("board-status");
  const empty = document.getElementById("board-empty");
  const units = JSON.parse(document.getElementById("units-data").textContent);
  const me = JSON.parse(document.getElementById("me-data").textContent);
  const rows = new Map();
  let alerts = [];
  let first = true;

  function name(uid) { return units[uid] ? units[uid][0] : uid; }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  // Open alerts by deadline first; acknowledged ones (no deadline) after them.
  function urgency(a) { return a.deadline ? Date.parse(a.deadline) : Infinity; }
  function left(a) {
    if (!a.deadline) return ["no deadline", false];
    const s = Math.round((Date.parse(a.deadline) - Date.now()) / 1000);
    const abs = Math.abs(s), h = Math.floor(abs / 3600), m = Math.floor(abs % 3600 / 60);
    const txt = (h ? h + "h " : "") + m + "m " + (abs % 60) + "s";
    return s >= 0 ? [txt, false] : ["overdue " + txt, true];
  }
  function unitLink(uid) { const a = el("a", name(uid)); a.href = "/units/" + encodeURIComponent(uid); return a; }
  function escalated(a) { return a.unit_id !== a.origin_unit_id; }
  // Mirrors the server's rule (cybersyn.alerts.access.may_act); the server still decides.
  function covers(held, uid) {
    for (let u = uid; u; u = units[u] ? units[u][2] : null) if (held.includes(u)) return true;
    return false;
  }
  function mayAct(a) {
    if (!me) return false;
    if (me.kind === "planner" || me.kind === "admin") return true;
    return (me.kind === "operator" || me.kind === "member") && covers(me.units, a.unit_id);
  }

  function build(a) {
    const tr = el("tr"); tr.id = "alert-" + a.id; tr.dataset.id = a.id;
    for (let k = 0; k < 9; k++) tr.appendChild(el("td"));
    const act = el("div", undefined, "act");
    if (mayAct(a)) {
      const note = el("input"); note.type = "text"; note.placeholder = "note";
      note.setAttribute("aria-label", "note for alert " + a.id);
      const ack = el("button", "Acknowledge"); ack.type = "button"; ack.dataset.action = "acknowledge";
      const res = el("button", "Resolve"); res.type = "button"; res.dataset.action = "resolve";
      ack.setAttribute("aria-label", "acknowledge alert " + a.id);
      res.setAttribute("aria-label", "resolve alert " + a.id);
      act.append(note, ack, res);
    } else if (!me) {
      const login = el("a", "log in to act"); login.href = "/login?next=/algedonic"; act.appendChild(login);
    } else {
      act.appendChild(el("span", "not yours to act on", "muted"));
    }
    tr.cells[8].appendChild(act);
    if (!first) tr.classList.add("fresh");
    return tr;
  }
  function fill(tr, a) {
    tr.className = (escalated(a) ? "alarm" : "warning") + (tr.classList.contains("fresh") ? " fresh" : "");
    const c = tr.cells;
    c[0].textContent = a.level || "";
    c[1].replaceChildren(unitLink(a.unit_id));
    c[2].textContent = a.indicator_id || "";
    c[3].textContent = a.kind || "";
    c[4].textContent = a.probability == null ? "" : Number(a.probability).toFixed(2);
    c[6].textContent = (a.path && a.path.length ? a.path : [a.origin_unit_id, a.unit_id])
      .filter((u, i, arr) => u && arr.indexOf(u) === i).map(name).join(" → ");
    c[6].className = "path";
    c[7].textContent = a.status + (a.note ? " — " + a.note : "");
    tick(tr, a);
  }
  function tick(tr, a) {
    const [txt, overdue] = left(a);
    tr.cells[5].textContent = txt; tr.cells[5].className = overdue ? "overdue" : "";
  }
  function render(list) {
    alerts = list.filter((a) => a.status !== "resolved")
      .sort((x, y) => (urgency(x) - urgency(y)) || (x.id - y.id));
    const ids = new Set(alerts.map((a) => String(a.id)));
    rows.forEach((tr, id) => { if (!ids.has(id)) { tr.remove(); rows.delete(id); } });
    alerts.forEach((a, k) => {
      const id = String(a.id);
      let tr = rows.get(id);
      if (!tr) { tr = build(a); rows.set(id, tr); }
      fill(tr, a);
      if (body.rows[k] !== tr) body.insertBefore(tr, body.rows[k] || null);
    });
    empty.hidden = alerts.length > 0;
    first = false;
  }
  async function refresh() {
    try {
      const lists = await Promise.all(["open", "acknowledged"].map(async (s) => {
        const r = await fetch("/api/v1/alerts?status=" + s, { headers: { Accept: "application/json" } });
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      }));
      render(lists[0].concat(lists[1]));
    } catch (e) { status.textContent = "could not load alerts (" + e.message + ")"; }
  }
  async function act(tr, action) {
    const note = tr.querySelector("input").value;
    const r = await fetch("/api/v1/alerts/" + encodeURIComponent(tr.dataset.id) + "/" + action, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ note: note }) });
    if (r.ok) { status.textContent = "alert " + tr.dataset.id + ": " + action + "d"; await refresh(); return; }
    let detail = r.statusText;
    try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
    status.textContent = "alert " + tr.dataset.id + ": " + detail;
  }
  body.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b) act(b.closest("tr"), b.dataset.action);
  });
  setInterval(() => alerts.forEach((a) => { const tr = rows.get(String(a.id)); if (tr) tick(tr, a); }), 1000);
  refresh();
  if (window.EventSource) {
    const es = new EventSource("/api/v1/alerts/stream");
    const again = () => refresh();
    es.addEventListener("alert", again);
    window.addEventListener("pagehide", () => es.close());
  }
  setInterval(refresh, 15000);
})();
