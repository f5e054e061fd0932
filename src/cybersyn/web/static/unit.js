// Unit page: each indicator as a small multiple (uPlot): the series, the monitor's forecast
// band when the monitor is installed, and its regime probabilities under the chart.
(function () {
  "use strict";
  const box = document.getElementById("multiples");
  const data = document.getElementById("charts-data");
  if (!box || !data || !window.uPlot) return;
  const charts = JSON.parse(data.textContent);
  const monitor = box.dataset.monitor === "yes";
  const REGIMES = { steady: "#3fb27f", step: "#f0b429", slope: "#62b0ff", transient: "#ef4e4e" };

  function seconds(iso) { return Date.parse(iso) / 1000; }
  function card(c) {
    const div = document.createElement("div"); div.className = "chart"; div.id = "chart-" + c.id;
    const h = document.createElement("h3");
    h.textContent = c.unit + " — " + c.name + " (" + c.uom + ")";
    div.appendChild(h); box.appendChild(div); return div;
  }
  function draw(div, c, s) {
    const x = s.t.map(seconds);
    const series = [{}, { label: "observed", stroke: "#9cc9ff", width: 1.5 }];
    const cols = [x, s.y];
    if (s.lower && s.upper) {
      series.push({ label: "forecast low", stroke: "rgba(240,180,41,.6)", dash: [4, 3] },
                  { label: "forecast high", stroke: "rgba(240,180,41,.6)", dash: [4, 3] });
      cols.push(s.lower, s.upper);
    }
    if (c.capability) {
      series.push({ label: "capability", stroke: "rgba(63,178,127,.7)", dash: [2, 4] });
      cols.push(x.map(() => c.capability));
    }
    const opts = { width: 320, height: 150, series: series, legend: { show: false },
      axes: [{ stroke: "#8fa1b3", grid: { stroke: "#24313f" } },
             { stroke: "#8fa1b3", grid: { stroke: "#24313f" }, size: 44 }] };
    if (x.length) new window.uPlot(opts, cols, div);
    else { const p = document.createElement("p"); p.className = "muted"; p.textContent = "no observations yet"; div.appendChild(p); }
    if (s.probs && x.length) probChart(div, x, s.probs);
    if (s.regimes) regimes(div, s.regimes);
  }
  function regimes(div, probs) {
    const bar = document.createElement("div"); bar.className = "regimes";
    bar.setAttribute("role", "img");
    const parts = Object.keys(probs).map((k) => k + " " + Math.round(probs[k] * 100) + "%");
    bar.setAttribute("aria-label", "regime probabilities: " + parts.join(", "));
    Object.keys(probs).forEach((k) => {
      const s = document.createElement("span");
      s.style.width = (probs[k] * 100) + "%"; s.style.background = REGIMES[k] || "#888";
      bar.appendChild(s);
    });
    const legend = document.createElement("div"); legend.className = "regimes-legend";
    legend.textContent = parts.join(" · ");
    div.append(bar, legend);
  }
  // GET /api/v1/indicators/{id}/series (monitor): {indicator, points: [{time, value,
  // forecast, lower, upper, p_steady, p_step, p_slope, p_transient, score}]}
  async function fromMonitor(c) {
    const r = await fetch("/api/v1/indicators/" + encodeURIComponent(c.id) + "/series?limit=120");
    if (!r.ok) return null;
    const pts = (await r.json()).points || [];
    if (!pts.length) return null;
    const col = (k) => pts.map((p) => p[k]);
    const last = pts[pts.length - 1];
    return { t: col("time"), y: col("value"), lower: col("lower"), upper: col("upper"),
      probs: { step: col("p_step"), slope: col("p_slope"), transient: col("p_transient") },
      regimes: { steady: last.p_steady, step: last.p_step, slope: last.p_slope,
                 transient: last.p_transient } };
  }
  function probChart(div, x, probs) {
    const names = Object.keys(probs);
    const opts = { width: 320, height: 70, legend: { show: false },
      scales: { y: { range: [0, 1] } },
      series: [{}].concat(names.map((k) => ({ label: "P(" + k + ")", stroke: REGIMES[k], width: 1 }))),
      axes: [{ show: false }, { stroke: "#8fa1b3", size: 44, splits: [0, 0.5, 1],
               grid: { stroke: "#24313f" } }] };
    new window.uPlot(opts, [x].concat(names.map((k) => probs[k])), div);
  }
  function renderAll() {
    box.replaceChildren();
    charts.forEach(async (c) => {
      const div = card(c);
      let s = { t: c.t, y: c.y };
      if (monitor) { try { s = (await fromMonitor(c)) || s; } catch (e) { /* raw series */ } }
      draw(div, c, s);
      div.dataset.points = String(s.t.length);
    });
  }
  renderAll();
  // New observations filtered by the live loop: redraw from the monitor, no reload.
  let latest = null;
  if (window.EventSource && monitor) {
    const es = new EventSource("/api/v1/opsroom/stream");
    es.addEventListener("state", (ev) => {
      const now = JSON.parse(ev.data).latest_observation_at;
      // now, and again once the live loop (every ~5 s) has filtered the new readings
      if (latest !== null && now !== latest) { renderAll(); setTimeout(renderAll, 6000); }
      latest = now;
    });
    window.addEventListener("pagehide", () => es.close());
  }
})();
