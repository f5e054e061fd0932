// Councils page: the convergence chart of participatory planning (uPlot, log scale).
// Voting is a plain form (POST /councils/proposals/{id}/vote): no script needed.
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
})();
