// Councils page: the convergence chart of participatory planning (uPlot, log scale), and
// voting: a member's yes/no/abstain button POSTs the ballot; the server checks membership.
(function () {
  "use strict";
  const data = document.getElementById("rounds-data");
  const box = document.getElementById("convergence");
  if (data && box && window.uPlot) {
    const r = JSON.parse(data.textContent);
    const y = r.max_excess_pct.map((v) => Math.max(v, 1e-4));
    const opts = { width: Math.min(720, Math.max(320, box.clientWidth - 16)), height: 240,
      scales: { x: { time: false }, y: { distr: 3 } }, legend: { show: false },
      series: [{ label: "round" }, { label: "largest excess demand %", stroke: "#f0b429", width: 2,
                                    points: { show: true, size: 4 } }],
      axes: [{ stroke: "#8fa1b3", grid: { stroke: "#24313f" }, label: "round", incrs: [1, 2, 5, 10, 20, 50] },
             { stroke: "#8fa1b3", grid: { stroke: "#24313f" }, size: 56 }] };
    new window.uPlot(opts, [r.number, y], box);
  }
  const table = document.getElementById("proposals");
  const status = document.getElementById("vote-status");
  if (!table) return;
  table.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-choice]");
    if (!button) return;
    const row = button.closest("tr");
    const choice = button.dataset.choice;
    const r = await fetch("/api/v1/votes", { method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ proposal_id: row.dataset.id, choice: choice }) });
    const out = await r.json().catch(() => ({}));
    if (!r.ok) { status.textContent = "vote refused: " + (out.detail || r.status); return; }
    row.querySelectorAll("button[data-choice]").forEach((b) =>
      b.setAttribute("aria-pressed", String(b.dataset.choice === choice)));
    const t = out.tally || out;
    if (t && t.yes !== undefined) row.querySelector(".tally").textContent = t.yes + " / " + t.no + " / " + t.abstain;
    status.textContent = "your vote on " + row.cells[1].textContent.trim() + ": " + choice;
  });
})();
