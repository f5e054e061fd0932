// Overview: the recursion tree as a WAI-ARIA tree (roving tabindex, arrow keys), a search
// filter, and live unit states from the server-sent event stream /api/v1/opsroom/stream.
(function () {
  "use strict";
  const tree = document.querySelector('[role="tree"]');
  if (!tree) return;
  const items = Array.from(tree.querySelectorAll('[role="treeitem"]'));

  let current = items[0];
  if (current) current.tabIndex = 0;

  function visible(li) { return li.offsetParent !== null; }
  function visibleItems() { return items.filter(visible); }
  function parentItem(li) { return li.parentElement.closest('[role="treeitem"]'); }
  function focus(li) {
    if (!li) return;
    current.tabIndex = -1; li.tabIndex = 0; current = li; li.focus();
  }
  function setExpanded(li, open) {
    if (li.hasAttribute("aria-expanded")) li.setAttribute("aria-expanded", open ? "true" : "false");
  }
  tree.addEventListener("keydown", (ev) => {
    const li = ev.target.closest('[role="treeitem"]');
    if (!li) return;
    const vis = visibleItems(); const k = vis.indexOf(li);
    const open = li.getAttribute("aria-expanded");
    switch (ev.key) {
      case "ArrowDown": focus(vis[k + 1]); break;
      case "ArrowUp": focus(vis[k - 1]); break;
      case "Home": focus(vis[0]); break;
      case "End": focus(vis[vis.length - 1]); break;
      case "ArrowRight":
        if (open === "false") setExpanded(li, true);
        else if (open === "true") focus(li.querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (open === "true") setExpanded(li, false); else focus(parentItem(li));
        break;
      case "Enter": window.location.href = li.querySelector("a").href; break;
      default: return;
    }
    ev.preventDefault();
  });
  tree.addEventListener("click", (ev) => {
    const li = ev.target.closest('[role="treeitem"]');
    if (!li || ev.target.closest("a")) return;
    focus(li);
    const open = li.getAttribute("aria-expanded");
    if (open) setExpanded(li, open === "false");
  });

  const search = document.getElementById("search");
  const count = document.getElementById("search-count");
  let timer = null;
  function filter() {
    const q = search.value.trim().toLowerCase();
    items.forEach((li) => li.classList.remove("nomatch", "match"));
    if (!q) { count.textContent = ""; return; }
    const keep = new Set();
    let n = 0;
    items.forEach((li) => {
      if (!li.dataset.q.includes(q)) return;
      n += 1; li.classList.add("match");
      for (let p = li; p; p = parentItem(p)) {
        if (keep.has(p)) break;
        keep.add(p); if (p !== li) setExpanded(p, true);
      }
    });
    items.forEach((li) => { if (!keep.has(li)) li.classList.add("nomatch"); });
    count.textContent = n + (n === 1 ? " unit" : " units") + " found";
    const first = items.find((li) => li.classList.contains("match"));
    if (first) { current.tabIndex = -1; first.tabIndex = 0; current = first; }
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(filter, 120); });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "Enter") { ev.preventDefault(); focus(current); }
  });

  function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }
  function applyState(s) {
    let warn = 0, alarm = 0;
    items.forEach((li) => {
      const st = s.states[li.dataset.id] || "steady";
      if (st === "warning") warn += 1; else if (st === "alarm") alarm += 1;
      if (!li.classList.contains(st)) {
        li.classList.remove("steady", "warning", "alarm"); li.classList.add(st);
        const dot = li.querySelector(".dot"); dot.className = "dot " + st; dot.title = st;
        const small = li.querySelector(".row small");
        small.textContent = small.textContent.replace(/(steady|warning|alarm)$/, st);
      }
      const n = s.below[li.dataset.id] || 0;
      let badge = li.querySelector(":scope > .row .badge");
      if (n && !badge) {
        badge = document.createElement("span"); badge.className = "badge";
        badge.title = "open alerts in this subtree"; li.querySelector(".row").appendChild(badge);
      }
      if (badge) { if (n) badge.textContent = n; else badge.remove(); }
    });
    setText("n-steady", items.length - warn - alarm); setText("n-warning", warn);
    setText("n-alarm", alarm); setText("n-alerts", s.open_alerts);
    setText("latest", s.latest_observation_at || "none yet");
    const lv = document.getElementById("by-level");
    lv.replaceChildren(...Object.keys(s.alerts_by_level).sort().map((k) => {
      const e = document.createElement("span"); e.className = "lvl";
      e.textContent = k + ": " + s.alerts_by_level[k]; return e;
    }));
  }
  if (window.EventSource) {
    const es = new EventSource("/api/v1/opsroom/stream");
    es.addEventListener("state", (ev) => applyState(JSON.parse(ev.data)));
    window.addEventListener("pagehide", () => es.close());
  }

})();
