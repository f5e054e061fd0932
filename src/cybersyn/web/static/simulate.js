// Simulate page: run a bundled scenario through POST /api/v1/simulate/runs and compare the
// ticked runs: one uPlot chart per national series (x = day of the run), one line per
// run and variant, and a table of each variant's summary figures.
(function () {
  "use strict";
  const form = document.getElementById("sim-form");
  if (!form || !window.uPlot) return;
  const box = document.getElementById("compare");
  const runs = document.getElementById("runs");
  const status = document.getElementById("sim-status");
  const table = document.getElementById("summary");
  const cache = new Map();
  const COLORS = ["#62b0ff", "#f0b429", "#3fb27f", "#ef4e4e", "#c38cff", "#4dd0c8", "#ff8fb1", "#b5c75a"];
  const SERIES = [["output_pct", "National output, % of the steady state"],
                  ["entitlements_met_pct", "Entitlements met, % (households, weighted)"],
                  ["worst_district_met_pct", "Worst district, % of entitlements met"]];
  const FIGURES = [["output_lost_pct_of_horizon", "output lost, % of horizon"],
                   ["lowest_output_pct", "lowest output %"],
                   ["entitlements_met_pct_during_shock", "entitlements met during shock %"],
                   ["worst_district_met_pct", "worst district met %"],
                   ["days_to_recover", "days to recover"],
                   ["goods_spoiled_hours", "goods spoiled (hours)"]];

  function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; }
  async function fetchRun(id) {
    if (!cache.has(id)) {
      const r = await fetch("/api/v1/simulate/runs/" + encodeURIComponent(id));
      if (!r.ok) throw new Error("run " + id + ": HTTP " + r.status);
      cache.set(id, await r.json());
    }
    return cache.get(id);
  }
  function ticked() { return Array.from(runs.querySelectorAll("input:checked")).map((i) => i.value); }
  function lines(list) {
    const out = [];
    list.forEach((run) => run.variants.forEach((v) => out.push({ run: run, v: v,
      label: run.scenario + " " + run.id.slice(0, 6) + " · " + v.name })));
    return out;
  }
  function chart(key, title, ls) {
    const n = Math.max(0, ...ls.map((l) => l.v[key].length));
    const x = Array.from({ length: n }, (_, k) => k);
    const cols = [x].concat(ls.map((l) => x.map((k) => (k < l.v[key].length ? l.v[key][k] : null))));
    const div = el("div"); div.className = "chart"; div.dataset.series = key;
    div.appendChild(el("h3", title));
    box.appendChild(div);
    const opts = { width: Math.max(320, div.clientWidth - 16), height: 220, legend: { show: true },
      scales: { x: { time: false } },
      series: [{ label: "day" }].concat(ls.map((l, k) => ({ label: l.label, stroke: COLORS[k % COLORS.length], width: 1.5 }))),
      axes: [{ stroke: "#8fa1b3", grid: { stroke: "#24313f" }, label: "day of the run" },
             { stroke: "#8fa1b3", grid: { stroke: "#24313f" }, size: 56 }] };
    new window.uPlot(opts, cols, div);
  }
  function summary(ls) {
    const head = el("tr"); head.appendChild(el("th", "run · variant"));
    FIGURES.forEach((f) => head.appendChild(el("th", f[1])));
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(...ls.map((l) => {
      const tr = el("tr"); tr.appendChild(el("td", l.label));
      FIGURES.forEach((f) => { const v = l.v.summary[f[0]]; tr.appendChild(el("td", v == null ? "—" : String(v))); });
      return tr;
    }));
  }
  async function redraw() {
    const ids = ticked();
    box.replaceChildren();
    try {
      const ls = lines(await Promise.all(ids.map(fetchRun)));
      if (!ls.length) { box.appendChild(el("p", "Tick a run to draw it.")); summary([]); return; }
      SERIES.forEach((s) => chart(s[0], s[1], ls));
      summary(ls);
    } catch (e) { status.textContent = String(e.message || e); }
  }
  function addRun(run) {
    const none = document.getElementById("no-runs"); if (none) none.remove();
    const label = el("label"); const box_ = el("input"); box_.type = "checkbox"; box_.value = run.id; box_.checked = true;
    label.append(box_, " " + run.scenario + " · " + run.created_at.slice(0, 19).replace("T", " ") + " ");
    label.appendChild(el("small", run.id.slice(0, 8)));
    runs.insertBefore(label, runs.querySelector("label"));
  }
  async function run(ev) {
    ev.preventDefault();
    const button = document.getElementById("run-button");
    const body = { scenario: form.scenario.value };
    if (form.days.value) body.days = Number(form.days.value);
    button.disabled = true; status.textContent = "running " + body.scenario + " …";
    try {
      const r = await fetch("/api/v1/simulate/runs", { method: "POST",
        headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const out = await r.json();
      if (!r.ok) { status.textContent = "error: " + (out.detail || out.title || r.status); return; }
      cache.set(out.id, out); addRun(out);
      status.textContent = "ran " + out.scenario + " (" + out.dates.length + " days, " + out.variants.length + " variants)";
      await redraw();
    } finally { button.disabled = false; button.focus(); }
  }
  form.addEventListener("submit", run);
  form.scenario.addEventListener("change", () => {
    const opt = form.scenario.selectedOptions[0];
    if (opt && opt.dataset.days) form.days.value = opt.dataset.days;
    document.querySelectorAll("#sim-help p").forEach((p) => { p.hidden = p.dataset.for !== form.scenario.value; });
  });
  runs.addEventListener("change", redraw);
  redraw();
})();
